/** `image-syncer export --images-file F --to DIR|FILE.tar` (placeholder until implemented). */
import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { InvalidInput } from "./Cli.ts"

/** The export command. */
export const exportCommand = Command.make(
  "export",
  { imagesFile: Options.text("images-file").pipe(Options.withAlias("i")), to: Options.text("to") },
  () => Effect.fail(new InvalidInput({ message: "export is not implemented yet" }))
)
