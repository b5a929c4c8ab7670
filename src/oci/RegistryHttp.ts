/**
 * The registry HTTP stack, one concern at a time, modelled on go-containerregistry's
 * transport: scheme and TLS per endpoint, user agent, ping + challenge, Basic and Bearer
 * (token fetch, cache per scope set, scope upgrade on 401), redirects that never carry
 * `Authorization` to another origin, the shared retry policy, a per-registry request limit,
 * and debug logs without secrets. Registry operations (RegistryClient) sit on top.
 */
import { FetchHttpClient, HttpBody, HttpClient, HttpClientRequest } from "@effect/platform"
import type { HttpClientResponse } from "@effect/platform"
import { Context, Duration, Effect, Layer, Option, Redacted } from "effect"
import type { Stream } from "effect"
import { Credentials } from "./Credentials.ts"
import type { Credential } from "./Credentials.ts"
import { challengeScopes, pickChallenge } from "./Challenge.ts"
import type { Challenge } from "./Challenge.ts"
import { shareOnce } from "./shareOnce.ts"
import { makeLimit } from "./HostLimit.ts"
import type { Limit } from "./HostLimit.ts"
import { defaultRetrySettings, parseRetryAfter, Retryable, withRetry } from "./RetryPolicy.ts"
import { readBody, readErrorText, TOKEN_LIMIT } from "./BodyReader.ts"
import { allowedUrl, displayUrl } from "./UrlPolicy.ts"
import type { RetrySettings } from "./RetryPolicy.ts"
import { RegistryUnavailable, TransportFailure, Unauthorized } from "../model/Errors.ts"
import type { ResponseTooLarge, UnsupportedUrl } from "../model/Errors.ts"
import type { Endpoint } from "../model/Location.ts"

/** Settings of the HTTP stack. */
export interface RegistryHttpSettings {
  readonly userAgent: string
  readonly retry: RetrySettings
  /** requests in flight per registry host (headers phase) */
  readonly requestsPerRegistry: number
  /** time to wait for response headers before the try counts as failed (enforced in the fetch of FetchHttpClient) */
  readonly requestTimeout: Duration.DurationInput
  /** a body read (token, error message) silent for this long gives up; default 30 s */
  readonly stallTimeoutMs?: number
}

/** Defaults for the HTTP stack. */
export const defaultRegistryHttpSettings: RegistryHttpSettings = {
  userAgent: "image-syncer/0.1",
  retry: defaultRetrySettings,
  requestsPerRegistry: 16,
  requestTimeout: "60 seconds"
}

/** One registry request. `path` is "/v2/…" on the endpoint, or an absolute URL (upload Locations). */
export interface RegistryRequest {
  readonly method: "GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE"
  readonly path: string
  readonly headers?: Readonly<Record<string, string>>
  /** bytes (replayable, retried here), or a stream (sent once; the caller retries the whole upload) */
  readonly body?: Uint8Array | ReadableStream<Uint8Array> | Stream.Stream<Uint8Array, unknown>
  /** token scopes this request needs, e.g. "repository:library/busybox:pull" */
  readonly scopes: ReadonlyArray<string>
}

/** Errors of the HTTP stack. */
export type RegistryHttpError = Unauthorized | RegistryUnavailable | TransportFailure | UnsupportedUrl | ResponseTooLarge

