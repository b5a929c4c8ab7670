import { describe, expect, test } from "bun:test"
import { Duration, Effect, Exit, Fiber, Schedule, ScheduleDecision, ScheduleIntervals, TestClock, TestContext } from "effect"
import { defaultRetrySettings, parseRetryAfter, Retryable, retrySchedule, withRetry } from "../../../src/oci/http/RetryPolicy.ts"
import type { RetrySettings } from "../../../src/oci/http/RetryPolicy.ts"

const settings: RetrySettings = {
  attempts: 4,
  baseDelay: "100 millis",
  maxDelay: "1 second",
  maxRetryAfter: "60 seconds",
  maxTotal: "3 minutes"
}

const retryable = (retryAfter?: Duration.DurationInput) =>
  new Retryable({ registry: "r.example", detail: "HTTP 503", retryAfter: retryAfter === undefined ? undefined : Duration.decode(retryAfter) })

/** Steps a schedule by hand on simulated time: the delay (ms) before each retry, until it is done. */
const delaysOf = <Out, In>(schedule: Schedule.Schedule<Out, In>, inputs: ReadonlyArray<In>): Array<number> =>
  Effect.runSync(
    Effect.gen(function*() {
      const delays: Array<number> = []
      let state = schedule.initial
      let now = 0
      for (const input of inputs) {
        const [next, , decision] = yield* schedule.step(now, input, state)
        if (ScheduleDecision.isDone(decision)) break
        const delay = ScheduleIntervals.start(decision.intervals) - now
        delays.push(delay)
        now += delay
        state = next
      }
      return delays
    })
  )

const inputs = (n: number, make: () => unknown = () => retryable()) => Array.from({ length: n }, make)

/** Runs an effect with the TestClock (time moves only when the test says so). */
const withTestClock = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect.pipe(Effect.provide(TestContext.TestContext)))

describe("parseRetryAfter", () => {
  test("delta-seconds", () => {
    expect(Duration.toMillis(parseRetryAfter("1")!)).toBe(1000)
    expect(Duration.toMillis(parseRetryAfter("120")!)).toBe(120_000)
    expect(Duration.toMillis(parseRetryAfter(" 3 ")!)).toBe(3000)
    expect(Duration.toMillis(parseRetryAfter("0")!)).toBe(0)
  })

  test("an HTTP date: the time from now until then", () => {
    const now = Date.UTC(2026, 10, 26, 15, 0, 0)
    const at = new Date(now + 7000).toUTCString()
    expect(Duration.toMillis(parseRetryAfter(at, now)!)).toBe(7000)
  })

  test("an HTTP date in the past means no extra wait", () => {
    const now = Date.UTC(2026, 10, 26, 15, 0, 0)
    expect(Duration.toMillis(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now)!)).toBe(0)
  })

  test("missing or unparseable values give undefined", () => {
    expect(parseRetryAfter(undefined)).toBeUndefined()
    expect(parseRetryAfter("")).toBeUndefined()
    expect(parseRetryAfter("soon")).toBeUndefined()
  })
})

