/**
 * One HTTP exchange with a registry, on the platform's `fetch` directly: one `Effect.async` for
 * all its hops (interruption aborts the request), the headers timeout as the fetch's abort
 * signal, the endpoint's TLS settings (its own CAs, a client certificate, or no verification
 * for `insecure` hosts) on requests to its own origin only, the per-host limit around each
 * hop's headers phase, and redirects followed by the redirect policy. Inside, plain callbacks:
 * no fiber, span, platform wrapper or Effect step per hop — on loopback each of those costs
 * more CPU than the request, and the fiber is resumed once, with the answer.
 */
import { Duration, Effect } from "effect"
import { TransportFailure } from "../../model/Errors.ts"
import type { UnsupportedUrl } from "../../model/Errors.ts"
import type { Endpoint } from "../../model/Location.ts"
import { makeLimit } from "./HostLimit.ts"
import type { Limit } from "./HostLimit.ts"
import { fetchFailure, HeadersTimeout } from "./NetworkErrors.ts"
import { MAX_REDIRECTS, nextHop } from "./Redirects.ts"
import type { Retryable } from "./RetryPolicy.ts"
import { allowedUrl } from "./UrlPolicy.ts"

/** The HTTP methods registries are spoken to with. */
export type Method = "GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE"

/** A request body: bytes (replayable), or a web stream (sent once; give its length as `content-length` when known). */
export type RequestBody = Uint8Array | ReadableStream<Uint8Array>

/** Settings of the exchange. */
export interface ExchangeSettings {
  readonly userAgent: string
  readonly requestTimeout: Duration.DurationInput
  readonly requestsPerRegistry: number
  /** whether requests are logged now (asked per request, so it follows the run's log level) */
  readonly debug?: () => boolean
  /** where request lines go when logged */
  readonly log?: (line: string) => void
}

/** The fetch options Bun adds to the standard ones (TLS per request, half-duplex stream bodies). */
export interface FetchInit extends RequestInit {
  readonly tls?: { readonly rejectUnauthorized?: boolean; readonly ca?: string | ReadonlyArray<string>; readonly cert?: string; readonly key?: string }
  readonly duplex?: "half"
}

/** A fetch function: the platform's, or a test's. */
export type FetchFunction = (url: string, init: FetchInit) => Promise<Response>

/** One exchange: the response, or why there was none. */
export type Exchange = (
  endpoint: Endpoint,
  method: Method,
  url: string,
  headers: Readonly<Record<string, string>>,
  body: RequestBody | undefined
) => Effect.Effect<Response, Retryable | TransportFailure | UnsupportedUrl>

/** A header value that would split the request (CR, LF, NUL): never sent. */
const SPLITS = /[\r\n\0]/

/** The TLS options of a request to `endpoint`'s own origin; another origin (a storage redirect) gets the defaults. */
const tlsFor = (endpoint: Endpoint, own: boolean): FetchInit["tls"] => {
  if (!own) return undefined
  if (endpoint.skipTlsVerify) return { rejectUnauthorized: false }
  const tls = endpoint.tls
  if (tls === undefined) return undefined
  return {
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
    ...(tls.key !== undefined ? { key: tls.key } : {})
  }
}

const isRedirect = (status: number) => status >= 300 && status < 400

/** One exchange's request, checked and ready to go. */
interface Job {
  readonly fetch: FetchFunction
  readonly endpoint: Endpoint
  readonly method: Method
  readonly url: string
  /** the URL parsed when it is not a path on the endpoint's own base */
  readonly parsed: URL | undefined
  readonly headers: Readonly<Record<string, string>>
  readonly body: RequestBody | undefined
  readonly limit: Limit
  /** the endpoint's own origin: Authorization and TLS settings stay there */
  readonly origin: string
  readonly timeout: Duration.DurationInput
  readonly timeoutMs: number
  /** `--debug`: a line per hop */
  readonly logged: ((method: Method, url: URL, status: number) => void) | undefined
}

/**
 * Every hop of one exchange in one callback chain: the permit (headers phase), the fetch with
 * its timeout, redirects followed by the policy. The fiber waits once and is resumed with the
 * answer; interrupted, it stops waiting for a permit, or aborts the request and gives the permit back.
 */
