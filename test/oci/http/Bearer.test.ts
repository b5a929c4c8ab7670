/** Bearer tokens: cached until shortly before they expire, by Effect's Clock (driven here with TestClock). */
import { describe, expect, test } from "bun:test"
import { HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { Effect, Option, Redacted, TestClock, TestContext } from "effect"
import { endpointFor } from "../../../src/model/Location.ts"
import { makeTokens } from "../../../src/oci/http/Bearer.ts"
import type { Exchange } from "../../../src/oci/http/Exchange.ts"

const endpoint = endpointFor("registry.example", new Map(), "source")
const challenge = { scheme: "bearer", params: { realm: "https://auth.example/token", service: "registry.example" } }

/** An exchange that plays a token server: every request gets a new token valid for `expiresIn` seconds. */
const tokenServer = (expiresIn: number) => {
  const requests: Array<string> = []
  const exchange: Exchange = (_e, method, url) =>
    Effect.sync(() => {
      requests.push(`${method} ${url}`)
      const body = JSON.stringify({ token: `t${requests.length}`, expires_in: expiresIn })
      return HttpClientResponse.fromWeb(HttpClientRequest.get(url), new Response(body, { status: 200 }))
    })
  return { exchange, requests }
}

const run = <A, E>(self: Effect.Effect<A, E>) => Effect.runPromise(self.pipe(Effect.provide(TestContext.TestContext)))

describe("tokens", () => {
  test("reused while valid, fetched again 10 s before expiry (TestClock)", async () => {
    const server = tokenServer(300)
    const tokens = makeTokens(server.exchange, 1000)
    const got = await run(Effect.gen(function*() {
      const ask = tokens.token(endpoint, challenge, ["repository:app:pull"], Option.none())
      const first = Redacted.value(yield* ask)
      yield* TestClock.adjust("289 seconds")
      const cached = Redacted.value(yield* ask)
      yield* TestClock.adjust("2 seconds")
      const renewed = Redacted.value(yield* ask)
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

  test("a token shorter-lived than 60 s is kept for 60 s (the spec's minimum)", async () => {
    const server = tokenServer(5)
    const tokens = makeTokens(server.exchange, 1000)
    await run(Effect.gen(function*() {
      const ask = tokens.token(endpoint, challenge, ["repository:app:pull"], Option.none())
      yield* ask
      yield* TestClock.adjust("49 seconds")
      yield* ask
    }))
    expect(server.requests).toHaveLength(1)
  })
})
