/**
 * One HTTP exchange with a registry, on the platform's `fetch` directly: one `Effect.async` per
 * hop (interruption aborts the request), the headers timeout folded into the fetch's abort
 * signal, the endpoint's TLS settings (its own CAs, a client certificate, or no verification
 * for `insecure` hosts) on requests to its own origin only, the per-host limit around the
 * headers phase, and redirects followed by the redirect policy. No fiber, span or platform
 * wrapper per request: on loopback those cost more CPU than the request.
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
const badHeader = (headers: Readonly<Record<string, string>>): string | undefined =>
  Object.keys(headers).find((k) => /[\r\n\0]/.test(headers[k]!))

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

/** The exchange over `fetch`; `home` gives an endpoint's own origin (Authorization and TLS settings stay there). */
export const makeExchange = (fetch: FetchFunction, settings: ExchangeSettings, home: (endpoint: Endpoint) => string): Exchange => {
  const timeout = settings.requestTimeout
  const timeoutMs = Duration.toMillis(timeout)
  const limits = new Map<string, Limit>()
  const limitFor = (host: string, own: number | undefined) => {
    let limit = limits.get(host)
    if (!limit) {
      limit = makeLimit(own ?? settings.requestsPerRegistry)
      limits.set(host, limit)
    }
    return limit
  }

  /** One hop: the response headers, or why they did not come. */
  const hop = (registry: string, method: Method, url: URL, init: FetchInit) =>
    Effect.async<Response, Retryable | TransportFailure>((resume, interrupted) => {
      const timer = new AbortController()
      const id = setTimeout(() => timer.abort(new HeadersTimeout()), timeoutMs)
      fetch(url.href, { ...init, method, redirect: "manual", signal: AbortSignal.any([interrupted, timer.signal]) }).then(
        (res) => {
          clearTimeout(id)
          resume(Effect.succeed(res))
        },
        (e: unknown) => {
          clearTimeout(id)
          resume(Effect.fail(fetchFailure(timer.signal.aborted ? new HeadersTimeout() : e, { registry, method, url, timeout })))
        }
      )
    })

  /** `--debug`: one line per request, by method and path (never a query: pre-signed URLs carry secrets there). */
  const logged = (method: Method, url: URL, status: number) => {
    if (settings.debug?.() === true) settings.log?.(`${method} ${url.origin}${url.pathname} -> ${status}`)
  }

  return (endpoint, method, url, headers, body) =>
    Effect.suspend(() => {
      const first = allowedUrl(url, undefined, endpoint.host, `${method} request`)
      if (first._tag === "Left") return Effect.fail(first.left)
      const origin = new URL(home(endpoint)).origin
      const all: Record<string, string> = { ...headers, "user-agent": settings.userAgent }
      const bad = badHeader(all)
      if (bad !== undefined) {
        return Effect.fail(
          new TransportFailure({
            transport: "registry",
            detail: `${first.right.host}: the ${bad === "authorization" ? "credential" : `${bad} header`} for this registry contains a line break or NUL; refusing to send it`
          })
        )
      }
      const limit = limitFor(endpoint.host, endpoint.maxRequests)
      const loop = (current: URL, hdrs: Readonly<Record<string, string>>, hops: number): Effect.Effect<Response, Retryable | TransportFailure | UnsupportedUrl> => {
        if (hops > MAX_REDIRECTS) return Effect.fail(new TransportFailure({ transport: "registry", detail: `${url}: too many redirects` }))
        const tls = tlsFor(endpoint, current.origin === origin)
        const init: FetchInit = {
          headers: hdrs,
          ...(body !== undefined ? { body } : {}),
          ...(body instanceof ReadableStream ? { duplex: "half" as const } : {}),
          ...(tls !== undefined ? { tls } : {})
        }
        return Effect.flatMap(limit.withPermit(hop(endpoint.host, method, current, init)), (res) => {
          logged(method, current, res.status)
          const next = nextHop(
            { status: res.status, location: res.headers.get("location") ?? undefined },
            { method, url: current, headers: hdrs, home: origin, registry: endpoint.host }
          )
          if (next._tag === "Left") return Effect.fail(next.left)
          if (next.right === undefined) return Effect.succeed(res)
          // The redirect's own body is not wanted.
          void res.body?.cancel().catch(() => {})
          return loop(next.right.url, next.right.headers, hops + 1)
        })
      }
      return loop(first.right, all, 0)
    })
}
