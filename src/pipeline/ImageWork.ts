/**
 * One image's work as a run sees it, for the sync and the export alike: it never fails the
 * run — its errors become its result, and a bug in it (a defect) becomes that image's failure,
 * reported like any other — and its logs name the image.
 */
import { Cause, Effect } from "effect"

/** How a bug in one image's work reads in its result: the first line of the defect. */
export const internalError = (defect: unknown): string => `internal error: ${Cause.pretty(Cause.die(defect)).split("\n")[0]}`

/** `work` (whose errors are already its results) with a defect turned into `onDefect`'s result and its logs annotated with `source`. */
export const imageWork = <A, R>(source: string, work: Effect.Effect<A, never, R>, onDefect: (message: string) => A): Effect.Effect<A, never, R> =>
  work.pipe(
    Effect.catchAllDefect((defect) => Effect.succeed(onDefect(internalError(defect)))),
    Effect.annotateLogs("image", source)
  )
