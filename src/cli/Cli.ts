/**
 * The command line, built with @effect/cli: the root command syncs (as the original tool
 * did), with the subcommands `plan`, `pin`, `export`, `verify` and `schema`, one module each in
 * src/cli/commands. Flags and their environment variables are in Flags.ts and Config.ts.
 */
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { Env } from "./Config.ts"
import { InvalidInput } from "./Errors.ts"
import { imagesFile, syncOptions } from "./Flags.ts"
import { exportCommand } from "./commands/Export.ts"
import { pinCommand } from "./commands/Pin.ts"
import { planCommand } from "./commands/Plan.ts"
import { schemaCommand } from "./commands/Schema.ts"
import { runSync } from "./commands/Sync.ts"
import { verifyCommand } from "./commands/Verify.ts"
import { VERSION } from "./Version.ts"

/**
 * The root command: `image-syncer [flags]` syncs. Its `--images-file` is optional to the parser
 * only (so that a subcommand's flags need not satisfy the root's) and required here.
 */
export const command = Command.make("image-syncer", { ...syncOptions, imagesFile: Options.optional(imagesFile) }, (flags) =>
  Option.match(flags.imagesFile, {
    onNone: () =>
      Effect.fail(
        new InvalidInput({ message: `missing --images-file (or ${Env.imagesFile}): the YAML definition file listing the images to sync; see --help` })
      ),
    onSome: (file) => runSync({ ...flags, imagesFile: file })
  })).pipe(
    Command.withDescription("Copies container images into your registry only when absent; target tags are immutable."),
    Command.withSubcommands([planCommand, pinCommand, exportCommand, verifyCommand, schemaCommand])
  )

/** Parses argv and runs the root command or a subcommand. */
export const run = Command.run(command, { name: "image-syncer", version: VERSION })

/** Flags that take a value (so the next argument is not a flag of its own). */
const valueFlags = new Set([
  "--images-file",
  "-i",
  "--target-repo-auth-key",
  "-t",
  "--access-token",
  "-a",
  "--target-repo-prefix",
  "-r",
  "--report",
  "--concurrency",
  "-j",
  "--log-level",
  "--sign-key",
  "--key",
  "--transport",
  "--from",
  "--to",
  "--auth-plugin",
  "--output",
  "--junit",
  "--shard",
  "--signature-format"
])
/** Flags without a value, including @effect/cli's built-ins. */
const switchFlags = new Set(["--dry-run", "--check", "--debug", "--sign-recursive", "--attest", "--help", "-h", "--version", "--wizard", "--completions"])

/**
 * The first unknown flag in argv, if any. @effect/cli stops reading options at an unknown
 * leading flag and then complains about a missing required one, which misleads; we name it.
 */
export const unknownFlag = (args: ReadonlyArray<string>): string | undefined => {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--") return undefined
    if (!arg.startsWith("-") || arg === "-") continue
    const name = arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg
    if (valueFlags.has(name)) {
      if (!arg.includes("=")) i++
      continue
    }
    if (!switchFlags.has(name)) return name
  }
  return undefined
}
