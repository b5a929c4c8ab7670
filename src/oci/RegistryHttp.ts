/**
 * The registry HTTP stack, composed here from small pieces (src/oci/http), modelled on
 * go-containerregistry's transport: scheme (Scheme.ts), ping and challenge (Ping.ts), Basic
 * (Basic.ts) and Bearer with token cache and scope upgrade (Bearer.ts), the redirect policy
 * (Redirects.ts) and per-host limit (HostLimit.ts) inside one exchange (Exchange.ts), the
 * retry policy (RetryPolicy.ts), body limits (BodyReader.ts) and the URL policy (UrlPolicy.ts).
 * Plain functions, no fiber or span per request. Registry operations (RegistryClient) sit on top.
 */
import { HttpClient } from "@effect/platform"
import type { HttpClientResponse } from "@effect/platform"
import { Clock, Context, Duration, Effect, Layer, Option, Redacted } from "effect"
import { RateLimited, RegistryUnavailable, TransportFailure, Unauthorized } from "../model/Errors.ts"
import type { ResponseTooLarge, UnsupportedUrl } from "../model/Errors.ts"
import type { Endpoint } from "../model/Location.ts"
import { Credentials } from "./Credentials.ts"
import { basicHeader } from "./http/Basic.ts"
import { makeTokens } from "./http/Bearer.ts"
import { errorDetail } from "./http/BodyReader.ts"
import { challengeScopes, pickChallenge } from "./http/Challenge.ts"
import { makeExchange } from "./http/Exchange.ts"
import type { Method, RequestBody } from "./http/Exchange.ts"
import { makePings } from "./http/Ping.ts"
import { makePullQuota, PullQuota } from "./http/PullQuota.ts"
import { defaultRetrySettings, parseRetryAfter, Retryable, retryableStatus, withRetry } from "./http/RetryPolicy.ts"
import type { RetrySettings } from "./http/RetryPolicy.ts"
import { makeScheme } from "./http/Scheme.ts"

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
  requestsPerRegistry: 32,
  requestTimeout: "60 seconds"
}

/** One registry request. `path` is "/v2/…" on the endpoint, or an absolute URL (upload Locations). */
export interface RegistryRequest {
  readonly method: Method
  readonly path: string
  readonly headers?: Readonly<Record<string, string>>
  /** bytes (replayable, retried here), or a stream (sent once; the caller retries the whole upload) */
  readonly body?: RequestBody
  /** token scopes this request needs, e.g. "repository:library/busybox:pull" */
  readonly scopes: ReadonlyArray<string>
}

/** Errors of the HTTP stack. */
export type RegistryHttpError = Unauthorized | RegistryUnavailable | TransportFailure | UnsupportedUrl | ResponseTooLarge | RateLimited

/** The RegistryHttp service: sends one request with auth, redirects and retries handled. */
export class RegistryHttp extends Context.Tag("syncer/RegistryHttp")<RegistryHttp, {
  /** Statuses other than 401/403/429/5xx are returned for the caller to interpret. */
  readonly send: (endpoint: Endpoint, request: RegistryRequest) => Effect.Effect<HttpClientResponse.HttpClientResponse, RegistryHttpError>
}>() {
  /** The live stack on the platform HttpClient. */
  static layer(settings: RegistryHttpSettings = defaultRegistryHttpSettings) {
    return Layer.effect(RegistryHttp, make(settings))
  }
}

const noAuthorization = Effect.succeed(undefined)

