/**
 * What every registry stand-in (test/support/registries/<Name>.ts) shares: an HTTP proxy
 * in front of a real docker-registry that forwards each request with its body streamed both
 * ways, rewrites upstream `Location`s to its own origin, and records what each request carried
 * and how it was answered. A personality reproduces a registry's documented quirks by
 * answering some requests itself before they reach the registry behind, by changing what the
 * registry behind is asked, or by changing the status and headers of its answer.
 */
import { once } from "node:events"
import { createServer } from "node:http"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { startRegistry } from "../../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../../demo/LocalRegistry.ts"

/** The registry API endpoint a request addresses (distribution-spec paths). */
export type Route =
  | { readonly kind: "ping" }
  | { readonly kind: "catalog" }
  | { readonly kind: "tags"; readonly repository: string }
  | { readonly kind: "manifest"; readonly repository: string; readonly reference: string }
  | { readonly kind: "blob"; readonly repository: string; readonly digest: string }
  | { readonly kind: "upload-start"; readonly repository: string }
  | { readonly kind: "upload"; readonly repository: string; readonly session: string }
  | { readonly kind: "referrers"; readonly repository: string; readonly digest: string }
  | { readonly kind: "other" }

// uploads before blobs: "blobs/uploads/<id>" would otherwise read as a blob named "uploads"
const ROUTES: ReadonlyArray<readonly [RegExp, (m: RegExpExecArray) => Route]> = [
  [/^\/v2\/?$/, () => ({ kind: "ping" })],
  [/^\/v2\/_catalog$/, () => ({ kind: "catalog" })],
  [/^\/v2\/(.+)\/tags\/list$/, (m) => ({ kind: "tags", repository: m[1]! })],
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: "manifest", repository: m[1]!, reference: m[2]! })],
  [/^\/v2\/(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: "upload-start", repository: m[1]! })],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: "upload", repository: m[1]!, session: m[2]! })],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: "blob", repository: m[1]!, digest: m[2]! })],
  [/^\/v2\/(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: "referrers", repository: m[1]!, digest: m[2]! })]
]

/** The route of a request path (without the query). */
export const routeOf = (pathname: string): Route => {
  for (const [pattern, route] of ROUTES) {
    const m = pattern.exec(pathname)
    if (m !== null) return route(m)
  }
  return { kind: "other" }
}

/** The repository a route names, if any. */
export const repositoryOf = (route: Route): string | undefined => ("repository" in route ? route.repository : undefined)

/** One request as a stand-in saw it and answered it. */
export interface RecordedRequest {
  /** arrival order, from 1 */
  readonly id: number
  readonly method: string
  /** the path without the query */
  readonly path: string
  /** the query without "?", "" when there is none */
  readonly query: string
  readonly route: Route
  /** the Content-Length header the client sent, undefined without one */
  readonly contentLength: number | undefined
  readonly transferEncoding: string | undefined
  readonly contentRange: string | undefined
  readonly contentType: string | undefined
  /** whether an Authorization header came (its value is never recorded) */
  readonly authorization: boolean
  /** body bytes that actually arrived from the client (forwarded upstream or drained) */
  readonly bodyBytes: number
  /** the status the client got; 0 while the request is still in flight */
  readonly status: number
  /** "quirk" when the personality answered, "upstream" when the registry behind did; undefined while in flight */
  readonly answeredBy: "quirk" | "upstream" | undefined
}

type MutableRecord = { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] }

/** An answer a personality gives instead of the registry behind. */
export interface Answer {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | Uint8Array
}

/** A request as a personality sees it. */
export interface StandInRequest {
  readonly method: string
  readonly url: URL
  readonly headers: Headers
  readonly route: Route
  /** the origin of the registry behind, for a personality that needs to ask it something itself */
  readonly upstream: string
  /**
   * Reads the body into memory, all of it or until more than `limit` bytes have come
   * (`complete: false`). What was read is still forwarded if the request goes on upstream.
   */
  readonly readBody: (limit?: number) => Promise<{ readonly bytes: Uint8Array; readonly complete: boolean }>
}

/** The status and headers of the registry's answer as the client will get them (Locations already the stand-in's). */
export interface UpstreamAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
}

