/** `image-syncer plan`: a dry run that also says how big each image to copy is. */
import { Command } from "@effect/cli"
import { syncOptions } from "../Flags.ts"
import { runSync } from "./Sync.ts"

/** The plan command. */
export const planCommand = Command.make("plan", syncOptions, (flags) => runSync({ ...flags, dryRun: true }, true)).pipe(
  Command.withDescription("Shows what a sync would copy, with sizes; writes nothing (a dry run).")
)