const make = (settings: RegistryHttpSettings) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const credentials = yield* Credentials
    const retry = withRetry(settings.retry)
    const stallMs = settings.stallTimeoutMs ?? 30_000
    const scheme = makeScheme()
    const exchange = makeExchange(client, settings, scheme.baseUrl)
    const pings = makePings(exchange, scheme, retry, stallMs)
    const tokens = makeTokens(exchange, stallMs)
    // The run's book when the composition root gives one (the report shows it), else one of our own.
    const quota = Option.getOrElse(yield* Effect.serviceOption(PullQuota), makePullQuota)

    const lookupCredential = (endpoint: Endpoint) =>
      credentials.lookup(endpoint.host, endpoint.role).pipe(
        Effect.catchTag("CredentialsFailed", (e) => Effect.fail(new TransportFailure({ transport: e.provider, detail: e.detail })))
      )

    /** The `Authorization` value for a request, if any. */
    const authorization = (endpoint: Endpoint, scopes: ReadonlyArray<string>) =>
      pings.isOpen(endpoint) ? noAuthorization : Effect.gen(function*() {
        const challenge = yield* pings.challengeFor(endpoint)
        if (!challenge) return undefined
        const credential = yield* lookupCredential(endpoint)
        if (Option.isSome(credential) && credential.value._tag === "RegistryToken") return `Bearer ${Redacted.value(credential.value.token)}`
        if (challenge.scheme === "basic") {
          return Option.isSome(credential) && credential.value._tag === "Basic" ? basicHeader(credential.value.username, credential.value.password) : undefined
        }
        return `Bearer ${Redacted.value(yield* tokens.token(endpoint, challenge, scopes, credential))}`
      })

    const send = (endpoint: Endpoint, request: RegistryRequest) => {
      // A streamed body cannot be replayed: the caller retries the whole blob copy instead.
      const streamed = request.body !== undefined && !(request.body instanceof Uint8Array)
      // A manifest GET is a pull (Docker Hub counts them); once the limit is hit, none goes out.
      const pull = request.method === "GET" && /\/manifests\/[^/]+$/.test(request.path.split("?")[0] ?? "")
      const registry = endpoint.registry
      const spent = pull ? quota.exhausted(registry) : undefined
      if (spent !== undefined) {
        return Effect.fail(new RateLimited({ registry, resetAt: spent || undefined, detail: "the limit was reached earlier in this run" }))
      }
      const once = (scopes: ReadonlyArray<string>, reauthed: boolean): Effect.Effect<HttpClientResponse.HttpClientResponse, Retryable | RegistryHttpError> =>
        Effect.gen(function*() {
          const auth = yield* authorization(endpoint, scopes)
          // After the ping, which may have switched the host to https.
          const url = request.path.startsWith("http") ? request.path : `${scheme.baseUrl(endpoint)}${request.path}`
          const res = yield* exchange(endpoint, request.method, url, auth ? { ...request.headers, authorization: auth } : { ...request.headers }, request.body)
          quota.observe(registry, res.headers)
          if (pull && res.status === 200) quota.countGet(registry)
          if (res.status === 401 && !reauthed && !streamed) {
            const challenge = pickChallenge(res.headers["www-authenticate"])
            if (challenge !== undefined && auth === undefined && pings.isOpen(endpoint)) {
              // `/v2/` was open but this repository is not: answer this challenge from now on.
              pings.learn(endpoint, challenge)
              return yield* once([...challengeScopes(challenge).filter((s) => !scopes.includes(s)), ...scopes], true)
            }
            // The registry may want more scopes than we asked for (a mount needs pull on `from`).
            if (challenge?.scheme === "bearer") {
              const wanted = challengeScopes(challenge)
              tokens.remember(endpoint, request.scopes, wanted)
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
            // The pull limit (its message says so, or nothing is left), not a moment's throttling: a retry would only wait for nothing.
            if (res.status === 429 && (/pull rate limit/i.test(detail) || /^0(;|$)/.test(res.headers["ratelimit-remaining"]?.trim() ?? ""))) {
              const now = yield* Clock.currentTimeMillis
              const wait = parseRetryAfter(res.headers["retry-after"] ?? res.headers["ratelimit-reset"], now)
              const resetAt = wait === undefined ? undefined : new Date(now + Duration.toMillis(wait)).toISOString()
              quota.exhaust(registry, resetAt)
              return yield* new RateLimited({ registry, resetAt, detail: `HTTP 429${detail ? ` ${detail}` : ""}` })
            }
            return yield* new Retryable({
              registry: endpoint.host,
              detail: `${request.method} ${new URL(url).pathname}: HTTP ${res.status}${detail ? ` ${detail}` : ""}`,
              retryAfter: parseRetryAfter(res.headers["retry-after"], yield* Clock.currentTimeMillis)
            })
          }
          return res
        })
      const attempt = once(request.scopes, false)
      return (streamed ? attempt : retry(attempt)).pipe(
        Effect.catchTag("Retryable", (e) => Effect.fail(new RegistryUnavailable({ registry: e.registry, detail: e.detail })))
      )
    }

    return { send }
  })