/** A registry's behaviour on top of the registry behind. */
export interface Personality {
  /** answers a request itself (an Answer) or lets it through to the registry behind (undefined) */
  readonly answer?: (request: StandInRequest) => Answer | undefined | Promise<Answer | undefined>
  /** the path and query the registry behind gets instead of the client's (e.g. a mount request without `mount`), or undefined */
  readonly rewrite?: (request: StandInRequest) => string | undefined
  /** changes the status and headers of the registry's answer (e.g. a PATCH answered 201); the body passes unchanged */
  readonly adjust?: (request: StandInRequest, answer: UpstreamAnswer) => UpstreamAnswer
  /** sees each answer of the registry behind, e.g. to remember upload sessions that got a PATCH */
  readonly observe?: (request: StandInRequest, status: number) => void
}

/** Options every stand-in takes. */
export interface StandInOptions {
  /** the registry behind; when omitted a fresh docker-registry is started and stopped with the stand-in */
  readonly upstream?: LocalRegistry
}

/** A running stand-in. */
export interface StandIn {
  /** "http://127.0.0.1:PORT" */
  readonly url: string
  /** "127.0.0.1:PORT" */
  readonly host: string
  /** the real registry behind */
  readonly upstream: LocalRegistry
  /** every request so far, in arrival order (live) */
  readonly requests: ReadonlyArray<RecordedRequest>
  /** forgets the requests recorded so far */
  readonly clearRequests: () => void
  /** stops the stand-in, and the registry behind when the stand-in started it; idempotent */
  readonly stop: () => Promise<void>
}

/** A registry error answer: `{"errors":[{code, message, detail}]}` as JSON (distribution-spec error body). */
export const registryError = (
  status: number,
  code: string,
  message: string,
  options: { readonly detail?: unknown; readonly headers?: Readonly<Record<string, string>> } = {}
): Answer => ({
  status,
  headers: { "content-type": "application/json; charset=utf-8", ...options.headers },
  body: JSON.stringify({ errors: [{ code, message, ...(options.detail === undefined ? {} : { detail: options.detail }) }] })
})

/** Requests that carried a body without announcing its size in a Content-Length (what proxies and object stores refuse). */
export const bodiesWithoutLength = (requests: ReadonlyArray<RecordedRequest>): Array<RecordedRequest> =>
  requests.filter((r) => r.bodyBytes > 0 && r.contentLength === undefined)

/**
 * The body of one request: read lazily, counted as it arrives, partly buffered when a
 * personality looks at it, then forwarded (buffered part first) or drained.
 */
class BodyTap {
  private readonly buffered: Array<Uint8Array> = []
  private bufferedBytes = 0
  private ended: boolean

  constructor(private readonly source: AsyncIterator<Uint8Array> | undefined, private readonly count: (bytes: number) => void) {
    this.ended = source === undefined
  }

  private async pull(): Promise<Uint8Array | undefined> {
    if (this.ended || this.source === undefined) return undefined
    const { value, done } = await this.source.next()
    if (done === true) {
      this.ended = true
      return undefined
    }
    this.count(value.byteLength)
    return value
  }

  async read(limit: number): Promise<{ readonly bytes: Uint8Array; readonly complete: boolean }> {
    while (this.bufferedBytes <= limit) {
      const chunk = await this.pull()
      if (chunk === undefined) break
      this.buffered.push(chunk)
      this.bufferedBytes += chunk.byteLength
    }
    return { bytes: Buffer.concat(this.buffered), complete: this.ended }
  }

  /** Reads and discards the rest, so an answer of the stand-in never races the client's upload. */
  async drain(): Promise<void> {
    while ((await this.pull()) !== undefined) {
      // counted by pull
    }
  }

  /** The whole body for the registry behind, or null when there is none. */
  forward(): ReadableStream<Uint8Array> | null {
    if (this.ended && this.buffered.length === 0) return null
    const buffered = this.buffered.splice(0)
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const chunk = buffered.shift() ?? (await this.pull())
        if (chunk === undefined) controller.close()
        else controller.enqueue(chunk)
      }
    })
  }
}

// hop-by-hop headers are each connection's own business; Content-Length is kept so each side sees the other's framing
const HOP_BY_HOP = new Set(["host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade"])

/** The request headers as a Headers object (repeated headers joined). */
const headersOf = (request: IncomingMessage): Headers => {
  const headers = new Headers()
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value)
  }
  return headers
}

/** Whether the request carries a body: a non-zero Content-Length, or a Transfer-Encoding. */
const hasBody = (request: IncomingMessage): boolean =>
  request.headers["transfer-encoding"] !== undefined || Number(request.headers["content-length"] ?? "0") > 0

