/**
 * The registry HTTP stack, composed here from small pieces (src/oci/http), modelled on
 * go-containerregistry's transport: scheme (Scheme.ts), ping and challenge (Ping.ts), Basic
 * (Basic.ts) and Bearer with token cache and scope upgrade (Bearer.ts), the redirect policy
 * (Redirects.ts) and per-host limit (HostLimit.ts) inside one exchange on fetch (Exchange.ts),
 * the retry policy (RetryPolicy.ts), body limits (BodyReader.ts) and the URL policy
 * (UrlPolicy.ts). Credentials come from the Keychain. Registry operations sit on top (Fetch,
 * Push, Mount, Tags, Referrers, assembled in RegistryClient).
 */
import { FetchHttpClient } from "@effect/platform"
import { Clock, Context, Data, Duration, Effect, FiberRef, Layer, LogLevel, Option, Runtime } from "effect"
import { RateLimited, RegistryUnavailable, Unauthorized } from "../model/Errors.ts"
import type { ResponseTooLarge, TransportFailure, UnsupportedUrl } from "../model/Errors.ts"
import type { Endpoint } from "../model/Location.ts"
import { makeAuthorization } from "./http/Authorization.ts"
import type { Auth } from "./http/Authorization.ts"
import { makeTokens } from "./http/Bearer.ts"
import { readErrorText } from "./http/BodyReader.ts"
import { makeExchange } from "./http/Exchange.ts"
import type { FetchFunction, Method } from "./http/Exchange.ts"
import { makePings } from "./http/Ping.ts"
import { makePullQuota, PullQuota } from "./http/PullQuota.ts"
import { defaultRetrySettings, parseRetryAfter, Retryable, retryableStatus, retryThen, withRetry } from "./http/RetryPolicy.ts"
import type { RetrySettings } from "./http/RetryPolicy.ts"
import { makeScheme } from "./http/Scheme.ts"
import { Keychain } from "./Keychain.ts"
import { isPullLimit, parseErrorBody } from "./RegistryError.ts"

/** Settings of the HTTP stack. */
export interface RegistryHttpSettings {
  readonly userAgent: string
  readonly retry: RetrySettings
  /** requests in flight per registry host (headers phase) */
  readonly requestsPerRegistry: number
  /** time to wait for response headers before the try counts as failed */
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
  /** sent once, never retried here (a PATCH chunk a registry may already have appended) */
  readonly once?: boolean
}

