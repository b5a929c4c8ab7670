/**
 * The per-host request limit: at most N requests in flight to one registry host, the rest
 * wait in arrival order. A release hands its permit straight to the oldest waiter, so a
 * release wakes one fiber — Effect's Semaphore wakes every waiter on each release, which with
 * hundreds of images in flight cost more CPU and memory than the requests themselves.
 */
import { Effect } from "effect"

/** A FIFO limit on work in flight. */
export interface Limit {
  /** Runs `self` holding one permit; waits (interruptibly) while none is free. */
  readonly withPermit: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /**
   * Calls `granted` holding one permit (at once when one is free, else in turn), which the
   * holder gives back with `release`. The result stops waiting: true when the permit had not
   * been granted yet, false when it had (the holder must release it then). For callback code
   * (one exchange in one `Effect.async`) that would otherwise need a fiber step per request.
   */
  readonly acquire: (granted: () => void) => () => boolean
  /** gives back a permit that `acquire` granted */
  readonly release: () => void
  /** permits free now (for tests) */
  readonly free: () => number
  /** fibers waiting now (for tests) */
  readonly waiting: () => number
}

interface Waiter {
  granted: boolean
  wake: (() => void) | undefined
}

const NOT_WAITING = () => false

/** A limit of `permits` (at least 1). */
export const makeLimit = (permits: number): Limit => {
  let free = Math.max(1, Math.floor(permits))
  const queue: Array<Waiter> = []

  const release = () => {
    const next = queue.shift()
    if (next === undefined) {
      free++
      return
    }
    // The permit moves to the waiter without passing through `free`: no one can overtake it.
    next.granted = true
    next.wake?.()
  }
  const releaseEffect = Effect.sync(release)

  const withPermit = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.uninterruptibleMask((restore) => {
      if (free > 0) {
        free--
        return Effect.ensuring(restore(self), releaseEffect)
      }
      const waiter: Waiter = { granted: false, wake: undefined }
      queue.push(waiter)
      const wait = Effect.async<void>((resume) => {
        if (waiter.granted) return resume(Effect.void)
        waiter.wake = () => resume(Effect.void)
      })
      return Effect.matchCauseEffect(restore(wait), {
        // Interrupted while waiting: give back a permit handed over meanwhile, else leave the queue.
        onFailure: (cause) =>
          Effect.sync(() => {
            if (waiter.granted) release()
            else queue.splice(queue.indexOf(waiter), 1)
          }).pipe(Effect.zipRight(Effect.failCause(cause))),
        onSuccess: () => Effect.ensuring(restore(self), releaseEffect)
      })
    })

  const acquire = (granted: () => void): () => boolean => {
    if (free > 0) {
      free--
      granted()
      return NOT_WAITING
    }
    const waiter: Waiter = { granted: false, wake: granted }
    queue.push(waiter)
    return () => {
      if (waiter.granted) return false
      queue.splice(queue.indexOf(waiter), 1)
      return true
    }
  }

  return { withPermit, acquire, release, free: () => free, waiting: () => queue.length }
}
