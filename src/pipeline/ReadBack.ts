/**
 * The end-of-run read-back: every tag the run wrote is read once more when the run's work is
 * done, a second look. A tag another writer replaced meanwhile makes its image a conflict; a
 * tag that cannot be read leaves the image synced, with a warning saying so.
 */
import { Effect, Option } from "effect"
import { TagTaken } from "../model/Errors.ts"
import { describeLocation } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import type { ImageResult } from "../model/Result.ts"
import type { CheckTarget } from "./CheckTarget.ts"

/** The warning of a written tag the run did not get to read back. */
export const NOT_READ_BACK = "not read back at the end: the run was interrupted"

/** The last word on a tag this run wrote (`written`, whose image's result is `result`): the same result when nothing changed. */
export const readBack = (checkTarget: CheckTarget["Type"], written: ImageLocation, result: ImageResult): Effect.Effect<ImageResult> =>
  checkTarget.check({ target: written }).pipe(
    Effect.map((now): ImageResult => {
      const found = Option.match(now, { onNone: () => "(nothing)", onSome: (d) => d.digest })
      if (found === result.digest) return result
      const e = new TagTaken({ target: describeLocation(written), expected: result.digest ?? "", found, when: "replaced" })
      return { ...result, status: "conflict", error: e.message, errorType: e._tag }
    }),
    Effect.catchAll((e) => {
      const warning = `the tag could not be read back at the end of the run: ${e.message}`
      return Effect.as(Effect.logWarning(`${result.source}: ${warning}`), { ...result, warnings: [...result.warnings, warning] })
    })
  )

/** A written image's result when the run was interrupted before its read-back. */
export const notReadBack = (result: ImageResult): ImageResult => ({ ...result, warnings: [...result.warnings, NOT_READ_BACK] })
