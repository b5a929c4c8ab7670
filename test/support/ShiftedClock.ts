/**
 * An Effect Clock running at the wall clock's pace but shifted by an offset the test moves
 * forward: a token's expiry passes without waiting for it, while sleeps and timeouts stay real.
 * Stand-ins given `now` see the same time as the run.
 */
import { Clock, Duration, Effect } from "effect"

/** A clock and the handle that moves it. */
export interface ShiftedClock {
  readonly clock: Clock.Clock
  /** the shifted time (epoch ms), for stand-ins */
  readonly now: () => number
  /** moves the clock forward */
  readonly advance: (by: Duration.DurationInput) => void
}

/** A clock at the wall clock's time until `advance` is called. */
export const shiftedClock = (): ShiftedClock => {
  const base = Clock.make()
  let offsetMs = 0
  const now = () => Date.now() + offsetMs
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: now,
    currentTimeMillis: Effect.sync(now),
    unsafeCurrentTimeNanos: () => base.unsafeCurrentTimeNanos() + BigInt(offsetMs) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => base.unsafeCurrentTimeNanos() + BigInt(offsetMs) * 1_000_000n),
    sleep: (duration) => base.sleep(duration)
  }
  return { clock, now, advance: (by) => void (offsetMs += Duration.toMillis(Duration.decode(by))) }
}
