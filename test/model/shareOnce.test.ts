/** shareOnce: one run for every caller, and a caller's interruption is its own. */
import { describe, expect, test } from "bun:test"
import { Deferred, Effect, Exit, Fiber } from "effect"
import { shareOnce } from "../../src/model/shareOnce.ts"

describe("shareOnce", () => {
  test("concurrent callers share one run of the work", async () => {
    let runs = 0
    const shared = shareOnce(Effect.sync(() => ++runs).pipe(Effect.delay("5 millis")))
    const results = await Effect.runPromise(Effect.all([shared, shared, shared], { concurrency: "unbounded" }))
    expect(results).toEqual([1, 1, 1])
    expect(runs).toBe(1)
  })

  test("the first caller is interrupted while the work runs: the others still get its result", async () => {
    const exit = await Effect.runPromise(Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const shared = shareOnce(Deferred.await(gate).pipe(Effect.as("done")))
      const first = yield* Effect.fork(shared)
      const second = yield* Effect.fork(shared)
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(first)
      yield* Deferred.succeed(gate, undefined)
      return yield* Fiber.await(second)
    }))
    expect(exit).toEqual(Exit.succeed("done"))
  })

  test("a failure is shared too, without running the work again", async () => {
    let runs = 0
    const shared = shareOnce(Effect.suspend(() => {
      runs++
      return Effect.fail("broken" as const)
    }))
    const results = await Effect.runPromise(Effect.all([Effect.flip(shared), Effect.flip(shared)]))
    expect(results).toEqual(["broken", "broken"])
    expect(runs).toBe(1)
  })
})
