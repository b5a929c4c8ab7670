/**
 * Work done once and shared by every caller (a registry ping, a blob upload many images
 * need). It runs in a fiber of its own, so a caller that is interrupted — an image that
 * failed, a sibling request that lost a race — only stops waiting, and the work goes on for
 * the others. `Effect.cached` would hand the first caller's interruption to every caller.
 */
import { Deferred, Effect, FiberId } from "effect"

/** An effect that runs `work` on its first use only; every use waits for that one result. */
export const shareOnce = <A, E>(work: Effect.Effect<A, E>): Effect.Effect<A, E> => {
  const result = Deferred.unsafeMake<A, E>(FiberId.none)
  let started = false
  return Effect.suspend(() => {
    if (started) return Deferred.await(result)
    // set before any yield, so a second caller in the same tick waits instead of starting again
    started = true
    // the forked fiber inherits the first caller's log settings and progress reporter
    return Effect.forkDaemon(Effect.intoDeferred(work, result)).pipe(Effect.zipRight(Deferred.await(result)))
  })
}
