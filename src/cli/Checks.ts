/**
 * Checks of the flags that need more than their type, done before anything is contacted:
 * each failure is an invalid invocation (exit 2) naming the flag.
 */
import { Effect, Either, Option, Redacted } from "effect"
import { existsSync, realpathSync, statSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { isKmsReference } from "../composition/SignerLoader.ts"
import type { Definition } from "../definition/Definition.ts"
import { isModulePath } from "../model/ModulePath.ts"
import { parseShard } from "../definition/Shard.ts"
import type { Shard } from "../definition/Shard.ts"
import { MAX_CONCURRENCY } from "../pipeline/SyncSettings.ts"
import { Env } from "./Config.ts"
import { InvalidInput } from "./Errors.ts"
import type { SyncFlags } from "./Flags.ts"

/** `--concurrency` within 1…MAX_CONCURRENCY. */
export const checkConcurrency = (n: number): Effect.Effect<void, InvalidInput> =>
  Number.isInteger(n) && n >= 1 && n <= MAX_CONCURRENCY
    ? Effect.void
    : Effect.fail(new InvalidInput({ message: `--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY} (got ${n})` }))

/** The target credentials of the flags: at most one of key file and token, and a token that can go in a header. */
export const checkTargetCredentials = (flags: {
  readonly targetRepoAuthKey: Option.Option<string>
  readonly accessToken: Option.Option<Redacted.Redacted<string>>
}): Effect.Effect<void, InvalidInput> => {
  if (Option.isSome(flags.targetRepoAuthKey) && Option.isSome(flags.accessToken)) {
    return Effect.fail(new InvalidInput({ message: "use either --target-repo-auth-key or --access-token, not both" }))
  }
  if (Option.isNone(flags.accessToken)) return Effect.void
  const token = Redacted.value(flags.accessToken.value)
  if (token.trim() === "") return Effect.fail(new InvalidInput({ message: "--access-token is empty" }))
  // A line break would end the Authorization header early; never worth a request.
  if (/[\u0000-\u001f\u007f]/.test(token)) {
    return Effect.fail(
      new InvalidInput({ message: `--access-token (${Env.accessToken}) contains a control character such as a line break; give the token alone` })
    )
  }
  return Effect.void
}

/** `--shard I/N`, parsed. */
export const checkShard = (flag: Option.Option<string>): Effect.Effect<Option.Option<Shard>, InvalidInput> =>
  Option.match(flag, {
    onNone: () => Effect.succeed(Option.none()),
    onSome: (text) =>
      Either.match(parseShard(text), {
        onLeft: (reason) => Effect.fail(new InvalidInput({ message: `--shard ${text}: ${reason}` })),
        onRight: (s) => Effect.succeed(Option.some(s))
      })
  })

/** `--attest` signs its attestations: it needs `--sign-key`. */
export const checkAttest = (flags: Pick<SyncFlags, "attest" | "signKey">): Effect.Effect<void, InvalidInput> =>
  flags.attest && Option.isNone(flags.signKey)
    ? Effect.fail(
      new InvalidInput({
        message:
          `--attest (${Env.attest}) needs --sign-key (${Env.signKey}): the provenance attestation is signed with that key; give a key or leave --attest out`
      })
    )
    : Effect.void

/** `--from` reads sources from a layout: no `--transport` beside it. */
export const checkFrom = (flags: Pick<SyncFlags, "from" | "transport">): Effect.Effect<void, InvalidInput> =>
  Option.isSome(flags.from) && flags.transport !== "oci"
    ? Effect.fail(new InvalidInput({ message: "--from reads sources from a layout; it cannot be combined with --transport" }))
    : Effect.void

/**
 * `platforms` on an index needs a transport that writes an index of its own (oci, `--from`):
 * skopeo and crane copy an index whole, so with them the entry is refused before any request.
 */
export const checkPlatformSubsets = (
  definition: Pick<Definition, "file" | "images">,
  transport: { readonly name: string; readonly ownIndexes: boolean }
): Effect.Effect<void, InvalidInput> => {
  if (transport.ownIndexes) return Effect.void
  const subsets = definition.images.filter((e) => e.platforms !== undefined)
  if (subsets.length === 0) return Effect.void
  const listed = subsets.slice(0, 3).map((e) => `${definition.file}:${e.line}:${e.column}: images[${e.index}] (${e.source})`)
  const more = subsets.length > 3 ? ` and ${subsets.length - 3} more` : ""
  return Effect.fail(
    new InvalidInput({
      message: `transport ${transport.name} copies an index whole and cannot write a platform subset; ` +
        `\`platforms\` is set for ${listed.join(", ")}${more}: use --transport oci, or remove \`platforms\``
    })
  )
}

/** A path as the file system names it (symlinks followed when it exists), to compare paths. */
const canonical = (path: string): string => {
  const absolute = resolve(path)
  try {
    return realpathSync(absolute)
  } catch {
    return absolute
  }
}

/**
 * Output files must not overwrite an input (the definition, a key, a layout, a plugin) or each
 * other, and their directory must exist.
 */
export const checkOutputPaths = (flags: SyncFlags): Effect.Effect<void, InvalidInput> =>
  Effect.gen(function*() {
    const inputs: Array<readonly [string, string]> = [["--images-file", flags.imagesFile]]
    if (Option.isSome(flags.targetRepoAuthKey)) inputs.push(["--target-repo-auth-key", flags.targetRepoAuthKey.value])
    if (Option.isSome(flags.signKey) && !isKmsReference(flags.signKey.value)) inputs.push(["--sign-key", flags.signKey.value])
    if (Option.isSome(flags.from)) inputs.push(["--from", flags.from.value])
    for (const plugin of flags.authPlugin) inputs.push(["--auth-plugin", plugin])
    if (isModulePath(flags.transport)) inputs.push(["--transport", flags.transport])
    const outputs: Array<readonly [string, string]> = []
    if (Option.isSome(flags.report)) outputs.push(["--report", flags.report.value])
    if (Option.isSome(flags.junit)) outputs.push(["--junit", flags.junit.value])
    for (const [flag, path] of outputs) {
      const dir = dirname(resolve(path))
      if (!existsSync(dir) || !statSync(dir).isDirectory()) {
        return yield* new InvalidInput({ message: `${flag} ${path}: directory ${dir} does not exist` })
      }
      const input = inputs.find(([, other]) => canonical(other) === canonical(path))
      if (input) return yield* new InvalidInput({ message: `${flag} ${path} is also given as ${input[0]}; writing it would destroy that input` })
    }
    if (outputs.length === 2 && canonical(outputs[0]![1]) === canonical(outputs[1]![1])) {
      return yield* new InvalidInput({ message: `--report and --junit name the same file ${outputs[0]![1]}` })
    }
  })
