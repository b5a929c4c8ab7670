/** The credential chain: order, one asking per host and side, answers kept until shortly before they expire (Effect's TestClock). */
import { describe, expect, test } from "bun:test"
import { Deferred, Effect, Either, Fiber, Option, Redacted, TestClock, TestContext } from "effect"
import { Credentials, CredentialsFailed, RENEW_BEFORE_MS } from "../../src/transport/Credentials.ts"
import type { Credential, CredentialProvider } from "../../src/transport/Credentials.ts"

/** A provider answering Basic "u:<n>" for `host`, counting its askings; `lifetimeMs` makes each answer expire that long after it is given. */
const counting = (host: string, lifetimeMs?: number) => {
  let asked = 0
  const provider: CredentialProvider = {
    name: "counting",
    lookup: (h) =>
      Effect.gen(function*() {
        if (h !== host) return Option.none<Credential>()
        asked++
        const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
        return Option.some<Credential>({
          _tag: "Basic",
          username: "u",
          password: Redacted.make(String(asked)),
          ...(lifetimeMs !== undefined ? { expiresAt: now + lifetimeMs } : {})
        })
      })
  }
  return { provider, asked: () => asked }
}

const passwordOf = (c: Option.Option<Credential>) => (Option.isSome(c) && c.value._tag === "Basic" ? Redacted.value(c.value.password) : undefined)

/** Runs `body` with the chain of `providers` on the TestClock. */
const withChain = <A, E>(providers: ReadonlyArray<CredentialProvider>, body: (lookup: Credentials["Type"]["lookup"]) => Effect.Effect<A, E>) =>
  Effect.runPromise(
    Effect.flatMap(Credentials, (c) => body(c.lookup)).pipe(Effect.provide(Credentials.chain(providers)), Effect.provide(TestContext.TestContext))
  )

describe("the chain", () => {
  test("the first provider that answers wins; none answering is anonymous", async () => {
    const a = counting("a.example")
    const b = counting("b.example")
    const [forA, forB, forC] = await withChain(
      [a.provider, b.provider],
      (lookup) => Effect.all([lookup("a.example", "target"), lookup("b.example", "target"), lookup("c.example", "target")])
    )
    expect([passwordOf(forA), passwordOf(forB), Option.isNone(forC)]).toEqual(["1", "1", true])
  })

  test("a lasting answer is kept for the run: the provider is asked once per host and side", async () => {
    const p = counting("reg.example")
    await withChain([p.provider], (lookup) =>
      Effect.gen(function*() {
        for (let i = 0; i < 5; i++) yield* lookup("reg.example", "target")
        yield* TestClock.adjust("30 days")
        yield* lookup("reg.example", "target")
        yield* lookup("reg.example", "source")
      }))
    expect(p.asked()).toBe(2)
  })

  test("concurrent lookups of one host share one asking", async () => {
    let asked = 0
    const answers = await Effect.runPromise(Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const slow: CredentialProvider = {
        name: "slow",
        lookup: () =>
          Effect.sync(() => asked++).pipe(
            Effect.zipRight(Deferred.await(gate)),
            Effect.as(Option.some<Credential>({ _tag: "Basic", username: "u", password: Redacted.make("p") }))
          )
      }
      return yield* Effect.flatMap(Credentials, (c) =>
        Effect.gen(function*() {
          const fibers = yield* Effect.forEach(Array.from({ length: 8 }), () => Effect.fork(c.lookup("reg.example", "target")))
          yield* Effect.yieldNow()
          yield* Deferred.succeed(gate, undefined)
          return yield* Fiber.joinAll(fibers)
        })).pipe(Effect.provide(Credentials.chain([slow])))
    }))
    expect(answers).toHaveLength(8)
    expect(asked).toBe(1)
  })

  test("an hour-long credential is asked for again five minutes before it expires, not before", async () => {
    const p = counting("reg.example", 60 * 60_000)
    const seen = await withChain([p.provider], (lookup) =>
      Effect.gen(function*() {
        const first = passwordOf(yield* lookup("reg.example", "target"))
        yield* TestClock.adjust(60 * 60_000 - RENEW_BEFORE_MS - 1)
        const still = passwordOf(yield* lookup("reg.example", "target"))
        yield* TestClock.adjust(1)
        const renewed = passwordOf(yield* lookup("reg.example", "target"))
        const kept = passwordOf(yield* lookup("reg.example", "target"))
        return [first, still, renewed, kept]
      }))
    expect(seen).toEqual(["1", "1", "2", "2"])
    expect(RENEW_BEFORE_MS).toBe(5 * 60_000)
  })

  test("a credential shorter-lived than that is used for half its life", async () => {
    const p = counting("reg.example", 2000)
    const seen = await withChain([p.provider], (lookup) =>
      Effect.gen(function*() {
        const first = passwordOf(yield* lookup("reg.example", "target"))
        yield* TestClock.adjust(999)
        const still = passwordOf(yield* lookup("reg.example", "target"))
        yield* TestClock.adjust(1)
        return [first, still, passwordOf(yield* lookup("reg.example", "target"))]
      }))
    expect(seen).toEqual(["1", "1", "2"])
  })

  test("a failure is not kept: the next lookup asks again", async () => {
    let asked = 0
    const flaky: CredentialProvider = {
      name: "flaky",
      lookup: () =>
        Effect.suspend(() =>
          ++asked === 1
            ? Effect.fail(new CredentialsFailed({ provider: "flaky", detail: "down", unauthorized: true }))
            : Effect.succeed(Option.some<Credential>({ _tag: "Basic", username: "u", password: Redacted.make("p") }))
        )
    }
    const [first, second] = await withChain(
      [flaky],
      (lookup) => Effect.all([Effect.either(lookup("reg.example", "target")), Effect.either(lookup("reg.example", "target"))])
    )
    expect(Either.isLeft(first) && first.left.unauthorized).toBe(true)
    expect(Either.isRight(second) && passwordOf(second.right)).toBe("p")
    expect(asked).toBe(2)
  })
})
