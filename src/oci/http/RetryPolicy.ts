/**
 * The one retry policy: exponential backoff with jitter, capped delay, capped attempts and
 * total time, and `Retry-After` honoured up to a cap. Every idempotent registry request and
 * every blob copy goes through it.
 */
import { Data, Duration, Effect, Schedule } from "effect"

/** Tunables of the retry policy. */
export interface RetrySettings {
  /** total tries, including the first */
  readonly attempts: number
  readonly baseDelay: Duration.DurationInput
  readonly maxDelay: Duration.DurationInput
  /** the longest `Retry-After` we are willing to wait */
  readonly maxRetryAfter: Duration.DurationInput
  /** give up once this much time has passed since the first try */
  readonly maxTotal: Duration.DurationInput
}

/** Defaults: 5 tries, 250 ms doubling to 8 s, Retry-After up to 60 s, 3 minutes in all. */
export const defaultRetrySettings: RetrySettings = {
  attempts: 5,
  baseDelay: "250 millis",
  maxDelay: "8 seconds",
  maxRetryAfter: "60 seconds",
  maxTotal: "3 minutes"
}

/** A failure worth another try (429, 5xx, connection error); `retryAfter` from the response if any. */
export class Retryable extends Data.TaggedError("Retryable")<{
  readonly registry: string
  readonly detail: string
  readonly retryAfter: Duration.Duration | undefined
}> {
  override get message() {
    return `${this.registry}: ${this.detail}`
  }
}

/** Statuses worth another try: 408, 429, 499 and 5xx but 501 and 505 (ggcr's list). */
export const retryableStatus = (s: number): boolean => s === 408 || s === 429 || s === 499 || (s >= 500 && s !== 501 && s !== 505)

/** Parses a `Retry-After` header: delta-seconds or an HTTP date (against `now`, from the Clock). */
export const parseRetryAfter = (value: string | undefined, now: number = Date.now()): Duration.Duration | undefined => {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Duration.seconds(Number(trimmed))
  const at = Date.parse(trimmed)
  if (Number.isNaN(at)) return undefined
  return Duration.millis(Math.max(0, at - now))
}

/** The schedule: jittered exponential, capped, and stretched to any `Retry-After` the error carries. */
export const retrySchedule = (settings: RetrySettings) =>
  Schedule.exponential(settings.baseDelay, 2).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((_, d) => Duration.min(d, Duration.decode(settings.maxDelay))),
    Schedule.intersect(Schedule.recurs(Math.max(0, settings.attempts - 1))),
    Schedule.upTo(settings.maxTotal),
    Schedule.intersect(Schedule.identity<unknown>()),
    Schedule.modifyDelay(([, input], d) => {
      const after = input instanceof Retryable ? input.retryAfter : undefined
      return after ? Duration.max(d, Duration.min(after, Duration.decode(settings.maxRetryAfter))) : d
    })
  )

/** Retries `Retryable` failures with the policy; other errors pass through at once. */
export const withRetry = (settings: RetrySettings) => {
  const retried = retryThen(settings)
  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => retried(self, (e) => e as unknown as E) as Effect.Effect<A, E, R>
}

const isRetryable = (e: unknown): e is Retryable => e instanceof Retryable

/**
 * `withRetry`, with the Retryable that ends the tries turned into `last(e)` in the same step.
 * Entered only after a first failure, and the schedule built only then: setting one up costs
 * more CPU than a loopback request, and almost every request succeeds at once.
 */
export const retryThen = (settings: RetrySettings) => {
  let schedule: ReturnType<typeof retrySchedule> | undefined
  return <A, E, R, E2>(self: Effect.Effect<A, E, R>, last: (e: Retryable) => E2): Effect.Effect<A, Exclude<E, Retryable> | E2, R> =>
    Effect.catchIf(self, (e: E): boolean => isRetryable(e), (first) => {
      schedule ??= retrySchedule(settings)
      // The schedule sees the first failure as its own first try (its delay, its Retry-After).
      let replayed = false
      const again: Effect.Effect<A, E, R> = Effect.suspend(() => replayed ? self : ((replayed = true), Effect.fail(first)))
      return Effect.retry(again, { schedule: schedule!, while: (e: E) => isRetryable(e) }).pipe(
        Effect.catchIf((e: E): boolean => isRetryable(e), (e) => Effect.fail(last(e as E & Retryable)))
      )
    }) as Effect.Effect<A, Exclude<E, Retryable> | E2, R>
}
