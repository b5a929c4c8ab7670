/** Bearer tokens: cached for the lifetime the token service gives, by Effect's Clock (driven here with TestClock), fetched once for many, forgotten when refused. */
import { describe, expect, test } from "bun:test"
import { Deferred, Effect, Fiber, Option, Redacted, TestClock, TestContext } from "effect"
import { endpointFor } from "../../../src/model/Location.ts"
import { makeTokens, renewalTime } from "../../../src/oci/http/Bearer.ts"
import type { Exchange } from "../../../src/oci/http/Exchange.ts"

const endpoint = endpointFor("registry.example", new Map(), "source")
const challenge = { scheme: "bearer", params: { realm: "https://auth.example/token", service: "registry.example" } }

/** An exchange that plays a token server: every request gets a new token valid for `expiresIn` seconds (none said when undefined). */
const tokenServer = (expiresIn: number | undefined, gate?: Deferred.Deferred<void>) => {
  const requests: Array<string> = []
  const exchange: Exchange = (_e, method, url) =>
    Effect.gen(function*() {
      requests.push(`${method} ${url}`)
      const n = requests.length
      if (gate) yield* Deferred.await(gate)
      const body = JSON.stringify({ token: `t${n}`, ...(expiresIn === undefined ? {} : { expires_in: expiresIn }) })
      return new Response(body, { status: 200 })
    })
  return { exchange, requests }
}

const run = <A, E>(self: Effect.Effect<A, E>) => Effect.runPromise(self.pipe(Effect.provide(TestContext.TestContext)))

const value = (issued: { readonly token: Redacted.Redacted<string> }) => Redacted.value(issued.token)

describe("tokens", () => {
  test("reused while valid, fetched again 10 s before expiry (TestClock)", async () => {
    const server = tokenServer(300)
    const tokens = makeTokens(server.exchange, 1000)
    const got = await run(Effect.gen(function*() {
      const ask = tokens.token(endpoint, challenge, ["repository:app:pull"], Option.none())
      const first = value(yield* ask)
      yield* TestClock.adjust("289 seconds")
      const cached = value(yield* ask)
      yield* TestClock.adjust("2 seconds")
      const renewed = value(yield* ask)
      return [first, cached, renewed]
    }))
    expect(got).toEqual(["t1", "t1", "t2"])
    expect(server.requests).toHaveLength(2)
    expect(server.requests[0]).toContain("service=registry.example")
    expect(server.requests[0]).toContain("scope=repository%3Aapp%3Apull")
  })

  test("scopes a registry asked for are asked for at once by the next request of that kind", async () => {
    const server = tokenServer(300)
    const tokens = makeTokens(server.exchange, 1000)
    tokens.remember(endpoint, ["repository:dst:pull,push"], ["repository:dst:pull,push", "repository:src:pull"])
    await run(tokens.token(endpoint, challenge, ["repository:dst:pull,push"], Option.none()))
    expect(server.requests[0]).toContain("scope=repository%3Asrc%3Apull")
  })

  test("a short-lived token is kept only for the lifetime the token service gives: 5 s, renewed a fifth before", async () => {
    const server = tokenServer(5)
    const tokens = makeTokens(server.exchange, 1000)
    const got = await run(Effect.gen(function*() {
      const ask = tokens.token(endpoint, challenge, ["repository:app:pull"], Option.none())
      const first = value(yield* ask)
      yield* TestClock.adjust("3900 millis")
      const cached = value(yield* ask)
      yield* TestClock.adjust("200 millis")
      const renewed = value(yield* ask)
      return [first, cached, renewed]
    }))
    expect(got).toEqual(["t1", "t1", "t2"])
    expect(server.requests).toHaveLength(2)
  })

  test("a response without expires_in is good for the spec's default of 60 s", () => {
    expect(renewalTime(0, 60)).toBe(50_000)
    expect(renewalTime(1000, 5)).toBe(5000)
  })

  test("many requests for the same token at the same moment share one fetch, and each knows it is fresh", async () => {
    const got = await run(Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const server = tokenServer(300, gate)
      const tokens = makeTokens(server.exchange, 1000)
      const ask = tokens.token(endpoint, challenge, ["repository:app:pull"], Option.none())
      const fibers = yield* Effect.forEach(Array.from({ length: 30 }), () => Effect.fork(ask))
      yield* Effect.yieldNow()
      yield* Deferred.succeed(gate, undefined)
      const issued = yield* Effect.forEach(fibers, Fiber.join)
      const later = yield* ask
      return { server, issued, later }
    }))
    expect(got.server.requests).toHaveLength(1)
    expect(new Set(got.issued.map(value))).toEqual(new Set(["t1"]))
    expect(got.issued.every((i) => i.fresh)).toBe(true)
    expect(got.later.fresh).toBe(false)
  })

  test("a token the registry refused is not handed out again; a newer one another request fetched stays", async () => {
    const server = tokenServer(300)
    const tokens = makeTokens(server.exchange, 1000)
    const got = await run(Effect.gen(function*() {
      const ask = tokens.token(endpoint, challenge, ["repository:app:pull"], Option.none())
      const first = yield* ask
      tokens.reject(first)
      const second = yield* ask
      // a late refusal of the first token (a request that was still in flight) leaves the second
      tokens.reject(first)
      const third = yield* ask
      return [value(first), value(second), value(third), second.fresh, third.fresh]
    }))
    expect(got).toEqual(["t1", "t2", "t2", true, false])
    expect(server.requests).toHaveLength(2)
  })
})
