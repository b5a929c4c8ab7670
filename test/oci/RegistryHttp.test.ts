/**
 * The registry HTTP stack (redirects, retries, Basic and Bearer auth), driven through
 * RegistryClient against the fakes in test/support/FakeRegistry.ts.
 */
import { afterEach, describe, expect, test } from "bun:test"
import { FetchHttpClient } from "@effect/platform"
import { Effect, Either, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import { Credentials, CredentialsFailed } from "../../src/transport/Credentials.ts"
import type { CredentialProvider } from "../../src/transport/Credentials.ts"
import { RegistryClient } from "../../src/oci/RegistryClient.ts"
import { bySide, RegistryClients } from "../../src/transport/RegistryClients.ts"
import { defaultRegistryHttpSettings, RegistryHttp } from "../../src/oci/RegistryHttp.ts"
import type { RetrySettings } from "../../src/oci/http/RetryPolicy.ts"
import {
  basicAuth,
  registryError,
  sampleBlob,
  startBearerRegistry,
  startRedirectingRegistry,
  startScriptedRegistry,
  startServer
} from "../support/FakeRegistry.ts"
import { endpointFor } from "../../src/model/Location.ts"
import type { ImageLocation, Role } from "../../src/model/Location.ts"

/** Small delays so retries are quick; Retry-After still allowed up to 5 s. */
const fastRetry: RetrySettings = {
  attempts: 4,
  baseDelay: "5 millis",
  maxDelay: "20 millis",
  maxRetryAfter: "5 seconds",
  maxTotal: "30 seconds"
}

const clientLayer = (options: {
  readonly readOnly?: boolean
  readonly credentials?: ReadonlyArray<CredentialProvider>
} = {}) =>
  // one client that reads sources with pull access and writes targets with push access, as a run does
  Layer.effect(RegistryClient, Effect.map(RegistryClients, bySide)).pipe(
    Layer.provide(RegistryClients.layer({ dryRun: options.readOnly ?? false, retry: fastRetry })),
    Layer.provide(RegistryHttp.layer({ ...defaultRegistryHttpSettings, retry: fastRetry })),
    Layer.provide(Credentials.chain(options.credentials ?? [])),
    Layer.provide(FetchHttpClient.layer)
  )

type Client = RegistryClient["Type"]

/** Runs `use` with a fresh client stack (fresh pings and token cache). */
const withClient = <A, E>(use: (client: Client) => Effect.Effect<A, E>, options?: Parameters<typeof clientLayer>[0]) =>
  Effect.runPromise(Effect.flatMap(RegistryClient, use).pipe(Effect.provide(clientLayer(options))))

const at = (host: string, repository: string, reference: string, role: Role = "source"): ImageLocation => ({
  endpoint: endpointFor(host, new Map(), role),
  repository,
  reference
})

/** Basic credentials for one host. */
const basicFor = (host: string, username: string, password: string): CredentialProvider => ({
  name: "test-basic",
  lookup: (h) => Effect.succeed(h === host ? Option.some({ _tag: "Basic" as const, username, password: Redacted.make(password) }) : Option.none())
})

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((stop) => stop()))
})

