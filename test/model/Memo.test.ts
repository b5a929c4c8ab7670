/** makeMemo: work shared by key; a failure (or defect) forgotten so the next caller tries again, unless failures are kept. */
import { describe, expect, test } from "bun:test"
import { Deferred, Effect, Exit, Fiber } from "effect"
import { makeMemo } from "../../src/model/Memo.ts"

describe("Memo", () => {
  test("callers of one key share one run, started when the first asks; other keys run their own", async () => {
    const runs: Array<string> = []
    const memo = makeMemo<string, never>()
    const work = (key: string) => () => Effect.sync(() => (runs.push(key), key.toUpperCase())).pipe(Effect.delay("2 millis"))
    expect(memo.find("a")).toBeUndefined()
    const results = await Effect.runPromise(
      Effect.all([memo.get("a", work("a")), memo.get("a", work("a")), memo.get("b", work("b"))], { concurrency: "unbounded" })
    )
    expect(results).toEqual(["A", "A", "B"])
    expect(runs).toEqual(["a", "b"])
    expect(memo.known("a")).toBe("A")
    expect(await Effect.runPromise(memo.get("a", work("a")))).toBe("A")
    expect(runs).toEqual(["a", "b"])
  })

  test("find waits for work in the making and starts none", async () => {
    const memo = makeMemo<number, never>()
    const exit = await Effect.runPromise(Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const first = yield* Effect.fork(memo.get("k", () => Effect.as(Deferred.await(gate), 7)))
      const waiting = yield* Effect.fork(memo.find("k")!)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(first)
      return yield* Fiber.await(waiting)
    }))
    expect(exit).toEqual(Exit.succeed(7))
    expect(memo.find("other")).toBeUndefined()
  })

  test("a failure reaches every waiting caller, then is forgotten: the next caller runs the work again", async () => {
    let runs = 0
    const memo = makeMemo<string, string>()
    const work = () => Effect.suspend(() => (++runs === 1 ? Effect.fail("broken") : Effect.succeed("fine")))
    const first = await Effect.runPromise(Effect.all([Effect.flip(memo.get("k", work)), Effect.flip(memo.get("k", work))], { concurrency: "unbounded" }))
    expect(first).toEqual(["broken", "broken"])
    expect(memo.find("k")).toBeUndefined()
    expect(await Effect.runPromise(memo.get("k", work))).toBe("fine")
    expect(runs).toBe(2)
  })

  test("a defect is forgotten too", async () => {
    let runs = 0
    const memo = makeMemo<string, never>()
    const work = () => Effect.suspend(() => (++runs === 1 ? Effect.die(new Error("bug")) : Effect.succeed("fine")))
    const exit = await Effect.runPromiseExit(memo.get("k", work))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(await Effect.runPromise(memo.get("k", work))).toBe("fine")
    expect(runs).toBe(2)
  })

  test("keepFailures: a failed key answers with its failure without running the work again", async () => {
    let runs = 0
    const memo = makeMemo<string, string>({ keepFailures: true })
    const work = () => Effect.suspend(() => (++runs, Effect.fail("refused")))
    expect(await Effect.runPromise(Effect.flip(memo.get("k", work)))).toBe("refused")
    expect(await Effect.runPromise(Effect.flip(memo.get("k", work)))).toBe("refused")
    expect(runs).toBe(1)
  })

  test("forget: the next caller makes the value again", async () => {
    let runs = 0
    const memo = makeMemo<number, never>()
    const work = () => Effect.sync(() => ++runs)
    expect(await Effect.runPromise(memo.get("k", work))).toBe(1)
    memo.forget("k")
    expect(await Effect.runPromise(memo.get("k", work))).toBe(2)
  })
})
