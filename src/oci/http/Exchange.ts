/**
 * One HTTP exchange with a registry: the request built (body as bytes or a stream), fetched
 * with the headers timeout and the endpoint's TLS setting folded into fetch itself (one
 * context entry per request, no timeout fiber and no span: on loopback those cost more CPU
 * than the request), under the per-host limit, redirects followed by the redirect policy.
 */
import { FetchHttpClient, HttpBody, HttpClientRequest } from "@effect/platform"
import type { HttpClient, HttpClientResponse } from "@effect/platform"
import { Context, Duration, Effect, Either } from "effect"
import type { Stream } from "effect"
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

/** A request body: bytes (replayable), or a stream (sent once). */
export type RequestBody = Uint8Array | ReadableStream<Uint8Array> | Stream.Stream<Uint8Array, unknown>

/** Settings of the exchange. */
export interface ExchangeSettings {
  readonly userAgent: string
  readonly requestTimeout: Duration.DurationInput
  readonly requestsPerRegistry: number
}

/** One exchange: the response, or why there was none. */
export type Exchange = (
  endpoint: Endpoint,
  method: Method,
  url: string,
  headers: Readonly<Record<string, string>>,
  body: RequestBody | undefined
) => Effect.Effect<HttpClientResponse.HttpClientResponse, Retryable | TransportFailure | UnsupportedUrl>

/** A header value that would split the request (CR, LF, NUL): never sent. */
const badHeader = (headers: Readonly<Record<string, string>>): string | undefined =>
  Object.keys(headers).find((k) => /[\r\n\0]/.test(headers[k]!))

const withBody = (request: HttpClientRequest.HttpClientRequest, body: RequestBody | undefined, contentType: string) => {
  if (body instanceof Uint8Array) return HttpClientRequest.setBody(request, HttpBody.uint8Array(body, contentType))
  if (body instanceof ReadableStream) return HttpClientRequest.setBody(request, HttpBody.raw(body, { contentType }))
  if (body) return HttpClientRequest.bodyStream(request, body, { contentType })
  return request
}

/** The exchange over `client`; `home` gives an endpoint's own origin (Authorization stays there). */
export const makeExchange = (client: HttpClient.HttpClient, settings: ExchangeSettings, home: (endpoint: Endpoint) => string): Exchange => {
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

  const limits = new Map<string, Limit>()
  const limitFor = (host: string, own: number | undefined) => {
    let limit = limits.get(host)
    if (!limit) {
      limit = makeLimit(own ?? settings.requestsPerRegistry)
      limits.set(host, limit)
    }
    return limit
  }

  return (endpoint, method, url, headers, body) =>
    Effect.gen(function*() {
      let current = yield* allowedUrl(url, undefined, endpoint.host, `${method} request`)
      const origin = new URL(home(endpoint)).origin
      let hdrs: Readonly<Record<string, string>> = { ...headers, "user-agent": settings.userAgent }
      const bad = badHeader(hdrs)
      if (bad !== undefined) {
        return yield* new TransportFailure({
          transport: "oci",
          detail: `${current.host}: the ${bad === "authorization" ? "credential" : `${bad} header`} for this registry contains a line break or NUL; refusing to send it`
        })
      }
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        // The body's content type becomes the header, so it must carry the manifest's media type.
        const request = withBody(HttpClientRequest.make(method)(current.href).pipe(HttpClientRequest.setHeaders(hdrs)), body, hdrs["content-type"] ?? "application/octet-stream")
        const target = current
        const res = yield* client.execute(request).pipe(
          Effect.provide(endpoint.skipTlsVerify && target.origin === origin ? trustingFetch : verifyingFetch),
          Effect.withTracerEnabled(false),
          Effect.mapError((e) => fetchFailure(e.cause, { registry: endpoint.host, method, url: target, timeout: settings.requestTimeout })),
          limitFor(endpoint.host, endpoint.maxRequests).withPermit
        )
        yield* Effect.logDebug(`${method} ${target.origin}${target.pathname} -> ${res.status}`)
        const next = yield* Either.match(
          nextHop({ status: res.status, location: res.headers["location"] }, { method, url: target, headers: hdrs, home: origin, registry: endpoint.host }),
          { onLeft: Effect.fail, onRight: Effect.succeed }
        )
        if (next === undefined) return res
        current = next.url
        hdrs = next.headers
      }
      return yield* new TransportFailure({ transport: "oci", detail: `${url}: too many redirects` })
    })
}