/** The RegistryHttp service: sends one request with auth, redirects and retries handled. */
export class RegistryHttp extends Context.Tag("syncer/RegistryHttp")<RegistryHttp, {
  /** Statuses other than 401/403/429/5xx are returned for the caller to interpret. */
  readonly send: (
    endpoint: Endpoint,
    request: RegistryRequest
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, RegistryHttpError>
}>() {
  /** The live stack on the platform HttpClient. */
  static layer(settings: RegistryHttpSettings = defaultRegistryHttpSettings) {
    return Layer.effect(RegistryHttp, make(settings))
  }
}

interface CachedToken {
  readonly token: Redacted.Redacted<string>
  readonly expiresAt: number
}

const noAuthorization = Effect.succeed(undefined)

const retryableStatus = (s: number) => s === 408 || s === 429 || s === 499 || (s >= 500 && s !== 501 && s !== 505)

const isRedirect = (s: number) => s === 301 || s === 302 || s === 303 || s === 307 || s === 308

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")

/** Reads the start of an error body for messages; never fails. */
const errorDetail = (res: HttpClientResponse.HttpClientResponse, stallMs: number) =>
  readErrorText(res, stallMs).pipe(
    Effect.map((t) => {
      try {
        const j = JSON.parse(t) as { errors?: Array<{ code?: string; message?: string }>; message?: string }
        if (j.errors?.length) return j.errors.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ")
        if (j.message) return j.message
      } catch {
        // plain-text bodies are common (route 404s, proxies)
      }
      return t.trim().slice(0, 200)
    })
  )

/** A header value that would split the request (CR, LF, NUL): never sent. */
const badHeaderValue = (headers: Readonly<Record<string, string>>): string | undefined =>
  Object.keys(headers).find((k) => /[\r\n\0]/.test(headers[k]!))

const make = (settings: RegistryHttpSettings) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const credentials = yield* Credentials
    const pings = new Map<string, Effect.Effect<Challenge | undefined, RegistryHttpError>>()
    // endpoints whose ping said no auth is needed: their requests skip the auth machinery
    const open = new Set<string>()
    const tokens = new Map<string, CachedToken>()
    const extraScopes = new Map<string, Set<string>>()
    const limits = new Map<string, Limit>()
    const retry = withRetry(settings.retry)
    const stallMs = settings.stallTimeoutMs ?? 30_000

    const limitFor = (host: string) => {
      let limit = limits.get(host)
      if (!limit) {
        limit = makeLimit(settings.requestsPerRegistry)
        limits.set(host, limit)
      }
      return limit
    }

    // Loopback registries default to plain HTTP, but one that turns out to speak TLS is used over https.
    const upgraded = new Set<string>()
    const baseUrl = (e: Endpoint) => `${upgraded.has(e.host) ? "https" : e.scheme}://${e.host}`

    const scopeKey = (e: Endpoint, scopes: ReadonlyArray<string>) => `${e.role} ${e.host} ${[...scopes].sort().join(" ")}`

    // fetch with the headers timeout, manual redirects and per-endpoint TLS folded in: one
    // context entry per request instead of a timeout fiber and a RequestInit (~40% of our CPU
    // per loopback HEAD).
    const timeoutMs = Duration.toMillis(settings.requestTimeout)
    const fetchWith = (tls: { readonly rejectUnauthorized: boolean } | undefined) => {
      const timedFetch = (input: string | URL | Request, init?: RequestInit) => {
        const timer = new AbortController()
        const id = setTimeout(() => timer.abort(new HeadersTimeout()), timeoutMs)
        const signal = init?.signal ? AbortSignal.any([init.signal, timer.signal]) : timer.signal
        return globalThis.fetch(input, { ...init, redirect: "manual", signal, ...(tls ? { tls } : {}) }).finally(() => clearTimeout(id))
      }
      return Context.make(FetchHttpClient.Fetch, Object.assign(timedFetch, { preconnect: globalThis.fetch.preconnect }))
    }
    const verifyingFetch = fetchWith(undefined)
    const trustingFetch = fetchWith({ rejectUnauthorized: false })