describe("retrySchedule", () => {
  test("stops after `attempts` tries: attempts - 1 delays", () => {
    expect(delaysOf(retrySchedule(settings), inputs(20))).toHaveLength(3)
    expect(delaysOf(retrySchedule({ ...settings, attempts: 1 }), inputs(20))).toHaveLength(0)
    expect(delaysOf(retrySchedule(defaultRetrySettings), inputs(20))).toHaveLength(defaultRetrySettings.attempts - 1)
  })

  test("delays grow exponentially from baseDelay, jittered within ±20%", () => {
    const delays = delaysOf(retrySchedule(settings), inputs(20))
    delays.forEach((d, n) => {
      const nominal = 100 * 2 ** n
      expect(d).toBeGreaterThanOrEqual(nominal * 0.8)
      expect(d).toBeLessThanOrEqual(nominal * 1.2)
    })
  })

  test("no delay exceeds maxDelay", () => {
    const delays = delaysOf(retrySchedule({ ...settings, attempts: 12, maxDelay: "500 millis" }), inputs(20))
    expect(delays).toHaveLength(11)
    for (const d of delays) expect(d).toBeLessThanOrEqual(500.001)
    // from the fourth retry on the nominal delay (800 ms × 0.8 at least) is above the cap
    for (const d of delays.slice(3)) expect(d).toBeCloseTo(500, 3)
  })

  test("gives up once maxTotal has passed, whatever `attempts` says", () => {
    const delays = delaysOf(
      retrySchedule({ ...settings, attempts: 100, baseDelay: "1 second", maxDelay: "1 second", maxTotal: "5 seconds" }),
      inputs(100)
    )
    expect(delays.length).toBeLessThan(10)
    const beforeLast = delays.slice(0, -1).reduce((a, b) => a + b, 0)
    expect(beforeLast).toBeLessThan(5000)
  })

  test("a Retryable with retryAfter stretches the delay to it", () => {
    const delays = delaysOf(retrySchedule(settings), [retryable("5 seconds"), retryable(), retryable("2 seconds")])
    expect(delays[0]).toBeCloseTo(5000, 3)
    expect(delays[1]).toBeLessThanOrEqual(240)
    expect(delays[2]).toBeCloseTo(2000, 3)
  })

  test("a retryAfter shorter than the backoff does not shorten it", () => {
    const delays = delaysOf(retrySchedule({ ...settings, baseDelay: "10 seconds", maxDelay: "10 seconds" }), [retryable("1 second")])
    expect(delays[0]).toBeGreaterThanOrEqual(8000)
  })

  test("retryAfter is capped at maxRetryAfter", () => {
    const delays = delaysOf(retrySchedule(settings), [retryable("10 minutes")])
    expect(delays[0]).toBeCloseTo(60_000, 3)
  })

  test("inputs that are not Retryable get the plain backoff", () => {
    const delays = delaysOf(retrySchedule(settings), [new Error("other"), "x"])
    expect(delays[0]).toBeLessThanOrEqual(120)
    expect(delays[1]).toBeLessThanOrEqual(240)
  })
})

describe("withRetry", () => {
  test("tries a Retryable failure exactly `attempts` times, then fails with it", async () => {
    let tries = 0
    const failing = Effect.suspend(() => {
      tries++
      return Effect.fail(retryable())
    })
    const exit = await withTestClock(
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(Effect.exit(withRetry(settings)(failing)))
        yield* TestClock.adjust("10 minutes")
        return yield* Fiber.join(fiber)
      })
    )
    expect(tries).toBe(settings.attempts)
    expect(Exit.isFailure(exit)).toBe(true)
    if (Exit.isFailure(exit)) expect(String(exit.cause)).toContain("Retryable")
  })

  test("succeeds once a later try succeeds", async () => {
    let tries = 0
    const flaky = Effect.suspend(() => (++tries < 3 ? Effect.fail(retryable()) : Effect.succeed("ok")))
    const result = await withTestClock(
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(withRetry(settings)(flaky))
        yield* TestClock.adjust("10 minutes")
        return yield* Fiber.join(fiber)
      })
    )
    expect(result).toBe("ok")
    expect(tries).toBe(3)
  })

  test("other errors pass through at once, without a retry", async () => {
    let tries = 0
    const failing = Effect.suspend(() => {
      tries++
      return Effect.fail(new Error("not retryable"))
    })
    const exit = await withTestClock(Effect.exit(withRetry(settings)(failing)))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(tries).toBe(1)
  })

  test("the retry after a Retry-After of 5 s does not happen before 5 s have passed", async () => {
    let tries = 0
    const failing = Effect.suspend(() => (++tries === 1 ? Effect.fail(retryable("5 seconds")) : Effect.succeed("ok")))
    const seen = await withTestClock(
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(withRetry(settings)(failing))
        yield* TestClock.adjust("4900 millis")
        const before = tries
        yield* TestClock.adjust("100 millis")
        const result = yield* Fiber.join(fiber)
        return { before, after: tries, result }
      })
    )
    expect(seen).toEqual({ before: 1, after: 2, result: "ok" })
  })
})
