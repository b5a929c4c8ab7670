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
import { Clock, Context, Data, Duration, Effect, Layer, Option, Redacted } from "effect"
import { RateLimited, RegistryUnavailable, TransportFailure, Unauthorized } from "../model/Errors.ts"
import type { ResponseTooLarge, UnsupportedUrl } from "../model/Errors.ts"
import type { Endpoint } from "../model/Location.ts"
import { Credentials } from "./Credentials.ts"
import { basicHeader } from "./http/Basic.ts"
import { makeTokens } from "./http/Bearer.ts"
import type { IssuedToken } from "./http/Bearer.ts"
import { errorDetail, readErrorText } from "./http/BodyReader.ts"
import { challengeScopes, pickChallenge, scopeCovered } from "./http/Challenge.ts"
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
  /** bytes: replayable, retried here */
  readonly body?: Uint8Array
  /** token scopes this request needs, e.g. "repository:library/busybox:pull" */
  readonly scopes: ReadonlyArray<string>
}

/** A request whose body is a stream: sent once; the caller retries the whole upload. */
export interface StreamedRequest extends Omit<RegistryRequest, "body"> {
  readonly body: Exclude<RequestBody, Uint8Array>
}

/**
 * A streamed request met a 401 that fresh credentials can answer (a refused token, a challenge
 * learnt just now); its body is gone, so the caller sends the whole request again, once.
 */
export class StaleCredentials extends Data.TaggedError("StaleCredentials")<{ readonly registry: string }> {
  override get message() {
    return `${this.registry}: access denied (HTTP 401): the registry refused fresh credentials too`
  }
  /** What a second refusal is: the credentials themselves are refused. */
  get unauthorized() {
    return new Unauthorized({ registry: this.registry, status: 401, detail: "the registry refused the credentials again, with a fresh token" })
  }
}

/** Errors of the HTTP stack. */
export type RegistryHttpError = Unauthorized | RegistryUnavailable | TransportFailure | UnsupportedUrl | ResponseTooLarge | RateLimited

/** The RegistryHttp service: sends one request with auth, redirects and retries handled. */
export class RegistryHttp extends Context.Tag("syncer/RegistryHttp")<RegistryHttp, {
  /** Statuses other than 401/403/429/5xx are returned for the caller to interpret. */
  readonly send: (endpoint: Endpoint, request: RegistryRequest) => Effect.Effect<HttpClientResponse.HttpClientResponse, RegistryHttpError>
  /** `send` for a streamed body: sent once, not retried; StaleCredentials when fresh credentials could answer a 401 */
  readonly sendStreamed: (
    endpoint: Endpoint,
    request: StreamedRequest
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, RegistryHttpError | StaleCredentials>
}>() {
  /** The live stack on the platform HttpClient. */
  static layer(settings: RegistryHttpSettings = defaultRegistryHttpSettings) {
    return Layer.effect(RegistryHttp, make(settings))
  }
}

/** What a request carries for auth: the header, the token it came from, and whether the auth machinery was skipped (an open registry). */
interface Auth {
  readonly header: string | undefined
  readonly issued?: IssuedToken
  /** the registry's `/v2/` needed no auth when the request went out, so no credentials were looked for */
  readonly skipped: boolean
}

const SKIPPED: Auth = { header: undefined, skipped: true }
const NONE: Auth = { header: undefined, skipped: false }

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

    /** What a request carries for auth, decided by what the registry asked for so far. */
    const authorization = (endpoint: Endpoint, scopes: ReadonlyArray<string>): Effect.Effect<Auth, RegistryHttpError | Retryable> =>
      pings.isOpen(endpoint) ? Effect.succeed(SKIPPED) : Effect.gen(function*() {
        const challenge = yield* pings.challengeFor(endpoint)
        if (!challenge) return SKIPPED
        const credential = yield* lookupCredential(endpoint)
        if (Option.isSome(credential) && credential.value._tag === "RegistryToken") {
          return { header: `Bearer ${Redacted.value(credential.value.token)}`, skipped: false }
        }
        if (challenge.scheme === "basic") {
          return Option.isSome(credential) && credential.value._tag === "Basic"
            ? { header: basicHeader(credential.value.username, credential.value.password), skipped: false }
            : NONE
        }
        const issued = yield* tokens.token(endpoint, challenge, scopes, credential)
        return { header: `Bearer ${Redacted.value(issued.token)}`, issued, skipped: false }
      })

