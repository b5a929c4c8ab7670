/** The per-host limit: never more than N at once, waiters served in arrival order, no permit lost to an interruption. */
import { describe, expect, test } from "bun:test"
import { Deferred, Effect, Fiber } from "effect"
import { makeLimit } from "../../../src/oci/http/HostLimit.ts"

describe("makeLimit", () => {
  test("at most N run at once; the rest start in the order they arrived", async () => {
    const limit = makeLimit(2)
    const order: Array<number> = []
    let running = 0
    let peak = 0
    const job = (n: number) =>
      limit.withPermit(Effect.gen(function*() {
        running++
        peak = Math.max(peak, running)
        order.push(n)
        yield* Effect.yieldNow()
        running--
      }))
    await Effect.runPromise(Effect.forEach([1, 2, 3, 4, 5, 6], job, { concurrency: "unbounded", discard: true }))
    expect(peak).toBe(2)
    expect(order).toEqual([1, 2, 3, 4, 5, 6])
    expect(limit.free()).toBe(2)
  })

  test("a waiter interrupted while queued leaves the queue; one interrupted after its permit was handed over gives it back", async () => {
    const limit = makeLimit(1)
    const program = Effect.gen(function*() {
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(limit.withPermit(Deferred.await(release)))
      yield* Effect.yieldNow()
      const waiter = yield* Effect.fork(limit.withPermit(Effect.never))
      yield* Effect.yieldNow()
      expect(limit.waiting()).toBe(1)
      yield* Fiber.interrupt(waiter)
      expect(limit.waiting()).toBe(0)
      // the permit comes back when the holder ends, and a new job gets it
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      expect(limit.free()).toBe(1)
      // handed over, then interrupted before running: the permit is not lost
      const second = yield* Deferred.make<void>()
      const holder2 = yield* Effect.fork(limit.withPermit(Deferred.await(second)))
      yield* Effect.yieldNow()
      const late = yield* Effect.fork(limit.withPermit(Effect.void))
      yield* Effect.yieldNow()
      yield* Deferred.succeed(second, undefined)
      yield* Fiber.interrupt(late)
      yield* Fiber.join(holder2)
      return limit.free()
    })
    expect(await Effect.runPromise(program)).toBe(1)
  })

  test("2,000 waiters on 4 permits all run, and every permit comes back", async () => {
    const limit = makeLimit(4)
    let calls = 0
    await Effect.runPromise(
      Effect.forEach(Array.from({ length: 2000 }, (_, i) => i), () => limit.withPermit(Effect.sync(() => calls++)), {
        concurrency: "unbounded",
        discard: true
      })
    )
    expect(calls).toBe(2000)
    expect(limit.free()).toBe(4)
    expect(limit.waiting()).toBe(0)
  })
})