describe("redirects", () => {
  test("a cross-origin 307 is followed without Authorization; the registry itself gets Basic credentials", async () => {
    const blob = sampleBlob(5000)
    const fake = startRedirectingRegistry({ repository: "team/app", blob, username: "alice", password: "s3cret" })
    cleanups.push(fake.stop)
    const bytes = await withClient((c) => c.getBlob(at(fake.registry.host, "team/app", "1.0"), fake.digest), {
      credentials: [basicFor(fake.registry.host, "alice", "s3cret")]
    })
    expect(Buffer.from(bytes).equals(Buffer.from(blob))).toBe(true)
    const blobCalls = fake.registry.requests().filter((r) => r.path.includes("/blobs/"))
    expect(blobCalls).toHaveLength(1)
    expect(blobCalls[0]!.headers["authorization"]).toBe(basicAuth("alice", "s3cret"))
    const stored = fake.storage.requests()
    expect(stored).toHaveLength(1)
    expect(stored[0]!.method).toBe("GET")
    expect(stored[0]!.path).toContain("X-Amz-Signature=abc")
    expect(stored[0]!.headers["authorization"]).toBeUndefined()
  })

  test("a HEAD redirected to another origin drops Authorization too", async () => {
    const blob = sampleBlob(100)
    const fake = startRedirectingRegistry({ repository: "team/app", blob, username: "alice", password: "s3cret" })
    cleanups.push(fake.stop)
    const there = await withClient((c) => c.hasBlob(at(fake.registry.host, "team/app", "1.0"), fake.digest, blob.length), {
      credentials: [basicFor(fake.registry.host, "alice", "s3cret")]
    })
    expect(there).toBe(true)
    const stored = fake.storage.requests()
    expect(stored.map((r) => r.method)).toEqual(["HEAD"])
    expect(stored[0]!.headers["authorization"]).toBeUndefined()
  })

  test("a same-origin redirect keeps Authorization", async () => {
    const blob = sampleBlob(300)
    const fake = startRedirectingRegistry({ repository: "team/app", blob, username: "alice", password: "s3cret", sameOrigin: true })
    cleanups.push(fake.stop)
    const bytes = await withClient((c) => c.getBlob(at(fake.registry.host, "team/app", "1.0"), fake.digest), {
      credentials: [basicFor(fake.registry.host, "alice", "s3cret")]
    })
    expect(bytes.length).toBe(300)
    const hop = fake.registry.requests().filter((r) => r.path.startsWith("/_storage/"))
    expect(hop).toHaveLength(1)
    expect(hop[0]!.headers["authorization"]).toBe(basicAuth("alice", "s3cret"))
    expect(fake.storage.requests()).toHaveLength(0)
  })

  test("a Basic registry without credentials: Unauthorized, and nothing reaches storage", async () => {
    const fake = startRedirectingRegistry({ repository: "team/app", blob: sampleBlob(10), username: "alice", password: "s3cret" })
    cleanups.push(fake.stop)
    const r = await withClient((c) => Effect.either(c.getBlob(at(fake.registry.host, "team/app", "1.0"), fake.digest)))
    expect(Either.isLeft(r) && r.left._tag).toBe("Unauthorized")
    if (Either.isLeft(r) && r.left._tag === "Unauthorized") expect(r.left.status).toBe(401)
    expect(fake.storage.requests()).toHaveLength(0)
  })
})

describe("a provider that should have answered", () => {
  test("a refusal (no cloud identity) is Unauthorized naming the registry and the provider, before any registry request but the ping", async () => {
    const fake = startRedirectingRegistry({ repository: "team/app", blob: sampleBlob(10), username: "alice", password: "s3cret" })
    cleanups.push(fake.stop)
    const refusing: CredentialProvider = {
      name: "cloud-x",
      lookup: () => Effect.fail(new CredentialsFailed({ provider: "cloud-x", detail: "no identity found (tried A, B)", unauthorized: true }))
    }
    const r = await withClient((c) => Effect.either(c.getBlob(at(fake.registry.host, "team/app", "1.0"), fake.digest)), { credentials: [refusing] })
    expect(Either.isLeft(r) && r.left._tag).toBe("Unauthorized")
    expect(Either.isLeft(r) ? r.left.message : "").toBe(`${fake.registry.host}: access denied (HTTP 401): cloud-x: no identity found (tried A, B)`)
    expect(fake.registry.requests().map((q) => q.path)).toEqual(["/v2/"])
  })

  test("any other failure stays a TransportFailure in the provider's words", async () => {
    const fake = startRedirectingRegistry({ repository: "team/app", blob: sampleBlob(10), username: "alice", password: "s3cret" })
    cleanups.push(fake.stop)
    const crashing: CredentialProvider = { name: "helper", lookup: () => Effect.fail(new CredentialsFailed({ provider: "helper", detail: "crashed" })) }
    const r = await withClient((c) => Effect.either(c.getBlob(at(fake.registry.host, "team/app", "1.0"), fake.digest)), { credentials: [crashing] })
    expect(Either.isLeft(r) ? [r.left._tag, r.left.message] : []).toEqual(["TransportFailure", "helper: crashed"])
  })
})