    /** One HTTP exchange, following GET/HEAD redirects by hand so `Authorization` stays home. */
    const exchange = (
      endpoint: Endpoint,
      method: RegistryRequest["method"],
      url: string,
      headers: Record<string, string>,
      body: RegistryRequest["body"]
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, Retryable | TransportFailure | UnsupportedUrl> =>
      Effect.gen(function*() {
        let current = yield* allowedUrl(url, undefined, endpoint.host, `${method} request`)
        const home = new URL(baseUrl(endpoint)).origin
        let hdrs: Record<string, string> = { ...headers, "user-agent": settings.userAgent }
        const bad = badHeaderValue(hdrs)
        if (bad !== undefined) {
          return yield* new TransportFailure({
            transport: "oci",
            detail: `${current.host}: the ${bad === "authorization" ? "credential" : `${bad} header`} for this registry contains a line break or NUL; refusing to send it`
          })
        }
        for (let hop = 0; hop <= 5; hop++) {
          let req = HttpClientRequest.make(method)(current.href).pipe(HttpClientRequest.setHeaders(hdrs))
          // The body's content type becomes the header, so it must carry the manifest's media type.
          const type = hdrs["content-type"] ?? "application/octet-stream"
          if (body instanceof Uint8Array) req = HttpClientRequest.setBody(req, HttpBody.uint8Array(body, type))
          else if (body instanceof ReadableStream) req = HttpClientRequest.setBody(req, HttpBody.raw(body, { contentType: type }))
          else if (body) req = HttpClientRequest.bodyStream(req, body, { contentType: type })
          const failed = (cause: unknown) =>
            tlsProblem(cause)
              ? new TransportFailure({
                transport: "oci",
                detail: /EPROTO|handshake/i.test(describeCause(cause))
                  ? `${current.host}: TLS handshake failed (${describeCause(cause)}); if the registry speaks plain HTTP, set insecure: true for it`
                  : `${current.host}: TLS certificate not trusted (${describeCause(cause)}); add its CA with NODE_EXTRA_CA_CERTS=/path/ca.pem, or set insecure: true for this registry`
              })
              : new Retryable({
                registry: endpoint.host,
                detail: cause instanceof HeadersTimeout
                  ? `${method} ${current.pathname}: no response within ${Duration.format(settings.requestTimeout)}`
                  : `${method} ${current.pathname}: ${describeCause(cause)}`,
                retryAfter: undefined
              })
          const res = yield* client.execute(req).pipe(
            Effect.provide(endpoint.skipTlsVerify && current.origin === home ? trustingFetch : verifyingFetch),
            // Spans with every header as an attribute cost more CPU than a loopback HEAD itself.
            Effect.withTracerEnabled(false),
            Effect.mapError((e) => failed(e.cause)),
            limitFor(endpoint.host).withPermit
          )
          yield* Effect.logDebug(`${method} ${current.origin}${current.pathname} -> ${res.status}`)
          const location = res.headers["location"]
          if (isRedirect(res.status) && location && (method === "GET" || method === "HEAD")) {
            const next = yield* allowedUrl(location, current, endpoint.host, `redirect of ${method} ${current.pathname}`)
            if (next.origin !== home) {
              // Pre-signed storage URLs reject a second auth mechanism, and the token is not theirs.
              const { authorization: _dropped, ...rest } = hdrs
              hdrs = rest
            }
            current = next
            continue
          }
          return res
        }
        return yield* new TransportFailure({ transport: "oci", detail: `${url}: too many redirects` })
      })

    /** The challenge of an endpoint, learnt once from `GET /v2/`. */
    const challengeFor = (endpoint: Endpoint) => {
      const key = `${endpoint.role} ${endpoint.host}`
      const cached = pings.get(key)
      if (cached) return cached
      const ping = Effect.suspend(() => exchange(endpoint, "GET", `${baseUrl(endpoint)}/v2/`, {}, undefined)).pipe(
        Effect.flatMap((res) =>
          res.status === 400 && endpoint.scheme === "http" && !upgraded.has(endpoint.host)
            ? readErrorText(res, stallMs).pipe(
              Effect.flatMap((body) => {
                if (!/HTTP request to an HTTPS server/i.test(body)) return Effect.succeed(res)
                upgraded.add(endpoint.host)
                return exchange(endpoint, "GET", `${baseUrl(endpoint)}/v2/`, {}, undefined)
              })
            )
            : Effect.succeed(res)
        ),
        Effect.flatMap((res) => {
          if (res.status === 401) return Effect.succeed(pickChallenge(res.headers["www-authenticate"]))
          if (retryableStatus(res.status)) {
            return Effect.fail(
              new Retryable({
                registry: endpoint.host,
                detail: `GET /v2/: HTTP ${res.status}`,
                retryAfter: parseRetryAfter(res.headers["retry-after"])
              })
            )
          }
          return Effect.succeed(undefined)
        }),
        retry,
        Effect.catchTag("Retryable", (e) =>
          Effect.fail(new RegistryUnavailable({ registry: endpoint.host, detail: e.detail }))),
        Effect.tapError(() => Effect.sync(() => pings.delete(key))),
        Effect.tap((challenge) => Effect.sync(() => challenge === undefined && open.add(key)))
      )
      const memo = shareOnce(ping)
      pings.set(key, memo)
      return memo
    }

    const lookupCredential = (endpoint: Endpoint) =>
      credentials.lookup(endpoint.host, endpoint.role).pipe(
        Effect.catchTag("CredentialsFailed", (e) =>
          Effect.fail(new TransportFailure({ transport: e.provider, detail: e.detail })))
      )

    /** Fetches (or reuses) a bearer token for a scope set. */
    const tokenFor = (
      endpoint: Endpoint,
      challenge: Challenge,
      scopes: ReadonlyArray<string>,
      credential: Option.Option<Credential>
    ) =>
      Effect.gen(function*() {
        const realm = challenge.params["realm"]
        if (!realm) {
          return yield* new TransportFailure({ transport: "oci", detail: `${endpoint.host}: Bearer challenge without realm` })
        }
        const service = challenge.params["service"]
        const key = `${endpoint.role} ${endpoint.host} ${realm} ${service ?? ""} ${[...scopes].sort().join(" ")}`
        const hit = tokens.get(key)
        if (hit && hit.expiresAt > Date.now() + 10_000) return hit.token
        const url = yield* allowedUrl(realm, undefined, endpoint.host, "token realm of the Bearer challenge")
        let res: HttpClientResponse.HttpClientResponse
        const tokenEndpoint: Endpoint = { ...endpoint, host: url.host }
        if (Option.isSome(credential) && credential.value._tag === "IdentityToken") {
          const form = new URLSearchParams({
            grant_type: "refresh_token",
            refresh_token: Redacted.value(credential.value.token),
            client_id: "image-syncer",
            scope: scopes.join(" ")
          })
          if (service) form.set("service", service)
          res = yield* exchange(tokenEndpoint, "POST", url.toString(), {
            "content-type": "application/x-www-form-urlencoded"
          }, new TextEncoder().encode(form.toString()))
        } else {
          if (service) url.searchParams.set("service", service)
          for (const s of scopes) url.searchParams.append("scope", s)
          const headers: Record<string, string> = {}
          if (Option.isSome(credential) && credential.value._tag === "Basic") {
            headers["authorization"] = `Basic ${b64(`${credential.value.username}:${Redacted.value(credential.value.password)}`)}`
          }
          res = yield* exchange(tokenEndpoint, "GET", url.toString(), headers, undefined)
        }
        if (res.status === 401 || res.status === 403) {
          return yield* new Unauthorized({
            registry: endpoint.host,
            status: res.status,
            detail: `token server ${url.host} refused the credentials`
          })
        }
        if (retryableStatus(res.status)) {
          return yield* new Retryable({
            registry: url.host,
            detail: `token request: HTTP ${res.status}`,
            retryAfter: parseRetryAfter(res.headers["retry-after"])
          })
        }
        if (res.status !== 200) {
          const detail = yield* errorDetail(res, stallMs)
          return yield* new TransportFailure({ transport: "oci", detail: `token server ${url.host}: HTTP ${res.status} ${detail}` })
        }
        const bytes = yield* readBody(res, {
          registry: url.host,
          request: `GET ${displayUrl(url)}`,
          what: "token response",
          limit: TOKEN_LIMIT,
          stallMs
        })
        const body = yield* Effect.try({
          try: () => JSON.parse(new TextDecoder().decode(bytes)) as { token?: unknown; access_token?: unknown; expires_in?: unknown },
          catch: () => new TransportFailure({ transport: "oci", detail: `token server ${url.host}: invalid JSON` })
        })
        const raw = typeof body.token === "string" && body.token !== "" ? body.token : body.access_token
        if (typeof raw !== "string" || raw === "") return yield* new TransportFailure({ transport: "oci", detail: `token server ${url.host}: no token` })
        if (/[\r\n\0]/.test(raw)) {
          return yield* new TransportFailure({ transport: "oci", detail: `token server ${url.host}: the token contains a line break or NUL` })
        }
        const token = Redacted.make(raw)
        const expiresIn = typeof body.expires_in === "number" && Number.isFinite(body.expires_in) ? body.expires_in : 60
        tokens.set(key, { token, expiresAt: Date.now() + Math.max(60, expiresIn) * 1000 })
        return token
      })

    /** The `Authorization` value for a request, if any. */
    const authorization = (endpoint: Endpoint, scopes: ReadonlyArray<string>) =>
      open.has(`${endpoint.role} ${endpoint.host}`) ? noAuthorization : Effect.gen(function*() {
        const challenge = yield* challengeFor(endpoint)
        if (!challenge) return undefined
        const credential = yield* lookupCredential(endpoint)
        if (Option.isSome(credential) && credential.value._tag === "RegistryToken") {
          return `Bearer ${Redacted.value(credential.value.token)}`
        }
        if (challenge.scheme === "basic") {
          if (Option.isSome(credential) && credential.value._tag === "Basic") {
            return `Basic ${b64(`${credential.value.username}:${Redacted.value(credential.value.password)}`)}`
          }
          return undefined
        }
        const extra = extraScopes.get(scopeKey(endpoint, scopes))
        const all = extra ? [...scopes, ...[...extra].filter((s) => !scopes.includes(s))] : scopes
        const token = yield* tokenFor(endpoint, challenge, all, credential)
        return `Bearer ${Redacted.value(token)}`
      })

    const send = (endpoint: Endpoint, request: RegistryRequest) => {
      // Computed after the ping (inside `once`), which may have switched the host to https.
      let url = request.path
      const once = (scopes: ReadonlyArray<string>, reauthed: boolean): Effect.Effect<
        HttpClientResponse.HttpClientResponse,
        Retryable | RegistryHttpError
      > =>
        Effect.gen(function*() {
          const auth = yield* authorization(endpoint, scopes)
          url = request.path.startsWith("http") ? request.path : `${baseUrl(endpoint)}${request.path}`
          const headers: Record<string, string> = { ...request.headers }
          if (auth) headers["authorization"] = auth
          const res = yield* exchange(endpoint, request.method, url, headers, request.body)
          if (res.status === 401 && !reauthed && !(request.body && !(request.body instanceof Uint8Array))) {
            const challenge = pickChallenge(res.headers["www-authenticate"])
            const pingKey = `${endpoint.role} ${endpoint.host}`
            if (challenge !== undefined && auth === undefined && open.has(pingKey)) {
              // `/v2/` was open but this repository is not: answer this challenge from now on.
              open.delete(pingKey)
              pings.set(pingKey, Effect.succeed(challenge))
              return yield* once([...challengeScopes(challenge).filter((s) => !scopes.includes(s)), ...scopes], true)
            }
            // The registry may want more scopes than we asked for (a mount needs pull on `from`).
            if (challenge?.scheme === "bearer") {
              const wanted = challengeScopes(challenge)
              // Remember, so the next request of this kind asks for the wider token at once.
              const key = scopeKey(endpoint, request.scopes)
              const known = extraScopes.get(key) ?? new Set<string>()
              for (const s of wanted) if (!request.scopes.includes(s)) known.add(s)
              extraScopes.set(key, known)
              return yield* once([...wanted, ...scopes.filter((s) => !wanted.includes(s))], true)
            }
          }
          if (res.status === 401 || res.status === 403) {
            const body = yield* errorDetail(res, stallMs)
            const detail = auth
              ? body
              : `no credentials found for ${endpoint.host} (${endpoint.role === "target" ? "use --target-repo-auth-key, --access-token or " : ""}docker config.json)${body ? `; ${body}` : ""}`
            return yield* new Unauthorized({ registry: endpoint.host, status: res.status, detail })
          }
          if (retryableStatus(res.status)) {
            const detail = yield* errorDetail(res, stallMs)
            return yield* new Retryable({
              registry: endpoint.host,
              detail: `${request.method} ${new URL(url).pathname}: HTTP ${res.status}${detail ? ` ${detail}` : ""}`,
              retryAfter: parseRetryAfter(res.headers["retry-after"])
            })
          }
          return res
        })
      // A streamed body cannot be replayed: the caller retries the whole blob copy instead.
      const streamed = request.body !== undefined && !(request.body instanceof Uint8Array)
      const attempt = once(request.scopes, false)
      return (streamed ? attempt : retry(attempt)).pipe(
        Effect.catchTag("Retryable", (e) => Effect.fail(new RegistryUnavailable({ registry: e.registry, detail: e.detail })))
      )
    }

    return { send }
  })

/** The headers of a response did not arrive within `requestTimeout`. */
class HeadersTimeout extends Error {
  constructor() {
    super("no response headers in time")
  }
}

/** True for certificate and handshake failures: retrying will not help, configuration will. */
export const tlsProblem = (cause: unknown): boolean => {
  const text = cause instanceof Error ? `${(cause as { code?: string }).code ?? ""} ${cause.message}` : String(cause)
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|unable to verify|certificate|ERR_TLS|SSL|EPROTO|TLS handshake/i.test(text)
}

/** A short, secret-free description of a network error. */
export const describeCause = (cause: unknown): string => {
  if (cause instanceof Error) {
    const code = (cause as { code?: string }).code
    return code ? `${code}: ${cause.message}` : cause.message
  }
  return String(cause)
}