    /**
     * A 401 that one more try can answer: the scopes to try again with, or undefined. The
     * decision belongs to the registry, not to the request that met it: a challenge behind an
     * open `/v2/` is learnt for every request to the host; a token the registry refused is
     * forgotten (unless it was fetched just now: then the credentials are what it refused).
     */
    const reauthenticate = (endpoint: Endpoint, requested: ReadonlyArray<string>, scopes: ReadonlyArray<string>, auth: Auth, header: string | undefined) => {
      const challenge = pickChallenge(header)
      if (challenge === undefined) return undefined
      const wanted = challengeScopes(challenge)
      const missing = wanted.filter((s) => !scopeCovered(scopes, s))
      const merged = [...wanted, ...scopes.filter((s) => !wanted.includes(s))]
      if (auth.skipped) {
        // `/v2/` was open but this repository is not: answer this challenge from now on.
        pings.learn(endpoint, challenge)
        return merged
      }
      if (challenge.scheme !== "bearer" || auth.issued === undefined) return undefined
      // The registry may want more scopes than we asked for (a mount needs pull on `from`).
      if (missing.length > 0) {
        tokens.remember(endpoint, requested, missing)
        return [...missing, ...scopes]
      }
      if (auth.issued.fresh) return undefined
      tokens.reject(auth.issued)
      return scopes
    }

    const exchangeWithAuth = (endpoint: Endpoint, request: RegistryRequest | StreamedRequest) => {
      // A streamed body cannot be replayed: the caller retries the whole blob copy instead.
      const streamed = request.body !== undefined && !(request.body instanceof Uint8Array)
      // A manifest GET is a pull (Docker Hub counts them); once the limit is hit, none goes out.
      const pull = request.method === "GET" && /\/manifests\/[^/]+$/.test(request.path.split("?")[0] ?? "")
      const registry = endpoint.registry
      const spent = pull ? quota.exhausted(registry) : undefined
      if (spent !== undefined) {
        return Effect.fail(new RateLimited({ registry, resetAt: spent || undefined, detail: "the limit was reached earlier in this run" }))
      }
      const once = (
        scopes: ReadonlyArray<string>,
        reauthed: boolean
      ): Effect.Effect<HttpClientResponse.HttpClientResponse, Retryable | RegistryHttpError | StaleCredentials> =>
        Effect.gen(function*() {
          const auth = yield* authorization(endpoint, scopes)
          // After the ping, which may have switched the host to https.
          const url = request.path.startsWith("http") ? request.path : `${scheme.baseUrl(endpoint)}${request.path}`
          const res = yield* exchange(endpoint, request.method, url, auth.header ? { ...request.headers, authorization: auth.header } : { ...request.headers }, request.body)
          quota.observe(registry, res.headers)
          if (pull && res.status === 200) quota.countGet(registry)
          if (res.status === 401 && !reauthed) {
            const again = reauthenticate(endpoint, request.scopes, scopes, auth, res.headers["www-authenticate"])
            if (again !== undefined) {
              yield* readErrorText(res, stallMs)
              // The body went out with this request: the caller sends it again from its source.
              if (streamed) return yield* new StaleCredentials({ registry: endpoint.host })
              return yield* once(again, true)
            }
          }
          if (res.status === 401 || res.status === 403) {
            const body = yield* errorDetail(res, stallMs)
            const detail = auth.header
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

    const send = (endpoint: Endpoint, request: RegistryRequest) =>
      exchangeWithAuth(endpoint, request) as Effect.Effect<HttpClientResponse.HttpClientResponse, RegistryHttpError>
    const sendStreamed = (endpoint: Endpoint, request: StreamedRequest) => exchangeWithAuth(endpoint, request)
    return { send, sendStreamed }
  })