describe("retries", () => {
  test("429 with Retry-After: 1 is retried, no sooner than the Retry-After", async () => {
    const fake = startScriptedRegistry({ repository: "team/app", tag: "1.0", script: [{ status: 429, headers: { "retry-after": "1" } }] })
    cleanups.push(fake.server.stop)
    const found = await withClient((c) => c.headManifest(at(fake.server.host, "team/app", "1.0")))
    expect(Option.getOrThrow(found).digest).toBe(fake.manifest.digest)
    const tries = fake.manifestRequests()
    expect(tries).toHaveLength(2)
    // the backoff alone is ≤ 20 ms here: the gap is the Retry-After
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(900)
  })

  test("503 twice, then 200: retried and successful", async () => {
    const fake = startScriptedRegistry({ repository: "team/app", tag: "1.0", script: [{ status: 503 }, { status: 503 }] })
    cleanups.push(fake.server.stop)
    const raw = await withClient((c) => c.getManifest(at(fake.server.host, "team/app", "1.0")))
    expect(raw.digest).toBe(fake.manifest.digest)
    expect(Buffer.from(raw.bytes).equals(Buffer.from(fake.manifest.bytes))).toBe(true)
    expect(fake.manifestRequests().map((r) => r.method)).toEqual(["GET", "GET", "GET"])
  })

  test("503 on every try: RegistryUnavailable after `attempts` tries", async () => {
    const fake = startScriptedRegistry({ repository: "team/app", tag: "1.0", script: Array.from({ length: 20 }, () => ({ status: 503 })) })
    cleanups.push(fake.server.stop)
    const r = await withClient((c) => Effect.either(c.headManifest(at(fake.server.host, "team/app", "1.0"))))
    expect(Either.isLeft(r)).toBe(true)
    if (Either.isRight(r)) return
    expect(r.left._tag).toBe("RegistryUnavailable")
    expect(r.left.message).toContain(fake.server.host)
    expect(r.left.message).toContain("503")
    expect(fake.manifestRequests()).toHaveLength(fastRetry.attempts)
  })

  test("no response headers within requestTimeout: the try is abandoned and retried; every try silent: RegistryUnavailable naming the timeout", async () => {
    const silent = { status: 503, delayMs: 5_000 }
    const fake = startScriptedRegistry({ repository: "team/app", tag: "1.0", script: [silent, silent, silent, silent] })
    cleanups.push(fake.server.stop)
    const layer = RegistryClient.layer({ readOnly: false, retry: fastRetry }).pipe(
      Layer.provide(RegistryHttp.layer({ ...defaultRegistryHttpSettings, retry: fastRetry, requestTimeout: "150 millis" })),
      Layer.provide(Credentials.chain([])),
      Layer.provide(FetchHttpClient.layer)
    )
    const started = performance.now()
    const r = await Effect.runPromise(
      Effect.either(Effect.flatMap(RegistryClient, (c) => c.headManifest(at(fake.server.host, "team/app", "1.0")))).pipe(Effect.provide(layer))
    )
    expect(Either.isLeft(r) && r.left._tag).toBe("RegistryUnavailable")
    if (Either.isLeft(r)) expect(r.left.message).toContain("no response within 150ms")
    expect(fake.manifestRequests()).toHaveLength(fastRetry.attempts)
    // abandoned at the timeout, not when the registry would have answered
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  test("a slow answer within requestTimeout is waited for", async () => {
    const fake = startScriptedRegistry({ repository: "team/app", tag: "1.0", script: [{ status: 503, delayMs: 50 }] })
    cleanups.push(fake.server.stop)
    const found = await withClient((c) => c.headManifest(at(fake.server.host, "team/app", "1.0")))
    expect(Option.getOrThrow(found).digest).toBe(fake.manifest.digest)
    // the delayed 503 arrived (and was retried): it was not cut off as a timeout
    expect(fake.manifestRequests()).toHaveLength(2)
  })

  test("a 400 is not retried", async () => {
    const fake = startScriptedRegistry({ repository: "team/app", tag: "1.0", script: [{ status: 400 }] })
    cleanups.push(fake.server.stop)
    const r = await withClient((c) => Effect.either(c.headManifest(at(fake.server.host, "team/app", "1.0"))))
    // the registry's answer, as data: its status (and codes, when its body has any)
    expect(Either.isLeft(r) && r.left._tag).toBe("RegistryError")
    expect(Either.isLeft(r) && r.left._tag === "RegistryError" && r.left.status).toBe(400)
    expect(fake.manifestRequests()).toHaveLength(1)
  })

  test("GET /v2/ is asked once per registry, however many requests follow", async () => {
    const fake = startScriptedRegistry({ repository: "team/app", tag: "1.0", script: [] })
    cleanups.push(fake.server.stop)
    await withClient((c) =>
      Effect.gen(function*() {
        const image = at(fake.server.host, "team/app", "1.0")
        yield* c.headManifest(image)
        yield* c.getManifest(image)
        yield* c.headManifest(image)
      })
    )
    expect(fake.server.requests().filter((r) => r.path === "/v2/")).toHaveLength(1)
    expect(fake.manifestRequests()).toHaveLength(3)
  })
})

describe("requests in flight per host", () => {
  /** A registry that holds every manifest HEAD until `release(inFlight, arrived)` says so; it notes the most it held at once. */
  const holdingRegistry = (total: number, release: (inFlight: number, arrived: number) => boolean) => {
    let inFlight = 0
    let arrived = 0
    let most = 0
    const waiting: Array<() => void> = []
    // Decided after the requests already received are all counted (setImmediate), so a client
    // that sends more at once than it may is seen doing so.
    const check = () =>
      setImmediate(() => {
        while (waiting.length > 0 && release(inFlight, arrived)) waiting.shift()!()
      })
    const server = startServer(async (request, url) => {
      if (url.pathname === "/v2/") return new Response("{}", { status: 200 })
      inFlight++
      arrived++
      most = Math.max(most, inFlight)
      await new Promise<void>((resolve) => {
        waiting.push(resolve)
        check()
      })
      inFlight--
      check()
      return new Response(null, { status: 404 })
    })
    return { server, most: () => most, total }
  }
  const headAll = (host: string, total: number, registries: Map<string, { mirror: undefined; insecure: boolean; maxRequests?: number }>) =>
    withClient((c) =>
      Effect.forEach(
        Array.from({ length: total }, (_, i) => i),
        (i) => c.headManifest({ endpoint: endpointFor(host, registries, "target"), repository: "team/app", reference: `t${i}` }),
        { concurrency: "unbounded" }
      )
    )

  test("by default ten HEADs to one host are in flight together", async () => {
    // released only once all ten are there: a limit below ten would never get there
    const fake = holdingRegistry(10, (_, arrived) => arrived === 10)
    cleanups.push(fake.server.stop)
    await headAll(fake.server.host, 10, new Map())
    expect(fake.most()).toBe(10)
  })

  test("registries[host].maxRequests: 2 keeps at most two in flight to that host", async () => {
    // released whenever two are held, and for the tail
    const fake = holdingRegistry(10, (inFlight, arrived) => inFlight >= 2 || arrived === 10)
    cleanups.push(fake.server.stop)
    await headAll(fake.server.host, 10, new Map([[fake.server.host, { mirror: undefined, insecure: false, maxRequests: 2 }]]))
    expect(fake.most()).toBe(2)
  })
})

describe("bearer tokens", () => {
  test("401 challenge → token fetched for the right scope and service → request sent with it", async () => {
    const fake = startBearerRegistry({ repository: "team/app", tag: "1.0" })
    cleanups.push(fake.stop)
    const found = await withClient((c) => c.headManifest(at(fake.registry.host, "team/app", "1.0")))
    expect(Option.getOrThrow(found).digest).toBe(fake.manifest.digest)
    const seen = fake.registry.requests()
    expect(seen[0]).toMatchObject({ method: "GET", path: "/v2/" })
    expect(seen[0]!.headers["authorization"]).toBeUndefined()
    expect(fake.tokenRequests()).toEqual([{ service: "fake-registry", scopes: ["repository:team/app:pull"], authorization: null }])
    const head = seen.filter((r) => r.path === "/v2/team/app/manifests/1.0")
    expect(head.map((r) => [r.method, r.headers["authorization"]])).toEqual([["HEAD", "Bearer tok-1"]])
  })

  test("with credentials, Basic goes to the token server only; the registry sees the Bearer token", async () => {
    const fake = startBearerRegistry({ repository: "team/app", tag: "1.0", users: { alice: "s3cret" } })
    cleanups.push(fake.stop)
    await withClient((c) => c.getManifest(at(fake.registry.host, "team/app", "1.0")), {
      credentials: [basicFor(fake.registry.host, "alice", "s3cret")]
    })
    expect(fake.tokenRequests().map((r) => r.authorization)).toEqual([basicAuth("alice", "s3cret")])
    expect(fake.registry.requests().some((r) => (r.headers["authorization"] ?? "").startsWith("Basic"))).toBe(false)
  })

  test("a token server refusing the credentials: Unauthorized, asked once", async () => {
    const fake = startBearerRegistry({ repository: "team/app", tag: "1.0", users: { alice: "s3cret" } })
    cleanups.push(fake.stop)
    const r = await withClient((c) => Effect.either(c.getManifest(at(fake.registry.host, "team/app", "1.0"))), {
      credentials: [basicFor(fake.registry.host, "alice", "wrong")]
    })
    expect(Either.isLeft(r) && r.left._tag).toBe("Unauthorized")
    expect(fake.tokenRequests()).toHaveLength(1)
    expect(fake.registry.requests().filter((r) => r.path.startsWith("/v2/team/"))).toHaveLength(0)
  })

  test("the token is cached across calls with the same scope", async () => {
    const fake = startBearerRegistry({ repository: "team/app", tag: "1.0" })
    cleanups.push(fake.stop)
    await withClient((c) =>
      Effect.gen(function*() {
        const image = at(fake.registry.host, "team/app", "1.0")
        yield* c.headManifest(image)
        yield* c.headManifest(image)
        yield* c.getManifest(image)
        yield* c.hasBlob(image, fake.manifest.digest, 0)
        yield* c.hasBlob(image, fake.manifest.digest, 0)
      })
    )
    expect(fake.tokenRequests()).toHaveLength(1)
    const calls = fake.registry.requests().filter((r) => r.path.startsWith("/v2/team/app/"))
    expect(calls).toHaveLength(5)
    expect(calls.every((r) => r.headers["authorization"] === "Bearer tok-1")).toBe(true)
  })

  test("a target asks pull,push; a read-only (dry-run) target asks pull only", async () => {
    const fake = startBearerRegistry({ repository: "team/app", tag: "1.0" })
    cleanups.push(fake.stop)
    await withClient((c) => c.headManifest(at(fake.registry.host, "team/app", "1.0", "target")))
    await withClient((c) => c.headManifest(at(fake.registry.host, "team/app", "1.0", "target")), { readOnly: true })
    expect(fake.tokenRequests().map((r) => r.scopes)).toEqual([["repository:team/app:pull,push"], ["repository:team/app:pull"]])
  })

  test("401 insufficient_scope asking an extra scope → token re-fetched with the union (new scope first) → retried", async () => {
    const fake = startBearerRegistry({ repository: "team/app", tag: "1.0", alsoRequire: ["repository:other/base:pull"] })
    cleanups.push(fake.stop)
    const raw = await withClient((c) => c.getManifest(at(fake.registry.host, "team/app", "1.0")))
    expect(raw.digest).toBe(fake.manifest.digest)
    expect(fake.tokenRequests().map((r) => r.scopes)).toEqual([
      ["repository:team/app:pull"],
      ["repository:other/base:pull", "repository:team/app:pull"]
    ])
    const gets = fake.registry.requests().filter((r) => r.path === "/v2/team/app/manifests/1.0")
    expect(gets.map((r) => r.headers["authorization"])).toEqual(["Bearer tok-1", "Bearer tok-2"])
  })

  test("a scope upgrade is remembered: later requests carry the wider token at once", async () => {
    const fake = startBearerRegistry({ repository: "team/app", tag: "1.0", alsoRequire: ["repository:other/base:pull"] })
    cleanups.push(fake.stop)
    await withClient((c) =>
      Effect.gen(function*() {
        const image = at(fake.registry.host, "team/app", "1.0")
        yield* c.getManifest(image)
        yield* c.getManifest(image)
      })
    )
    expect(fake.tokenRequests()).toHaveLength(2)
    const gets = fake.registry.requests().filter((r) => r.path === "/v2/team/app/manifests/1.0")
    // the first call learns that other/base:pull is needed; the second must not pay another 401 for it
    expect(gets.map((r) => r.headers["authorization"])).toEqual(["Bearer tok-1", "Bearer tok-2", "Bearer tok-2"])
  })
})

describe("headers and logs", () => {
  test("every request carries the configured User-Agent", async () => {
    const fake = startScriptedRegistry({ repository: "team/app", tag: "1.0", script: [{ status: 503 }] })
    cleanups.push(fake.server.stop)
    await withClient((c) => c.getManifest(at(fake.server.host, "team/app", "1.0")))
    const agents = fake.server.requests().map((r) => r.headers["user-agent"])
    expect(agents.length).toBeGreaterThanOrEqual(3)
    expect(new Set(agents)).toEqual(new Set([defaultRegistryHttpSettings.userAgent]))
  })

  test("debug logs name each request but never the credentials", async () => {
    const blob = sampleBlob(64)
    const fake = startRedirectingRegistry({ repository: "team/app", blob, username: "alice", password: "s3cret-pw" })
    cleanups.push(fake.stop)
    const lines: Array<string> = []
    const capture = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ message }) => {
        lines.push(Array.isArray(message) ? message.join(" ") : String(message))
      })
    )
    await Effect.runPromise(
      Effect.flatMap(RegistryClient, (c) => c.getBlob(at(fake.registry.host, "team/app", "1.0"), fake.digest)).pipe(
        Effect.provide(clientLayer({ credentials: [basicFor(fake.registry.host, "alice", "s3cret-pw")] })),
        Logger.withMinimumLogLevel(LogLevel.Debug),
        Effect.provide(capture)
      )
    )
    const text = lines.join("\n")
    expect(text).toContain(`/v2/team/app/blobs/${fake.digest}`)
    expect(text).toContain("307")
    expect(text).not.toContain("s3cret-pw")
    expect(text).not.toContain(basicAuth("alice", "s3cret-pw").slice("Basic ".length))
    expect(text).not.toContain("X-Amz-Signature")
  })
})

describe("header values", () => {
  test("a credential with a line break is refused before any request carries it, and not retried", async () => {
    const fake = startServer((req) =>
      req.headers.get("authorization") ? registryError(404, "MANIFEST_UNKNOWN", "unknown") : registryError(401, "UNAUTHORIZED", "auth", {
        "www-authenticate": "Basic realm=\"r\""
      })
    )
    cleanups.push(fake.stop)
    const token: CredentialProvider = {
      name: "test-token",
      lookup: () => Effect.succeed(Option.some({ _tag: "RegistryToken" as const, token: Redacted.make("abc\r\nX-Injected: 1") }))
    }
    const result = await withClient((c) => Effect.either(c.headManifest(at(fake.host, "team/app", "1"))), { credentials: [token] })
    expect(Either.isLeft(result) && result.left._tag).toBe("TransportFailure")
    expect(Either.isLeft(result) && result.left.message).toContain("contains a line break or NUL")
    expect(Either.isLeft(result) && result.left.message).not.toContain("abc")
    // the ping went out (no credential on it); no request with the credential, no retries
    expect(fake.requests().map((r) => r.path)).toEqual(["/v2/"])
  })
})