/** Writes a response: status, headers, then the body with backpressure. */
const reply = async (
  out: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Uint8Array | AsyncIterable<Uint8Array> | undefined
): Promise<void> => {
  out.writeHead(status, headers)
  if (body instanceof Uint8Array) {
    out.end(body)
    return
  }
  if (body !== undefined) {
    for await (const chunk of body) {
      // a client that went away ends the copy (and, by leaving the loop, the registry's body)
      if (out.destroyed) break
      if (!out.write(chunk)) await Promise.race([once(out, "drain"), once(out, "close")])
    }
  }
  out.end()
}

/**
 * Starts a stand-in with the given personality in front of `options.upstream` (or a fresh
 * docker-registry). node:http rather than Bun.serve on the client side: Bun.serve answers a
 * streamed body chunked and drops the registry's Content-Length, which clients read.
 */
export const startStandIn = async (personality: Personality, options: StandInOptions = {}): Promise<StandIn> => {
  const owned = options.upstream === undefined
  const upstream = options.upstream ?? (await startRegistry())
  const upstreamOrigin = new URL(upstream.url).origin
  const upstreamTls = upstreamOrigin.startsWith("https:") ? { tls: { rejectUnauthorized: false } } : {}
  const log: Array<MutableRecord> = []
  let nextId = 0
  let origin = ""

  const handle = async (request: IncomingMessage, out: ServerResponse): Promise<void> => {
    const method = request.method ?? "GET"
    const url = new URL(request.url ?? "/", origin)
    const route = routeOf(url.pathname)
    const headers = headersOf(request)
    const length = headers.get("content-length")
    const record: MutableRecord = {
      id: ++nextId,
      method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ""),
      route,
      contentLength: length === null ? undefined : Number(length),
      transferEncoding: headers.get("transfer-encoding") ?? undefined,
      contentRange: headers.get("content-range") ?? undefined,
      contentType: headers.get("content-type") ?? undefined,
      authorization: headers.has("authorization"),
      bodyBytes: 0,
      status: 0,
      answeredBy: undefined
    }
    log.push(record)
    const tap = new BodyTap(hasBody(request) ? request[Symbol.asyncIterator]() : undefined, (bytes) => {
      record.bodyBytes += bytes
    })
    const seen: StandInRequest = {
      method,
      url,
      headers,
      route,
      upstream: upstreamOrigin,
      readBody: (limit = Number.POSITIVE_INFINITY) => tap.read(limit)
    }

    const answer = await personality.answer?.(seen)
    if (answer !== undefined) {
      await tap.drain()
      record.status = answer.status
      record.answeredBy = "quirk"
      const body = typeof answer.body === "string" ? new TextEncoder().encode(answer.body) : (answer.body ?? new Uint8Array(0))
      await reply(out, answer.status, { ...answer.headers, "content-length": String(body.length) }, method === "HEAD" ? undefined : body)
      return
    }

    const forwarded = new Headers(headers)
    for (const name of HOP_BY_HOP) forwarded.delete(name)
    const target = personality.rewrite?.(seen) ?? `${url.pathname}${url.search}`
    const response = await fetch(`${upstreamOrigin}${target}`, {
      method,
      headers: forwarded,
      body: tap.forward(),
      duplex: "half",
      redirect: "manual",
      decompress: false,
      proxy: false,
      ...upstreamTls
    })
    personality.observe?.(seen, response.status)
    const back: Record<string, string> = {}
    response.headers.forEach((value, name) => {
      if (!HOP_BY_HOP.has(name)) back[name] = value
    })
    const location = back["location"]
    if (location?.startsWith(upstreamOrigin) === true) back["location"] = `${origin}${location.slice(upstreamOrigin.length)}`
    const given = { status: response.status, headers: back }
    const adjusted = personality.adjust?.(seen, given) ?? given
    record.status = adjusted.status
    record.answeredBy = "upstream"
    const bodyless = method === "HEAD" || response.body === null
    await reply(out, adjusted.status, { ...adjusted.headers }, bodyless ? undefined : (response.body as unknown as AsyncIterable<Uint8Array>))
  }

  const server = createServer((request, out) => {
    void handle(request, out).catch((error: unknown) => {
      // a stand-in that breaks says so in the answer rather than hanging the client
      if (!out.headersSent) out.writeHead(502, { "content-type": "text/plain" })
      out.end(`stand-in failed: ${String(error)}`)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  origin = `http://127.0.0.1:${port}`

  let stopping: Promise<void> | undefined
  return {
    url: origin,
    host: `127.0.0.1:${port}`,
    upstream,
    requests: log,
    clearRequests: () => {
      log.length = 0
    },
    stop: () => {
      stopping ??= (async () => {
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
        if (owned) await upstream.stop()
      })()
      return stopping
    }
  }
}