/** A request whose body is a stream: sent once; the caller retries the whole upload. */
export interface StreamedRequest extends Omit<RegistryRequest, "body"> {
  readonly body: ReadableStream<Uint8Array>
  /** the body's length, sent as `Content-Length` (a stream of unknown length goes chunked) */
  readonly length?: number
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
export class RegistryHttp extends Context.Tag("image-syncer/oci/RegistryHttp")<RegistryHttp, {
  /** Statuses other than 401/403/429/5xx are returned for the caller to interpret. */
  readonly send: (endpoint: Endpoint, request: RegistryRequest) => Effect.Effect<Response, RegistryHttpError>
  /** `send` for a streamed body: sent once, not retried; StaleCredentials when fresh credentials could answer a 401 */
  readonly sendStreamed: (endpoint: Endpoint, request: StreamedRequest) => Effect.Effect<Response, RegistryHttpError | StaleCredentials>
  /** the stall timeout of body reads, for the operations that read bodies */
  readonly stallMs: number
}>() {
  /** The live stack on the platform's fetch (`FetchHttpClient.Fetch` when provided, for tests), with the Keychain's credentials. */
  static layer(settings: RegistryHttpSettings = defaultRegistryHttpSettings) {
    return Layer.effect(RegistryHttp, make(settings))
  }
}

const NO_HEADERS: Readonly<Record<string, string>> = {}

const make = (settings: RegistryHttpSettings) =>
  Effect.gen(function*() {
    const keychain = yield* Keychain
    const fetch = Option.getOrElse(yield* Effect.serviceOption(FetchHttpClient.Fetch), () => globalThis.fetch) as unknown as FetchFunction
    // --debug: the level and logger in force where the stack is built (the run's).
    const runtime = yield* Effect.runtime<never>()
    const debug = LogLevel.lessThanEqual(yield* FiberRef.get(FiberRef.currentMinimumLogLevel), LogLevel.Debug)
    const retry = withRetry(settings.retry)
    const retried = retryThen(settings.retry)
    const unavailable = (e: Retryable) => new RegistryUnavailable({ registry: e.registry, detail: e.detail })
    const stallMs = settings.stallTimeoutMs ?? 30_000
    const scheme = makeScheme()
    const exchange = makeExchange(fetch, {
      ...settings,
      debug: () => debug,
      log: (line) => Runtime.runSync(runtime)(Effect.logDebug(line))
    }, scheme.baseUrl)
    const pings = makePings(exchange, scheme, retry, stallMs)
    const tokens = makeTokens(exchange, stallMs)
    // The run's book when the caller gives one (the report shows it), else one of our own.
    const quota = Option.getOrElse(yield* Effect.serviceOption(PullQuota), makePullQuota)

    const { authorization, reauthenticate, refused } = makeAuthorization({ keychain, pings, tokens, stallMs })

    const exchangeWithAuth = (endpoint: Endpoint, request: RegistryRequest | StreamedRequest) => {
      // A streamed body cannot be replayed: the caller retries the whole blob copy instead.
      const streamed = request.body instanceof ReadableStream
      // A manifest GET is a pull (Docker Hub counts them); once the limit is hit, none goes out.
      const pull = request.method === "GET" && request.path.includes("/manifests/")
      const registry = endpoint.registry
      const spent = pull ? quota.exhausted(registry) : undefined
      if (spent !== undefined) {
        return Effect.fail(new RateLimited({ registry, resetAt: spent || undefined, detail: "the limit was reached earlier in this run" }))
      }
      const length = "length" in request && request.length !== undefined ? { "content-length": String(request.length) } : undefined
      const once = (scopes: ReadonlyArray<string>, reauthed: boolean): Effect.Effect<Response, Retryable | RegistryHttpError | StaleCredentials> =>
        Effect.flatMap(authorization(endpoint, scopes), (auth) => {
          // After the ping, which may have switched the host to https.
          const url = request.path.startsWith("http") ? request.path : `${scheme.baseUrl(endpoint)}${request.path}`
          const headers = auth.header || length
            ? { ...request.headers, ...length, ...(auth.header ? { authorization: auth.header } : {}) }
            : request.headers ?? NO_HEADERS
          return Effect.flatMap(exchange(endpoint, request.method, url, headers, request.body), (res) => answered(res, url, scopes, auth, reauthed))
        })
      const answered = (
        res: Response,
        url: string,
        scopes: ReadonlyArray<string>,
        auth: Auth,
        reauthed: boolean
      ): Effect.Effect<Response, Retryable | RegistryHttpError | StaleCredentials> => {
        quota.observe(registry, res.headers)
        const status = res.status
        if (status < 400) {
          if (pull && status === 200) quota.countGet(registry)
          return Effect.succeed(res)
        }
        return Effect.gen(function*() {
          if (status === 401 && !reauthed) {
            const again = reauthenticate(endpoint, request.scopes, scopes, auth, res.headers.get("www-authenticate") ?? undefined)
            if (again !== undefined) {
              yield* readErrorText(res, stallMs)
              // The body went out with this request: the caller sends it again from its source.
              if (streamed) return yield* new StaleCredentials({ registry: endpoint.host })
              return yield* once(again, true)
            }
          }
          if (status === 401 || status === 403) return yield* Effect.flatMap(refused(endpoint, res, auth), Effect.fail)
          if (!retryableStatus(status)) return res
          const body = parseErrorBody(yield* readErrorText(res, stallMs))
          const words = [body.codes.join(", "), body.detail].filter((w) => w !== "").join(": ")
          const now = yield* Clock.currentTimeMillis
          // The pull limit, not a moment's throttling: a retry would only wait for nothing.
          if (status === 429 && isPullLimit(body, res.headers.get("ratelimit-remaining"))) {
            const wait = parseRetryAfter(res.headers.get("retry-after") ?? res.headers.get("ratelimit-reset") ?? undefined, now)
            const resetAt = wait === undefined ? undefined : new Date(now + Duration.toMillis(wait)).toISOString()
            quota.exhaust(registry, resetAt)
            return yield* new RateLimited({ registry, resetAt, detail: `HTTP 429${words ? ` ${words}` : ""}` })
          }
          return yield* new Retryable({
            registry: endpoint.host,
            detail: `${request.method} ${new URL(url).pathname}: HTTP ${status}${words ? ` ${words}` : ""}`,
            retryAfter: parseRetryAfter(res.headers.get("retry-after") ?? undefined, now)
          })
        })
      }
      const attempt = once(request.scopes, false)
      // One step on the way when nothing fails: the retries, and the last Retryable as RegistryUnavailable.
      return streamed || request.once === true
        ? Effect.catchIf(attempt, (e): e is Retryable => e instanceof Retryable, (e) => Effect.fail(unavailable(e)))
        : retried(attempt, unavailable)
    }

    const send = (endpoint: Endpoint, request: RegistryRequest) => exchangeWithAuth(endpoint, request) as Effect.Effect<Response, RegistryHttpError>
    const sendStreamed = (endpoint: Endpoint, request: StreamedRequest) => exchangeWithAuth(endpoint, request)
    return { send, sendStreamed, stallMs }
  })