const hops = (job: Job): Effect.Effect<Response, Retryable | TransportFailure | UnsupportedUrl> => {
  const { fetch, endpoint, method, url, body, limit, origin, timeout, timeoutMs } = job
  const streamed = body instanceof ReadableStream
  return Effect.async<Response, Retryable | TransportFailure | UnsupportedUrl>((resume) => {
    let settled = false
    let holding = false
    let waiting: (() => boolean) | undefined
    let controller: AbortController | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    const release = () => {
      if (!holding) return
      holding = false
      limit.release()
    }
    const settle = (effect: Effect.Effect<Response, Retryable | TransportFailure | UnsupportedUrl>) => {
      if (settled) return
      settled = true
      resume(effect)
    }

    const hop = (current: string, currentUrl: URL | undefined, hdrs: Readonly<Record<string, string>>, hops: number) => {
      if (hops > MAX_REDIRECTS) return settle(Effect.fail(new TransportFailure({ transport: "registry", detail: `${url}: too many redirects` })))
      let granted = false
      const cancel = limit.acquire(() => {
        granted = true
        waiting = undefined
        holding = true
        send(current, currentUrl, hdrs, hops)
      })
      if (!granted) waiting = cancel
    }

    const send = (current: string, currentUrl: URL | undefined, hdrs: Readonly<Record<string, string>>, hops: number) => {
      const abort = new AbortController()
      controller = abort
      timer = setTimeout(() => abort.abort(new HeadersTimeout()), timeoutMs)
      const tls = tlsFor(endpoint, currentUrl === undefined || currentUrl.origin === origin)
      const init: FetchInit = {
        method,
        headers: hdrs,
        redirect: "manual",
        signal: abort.signal,
        ...(body !== undefined ? { body } : {}),
        ...(streamed ? { duplex: "half" as const } : {}),
        ...(tls !== undefined ? { tls } : {})
      }
      const failed = (e: unknown) => {
        clearTimeout(timer)
        release()
        if (settled) return
        const at = currentUrl ?? new URL(current)
        settle(Effect.fail(fetchFailure(abort.signal.aborted ? new HeadersTimeout() : e, { registry: endpoint.host, method, url: at, timeout })))
      }
      let pending: Promise<Response>
      try {
        pending = fetch(current, init)
      } catch (e) {
        return failed(e)
      }
      const answered = (res: Response) => {
        clearTimeout(timer)
        release()
        if (settled) {
          void res.body?.cancel().catch(() => {})
          return
        }
        job.logged?.(method, currentUrl ?? new URL(current), res.status)
        if (!isRedirect(res.status)) return settle(Effect.succeed(res))
        const at = currentUrl ?? new URL(current)
        const next = nextHop(
          { status: res.status, location: res.headers.get("location") ?? undefined },
          { method, url: at, headers: hdrs, home: origin, registry: endpoint.host }
        )
        if (next._tag === "Left") return settle(Effect.fail(next.left))
        if (next.right === undefined) return settle(Effect.succeed(res))
        // The redirect's own body is not wanted.
        void res.body?.cancel().catch(() => {})
        hop(next.right.url.href, next.right.url, next.right.headers, hops + 1)
      }
      pending.then((res) => {
        try {
          answered(res)
        } catch (e) {
          settle(Effect.die(e))
        }
      }, failed)
    }

    hop(job.parsed?.href ?? url, job.parsed, job.headers, 0)
    // Interrupted: stop waiting for a permit, or abort the request and give the permit back.
    return Effect.sync(() => {
      settled = true
      waiting?.()
      waiting = undefined
      clearTimeout(timer)
      controller?.abort()
      release()
    })
  })
}

/** The exchange over `fetch`; `home` gives an endpoint's own origin (Authorization and TLS settings stay there). */
export const makeExchange = (fetch: FetchFunction, settings: ExchangeSettings, home: (endpoint: Endpoint) => string): Exchange => {
  const timeout = settings.requestTimeout
  const timeoutMs = Duration.toMillis(timeout)
  const userAgent = settings.userAgent
  const limits = new Map<string, Limit>()
  const limitFor = (host: string, own: number | undefined) => {
    let limit = limits.get(host)
    if (!limit) {
      limit = makeLimit(own ?? settings.requestsPerRegistry)
      limits.set(host, limit)
    }
    return limit
  }
  // An endpoint's base URL ("http://host:port") and its origin, parsed once per base.
  const origins = new Map<string, string>()
  const originOf = (base: string) => {
    let origin = origins.get(base)
    if (origin === undefined) {
      origin = new URL(base).origin
      origins.set(base, origin)
    }
    return origin
  }

  /** `--debug`: one line per request, by method and path (never a query: pre-signed URLs carry secrets there). */
  const logged = (method: Method, url: URL, status: number) => {
    if (settings.debug?.() === true) settings.log?.(`${method} ${url.origin}${url.pathname} -> ${status}`)
  }

  return (endpoint, method, url, headers, body) => {
    const base = home(endpoint)
    const origin = originOf(base)
    // A path on the endpoint's own base is http(s) by construction; any other URL (an upload
    // Location, a token realm) passes the URL policy first.
    let parsed: URL | undefined
    if (!(url.startsWith(base) && url.charCodeAt(base.length) === 47)) {
      const allowed = allowedUrl(url, undefined, endpoint.host, `${method} request`)
      if (allowed._tag === "Left") return Effect.fail(allowed.left)
      parsed = allowed.right
    }
    const all: Record<string, string> = {}
    for (const name in headers) {
      const value = headers[name]!
      if (SPLITS.test(value)) {
        const host = parsed?.host ?? endpoint.host
        return Effect.fail(
          new TransportFailure({
            transport: "registry",
            detail: `${host}: the ${
              name === "authorization" ? "credential" : `${name} header`
            } for this registry contains a line break or NUL; refusing to send it`
          })
        )
      }
      all[name] = value
    }
    all["user-agent"] = userAgent
    const limit = limitFor(endpoint.host, endpoint.maxRequests)

    return hops({
      fetch,
      endpoint,
      method,
      url,
      parsed,
      headers: all,
      body,
      limit,
      origin,
      timeout,
      timeoutMs,
      logged: settings.debug?.() === true ? logged : undefined
    })
  }
}
