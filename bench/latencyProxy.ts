/**
 * A latency proxy for the wan workload: Bun.serve on 127.0.0.1 in front of one registry,
 * holding every request for a fixed delay before forwarding it, so each round trip costs what
 * it costs against a registry across a WAN. Method, path + query, headers and bodies pass
 * through both ways, request bodies and large response bodies as streams (a layer is never
 * held whole); upstream `Location`s are rewritten to the proxy's own origin so upload
 * sessions stay behind the proxy.
 * Every request is counted here, since the registry's own access log no longer sees the
 * tool's connections.
 */
import type { Server } from "bun"
import type { LoggedRequest } from "../demo/LocalRegistry.ts"
import { classify } from "./accessLog.ts"

/** The coarse request kinds: manifests, blobs (incl. uploads and mounts), everything else. */
export type ProxyKind = "manifest" | "blob" | "other"

/** Counts of one proxy in one run. */
export interface ProxyCounts {
  readonly total: number
  readonly byMethod: Readonly<Record<string, number>>
  readonly byKind: Readonly<Record<ProxyKind, number>>
}

/** A running latency proxy. */
export interface LatencyProxy {
  /** "127.0.0.1:PORT", what the tools are given instead of the registry's host */
  readonly host: string
  /** "http://127.0.0.1:PORT" */
  readonly url: string
  /** the registry behind it */
  readonly upstream: string
  readonly delayMs: number
  /** every request answered since the last reset, as LocalRegistry logs them (so accessLog.ts counts them) */
  readonly requests: () => ReadonlyArray<LoggedRequest>
  /** requests() by method and by kind */
  readonly counts: () => ProxyCounts
  /** waits for requests in flight, then forgets the log */
  readonly resetRequests: () => Promise<void>
  /** waits until no request is in flight (bounded) */
  readonly settle: () => Promise<void>
  /** stops listening and drops open connections; idempotent */
  readonly stop: () => Promise<void>
}

/** The kind of a request, from accessLog.ts's finer classes. */
export const kindOf = (request: LoggedRequest): ProxyKind => {
  const cls = classify(request)
  if (cls === "manifestHead" || cls === "manifestGet" || cls === "manifestPut") return "manifest"
  if (cls === "ping" || cls === "referrers" || cls === "other") {
    // a manifest DELETE or a blob DELETE is "other" there; here it still belongs to its kind
    const path = request.path.split("?", 2)[0] ?? ""
    if (cls === "other" && /\/manifests\/[^/]+$/.test(path)) return "manifest"
    if (cls === "other" && /\/blobs\//.test(path)) return "blob"
    return "other"
  }
  return "blob"
}

/** Counts a log by method and kind. */
export const countProxied = (requests: ReadonlyArray<LoggedRequest>): ProxyCounts => {
  const byMethod: Record<string, number> = {}
  const byKind: Record<ProxyKind, number> = { manifest: 0, blob: 0, other: 0 }
  for (const r of requests) {
    byMethod[r.method] = (byMethod[r.method] ?? 0) + 1
    byKind[kindOf(r)]++
  }
  return { total: requests.length, byMethod, byKind }
}

// connection-level headers belong to one hop; Bun sets its own framing on each side
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host"])

const SETTLE_TIMEOUT_MS = 10_000

/** Bodies up to this size are read whole before they are answered (see responseBody). */
const SMALL_BODY = 256 * 1024

/**
 * Bun.serve drops a handler's Content-Length on a stream body and sends it chunked
 * (oven-sh/bun#10507). Clients may check a manifest's or config's length, so small bodies are
 * read whole and sent with their length; larger ones (layers) stream through chunked.
 */
const responseBody = async (method: string, upstream: Response): Promise<ReadableStream<Uint8Array> | ArrayBuffer | null> => {
  if (method === "HEAD" || upstream.body === null) return null
  const length = Number(upstream.headers.get("content-length") ?? NaN)
  return Number.isFinite(length) && length <= SMALL_BODY ? upstream.arrayBuffer() : upstream.body
}

/** Copies headers without the hop-by-hop ones. */
const forwardHeaders = (from: Headers): Headers => {
  const to = new Headers()
  from.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name.toLowerCase())) to.append(name, value)
  })
  return to
}

/** Starts a proxy on 127.0.0.1 (OS-chosen port) in front of `upstream` ("http://127.0.0.1:PORT"). */
export const startLatencyProxy = (upstream: string, delayMs: number): LatencyProxy => {
  const origin = new URL(upstream).origin
  let log: Array<LoggedRequest> = []
  let inFlight = 0
  let idle: Array<() => void> = []
  const done = () => {
    if (--inFlight > 0) return
    for (const wake of idle) wake()
    idle = []
  }

  // called only while serving, when `server` below is set
  const self = () => `http://${server.hostname}:${server.port}`

  const forward = async (req: Request): Promise<Response> => {
    const url = new URL(req.url)
    const pathAndQuery = `${url.pathname}${url.search}`
    inFlight++
    try {
      await Bun.sleep(delayMs)
      const hasBody = req.body !== null && req.method !== "GET" && req.method !== "HEAD"
      const upstreamResponse = await fetch(`${origin}${pathAndQuery}`, {
        method: req.method,
        headers: forwardHeaders(req.headers),
        body: hasBody ? req.body : null,
        // the client follows redirects itself, and sees compressed bodies as the registry sent them
        redirect: "manual",
        decompress: false,
        proxy: false,
        ...(hasBody ? { duplex: "half" as const } : {})
      })
      log.push({ method: req.method, path: pathAndQuery, status: upstreamResponse.status })
      const headers = forwardHeaders(upstreamResponse.headers)
      const location = headers.get("location")
      // upload sessions come back as absolute URLs of the registry (built from the Host it saw)
      if (location?.startsWith(origin)) headers.set("location", `${self()}${location.slice(origin.length)}`)
      return new Response(await responseBody(req.method, upstreamResponse), { status: upstreamResponse.status, headers })
    } catch (e) {
      log.push({ method: req.method, path: pathAndQuery, status: 502 })
      return new Response(`latency proxy: ${String(e)}\n`, { status: 502 })
    } finally {
      done()
    }
  }

  // no idle timeout and no body limit: a large blob may take long, and Bun's default cap is 128 MiB
  const server: Server<undefined> = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, maxRequestBodySize: Number.MAX_SAFE_INTEGER, fetch: forward })

  const settle = async (): Promise<void> => {
    if (inFlight === 0) return
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      new Promise<void>((resolve) => idle.push(resolve)),
      new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`latency proxy ${self()}: ${inFlight} request(s) still in flight`)), SETTLE_TIMEOUT_MS)
      })
    ]).finally(() => clearTimeout(timer))
  }
  let stopping: Promise<void> | undefined
  return {
    host: `${server.hostname}:${server.port}`,
    url: self(),
    upstream: origin,
    delayMs,
    requests: () => [...log],
    counts: () => countProxied(log),
    resetRequests: async () => {
      await settle()
      log = []
    },
    settle,
    stop: () => (stopping ??= server.stop(true))
  }
}
