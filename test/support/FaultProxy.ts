/**
 * A fault-injecting HTTP/1.1 proxy in front of a real registry (test/reliability).
 *
 * Raw TCP (node:net), so it can do what an HTTP server library hides: cut a body short with a
 * correct Content-Length, reset a connection mid-body, corrupt one byte, stall a body. Each
 * request is forwarded on its own upstream connection (`Connection: close`), with `Host` set
 * to the upstream and upstream `Location`s rewritten back to the proxy.
 *
 * Rules pick requests by method and path. Whether a rule fires is a pure function of the
 * seed, the rule, the method, the path (without query) and the attempt number of that
 * (method, path): the same run faults the same requests, whatever the concurrency. With
 * `firstTries: n`, only the first n attempts of a (method, path) may be faulted.
 *
 * Every request is recorded (method, path, headers, arrival time, attempt, fault applied,
 * status the client got), and so is every request that reached the "other origin" a
 * `redirect-cross-origin` fault sends clients to.
 */
import { createHash } from "node:crypto"
import net from "node:net"

/** What can go wrong with one request. */
export type FaultKind =
  /** answered by the proxy: 503 with a registry error body */
  | "503"
  /** answered by the proxy: 429 TOOMANYREQUESTS without Retry-After */
  | "429"
  /** answered by the proxy: 429 with `Retry-After: <retryAfterSeconds>` */
  | "429-retry-after"
  /** headers and part of the body forwarded, then (after `breakAfterMs`) the connection is reset (RST) */
  | "reset-mid-body"
  /** the true Content-Length, part of the body, then (after `breakAfterMs`) a clean close (FIN): the body is cut off */
  | "truncate"
  /** part of the body with Content-Length rewritten to match: a complete-looking response, short of the real content */
  | "short-body"
  /** the whole body with one byte flipped */
  | "corrupt-byte"
  /** headers and part of the body, then nothing (for `stallMs`, or until the client gives up) */
  | "stall"
  /** answered by the proxy: 307 to another origin, which records whether `Authorization` arrived and serves the content */
  | "redirect-cross-origin"

/** The faults that change a response body (GET 200/206 with a Content-Length only). */
const BODY_FAULTS: ReadonlySet<FaultKind> = new Set(["reset-mid-body", "truncate", "short-body", "corrupt-byte", "stall"])

/** One fault rule. */
export interface FaultRule {
  /** which requests; `path` is the path without the query */
  readonly match: (method: string, path: string) => boolean
  readonly fault: FaultKind
  /**
   * chance that a matching request is faulted, 0..1 (default 1). Rules without their own seed
   * share one draw per request and take consecutive slices of it, so 0.15 + 0.10 + 0.10 means
   * exactly 15 %, 10 % and 10 % of the requests all three match.
   */
  readonly probability?: number
  /** only the first n attempts of a (method, path) may be faulted (default: every attempt) */
  readonly firstTries?: number
  /** an independent draw for this rule, from this seed (default: the shared draw of the proxy's seed) */
  readonly seed?: string
  /** for "429-retry-after" (default 1) */
  readonly retryAfterSeconds?: number
  /** for "stall": how long the body stalls before going on (default: until the client gives up) */
  readonly stallMs?: number
  /**
   * for "truncate" and "reset-mid-body": how long after the last byte the connection breaks
   * (default 50 ms). A break right behind the data often takes the data with it: a fetch body
   * stream that errors drops the chunks its reader has not pulled yet. Real breaks come later.
   */
  readonly breakAfterMs?: number
}

/** One request as the proxy saw it. */
export interface ProxiedRequest {
  /** arrival order, from 1 */
  readonly id: number
  readonly method: string
  /** path with query, as requested */
  readonly path: string
  /** path without query: the key of attempts and rules */
  readonly pathname: string
  /** lower-case header names */
  readonly headers: Readonly<Record<string, string>>
  /** 1 for the first request of this (method, pathname), 2 for the next … */
  readonly attempt: number
  /** performance.now() at arrival, ms */
  readonly at: number
  /** the fault applied, if any (a body fault on a response without a body is not applied) */
  fault: FaultKind | undefined
  /** the status line the client got (upstream's or the injected one); undefined if none */
  status: number | undefined
  /** for body faults: where the body was cut, or which byte was flipped */
  faultOffset: number | undefined
  /** the upstream Content-Length of the body, when known */
  contentLength: number | undefined
}

/** One request at the other origin of a cross-origin redirect. */
export interface RedirectedRequest {
  readonly method: string
  /** the registry path the redirect stood for */
  readonly path: string
  /** whether an `Authorization` header arrived (a storage service would refuse it) */
  readonly authorization: boolean
  /** lower-case header names */
  readonly headers: Readonly<Record<string, string>>
  readonly status: number
}

/** Options of startFaultProxy. */
export interface FaultProxyOptions {
  /** the registry, e.g. "http://127.0.0.1:5000" (plain HTTP) */
  readonly upstream: string
  readonly rules?: ReadonlyArray<FaultRule>
  /** default "fault-proxy" */
  readonly seed?: string
  /** listen address (default 127.0.0.1) */
  readonly hostname?: string
  /** the `X-Amz-Signature` of redirect URLs (a pre-signed URL is a secret: tests plant markers here); default: a seeded hash */
  readonly redirectSignature?: string
  /** headers the other origin uses to read from the upstream (e.g. its own credentials) */
  readonly redirectHeaders?: () => Record<string, string> | Promise<Record<string, string>>
  /** awaited when a request has arrived, before it is faulted or forwarded */
  readonly onRequest?: (request: ProxiedRequest) => void | Promise<void>
  /** awaited when the upstream answered, before the client gets the answer */
  readonly onResponse?: (request: ProxiedRequest) => void | Promise<void>
}

/** A running fault proxy. */
export interface FaultProxy {
  /** "HOST:PORT" as clients reach it */
  readonly host: string
  /** "http://HOST:PORT" */
  readonly url: string
  /** "http://127.0.0.1:PORT" of the other origin redirects point at */
  readonly redirectOrigin: string
  /** every request so far, in arrival order */
  readonly requests: () => ReadonlyArray<ProxiedRequest>
  /** the requests a fault was applied to */
  readonly faults: () => ReadonlyArray<ProxiedRequest>
  /** every request the other origin got */
  readonly redirected: () => ReadonlyArray<RedirectedRequest>
  /** connections whose first bytes were not an HTTP request (e.g. a TLS ClientHello) */
  readonly nonHttpConnections: () => number
  /** replaces the rules (attempt counts are kept) */
  readonly setRules: (rules: ReadonlyArray<FaultRule>) => void
  /** replaces the hooks */
  readonly setHooks: (hooks: Pick<FaultProxyOptions, "onRequest" | "onResponse">) => void
  /** forgets requests, redirects and attempt counts */
  readonly reset: () => void
  readonly stop: () => Promise<void>
}

/** A number in [0, 1) from the seed and the parts: the same inputs always give the same number. */
export const draw = (...parts: ReadonlyArray<string | number>): number => createHash("sha256").update(parts.join("\u0000")).digest().readUInt32BE(0) / 2 ** 32

const HEAD_END = Buffer.from("\r\n\r\n")
const MAX_HEAD = 64 * 1024

interface Head {
  readonly line: string
  /** [name as sent, value] */
  readonly headers: Array<[string, string]>
}

const parseHead = (text: string): Head => {
  const [line = "", ...rest] = text.split("\r\n")
  const headers: Array<[string, string]> = []
  for (const h of rest) {
    const colon = h.indexOf(":")
    if (colon > 0) headers.push([h.slice(0, colon).trim(), h.slice(colon + 1).trim()])
  }
  return { line, headers }
}

const headerValue = (head: Head, name: string): string | undefined => head.headers.find(([n]) => n.toLowerCase() === name)?.[1]

const serializeHead = (head: Head): Buffer => Buffer.from(`${head.line}\r\n${head.headers.map(([n, v]) => `${n}: ${v}`).join("\r\n")}\r\n\r\n`, "latin1")

/** Reads from a socket until the end of an HTTP head; resolves the head and the bytes after it. */
const readHead = (socket: net.Socket, first?: (chunk: Buffer) => boolean): Promise<{ head: Head; rest: Buffer } | undefined> =>
  new Promise((resolve) => {
    let buffered = Buffer.alloc(0)
    let checked = false
    const cleanup = () => {
      socket.off("data", onData)
      socket.off("end", onEnd)
      socket.off("error", onEnd)
      socket.off("close", onEnd)
    }
    const onData = (chunk: Buffer) => {
      if (!checked && first) {
        checked = true
        if (!first(chunk)) {
          cleanup()
          resolve(undefined)
          return
        }
      }
      buffered = Buffer.concat([buffered, chunk])
      const end = buffered.indexOf(HEAD_END)
      if (end < 0) {
        if (buffered.length > MAX_HEAD) {
          cleanup()
          resolve(undefined)
        }
        return
      }
      cleanup()
      socket.pause()
      resolve({ head: parseHead(buffered.subarray(0, end).toString("latin1")), rest: buffered.subarray(end + HEAD_END.length) })
    }
    const onEnd = () => {
      cleanup()
      resolve(undefined)
    }
    socket.on("data", onData)
    socket.on("end", onEnd)
    socket.on("error", onEnd)
    socket.on("close", onEnd)
    socket.resume()
  })

const registryErrorBody = (code: string, message: string) => JSON.stringify({ errors: [{ code, message, detail: null }] })

const cannedResponse = (status: number, reason: string, headers: Record<string, string>, body: string, head: boolean): Buffer => {
  const bytes = Buffer.from(body, "utf8")
  const lines = [`HTTP/1.1 ${status} ${reason}`]
  for (const [n, v] of Object.entries({ ...headers, "content-length": String(bytes.length), connection: "close" })) lines.push(`${n}: ${v}`)
  // a HEAD answer has the body's length but never the body
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), head ? Buffer.alloc(0) : bytes])
}

/** Starts the proxy (and the other origin for redirects) on OS-chosen ports. */
export const startFaultProxy = async (options: FaultProxyOptions): Promise<FaultProxy> => {
  const upstream = new URL(options.upstream)
  if (upstream.protocol !== "http:") throw new Error(`FaultProxy: upstream must be plain http, got ${options.upstream}`)
  const upstreamPort = Number(upstream.port || "80")
  const seed = options.seed ?? "fault-proxy"
  let rules: ReadonlyArray<FaultRule> = options.rules ?? []
  let hooks: Pick<FaultProxyOptions, "onRequest" | "onResponse"> = { onRequest: options.onRequest, onResponse: options.onResponse }
  let log: Array<ProxiedRequest> = []
  let redirects: Array<RedirectedRequest> = []
  let attempts = new Map<string, number>()
  let nonHttp = 0
  let nextId = 0
  const sockets = new Set<net.Socket>()

  // The other origin: a storage service like S3 behind a registry's blob redirects.
  const origin = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const url = new URL(request.url)
      const path = url.pathname.replace(/^\/storage/, "")
      const headers: Record<string, string> = {}
      request.headers.forEach((value, key) => {
        headers[key.toLowerCase()] = value
      })
      const authorization = request.headers.get("authorization") !== null
      if (authorization) {
        redirects.push({ method: request.method, path, authorization, headers, status: 400 })
        return new Response("<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>", {
          status: 400,
          headers: { "content-type": "application/xml" }
        })
      }
      const forward: Record<string, string> = { ...(await options.redirectHeaders?.()) }
      const range = request.headers.get("range")
      if (range !== null) forward["range"] = range
      const accept = request.headers.get("accept")
      if (accept !== null) forward["accept"] = accept
      const res = await fetch(`${upstream.origin}${path}`, { method: request.method, headers: forward, redirect: "manual", proxy: false })
      redirects.push({ method: request.method, path, authorization, headers, status: res.status })
      const out = new Headers()
      for (const name of ["content-type", "content-length", "content-range", "docker-content-digest", "etag", "accept-ranges"]) {
        const value = res.headers.get(name)
        if (value !== null) out.set(name, value)
      }
      return new Response(request.method === "HEAD" ? null : res.body, { status: res.status, headers: out })
    }
  })
  const redirectOrigin = `http://127.0.0.1:${origin.port}`

  /** The first rule that fires for this request, if any. */
  const decide = (method: string, pathname: string, attempt: number): FaultRule | undefined => {
    const shared = draw(seed, method, pathname, attempt)
    let slice = 0
    for (const [index, rule] of rules.entries()) {
      if (!rule.match(method, pathname)) continue
      if (rule.firstTries !== undefined && attempt > rule.firstTries) continue
      const p = rule.probability ?? 1
      if (rule.seed !== undefined) {
        if (draw(rule.seed, index, method, pathname, attempt) < p) return rule
        continue
      }
      if (shared >= slice && shared < slice + p) return rule
      slice += p
    }
    return undefined
  }

  let listenHost = ""
  const handle = async (client: net.Socket) => {
    sockets.add(client)
    client.on("close", () => sockets.delete(client))
    client.on("error", () => undefined)
    const got = await readHead(client, (chunk) => {
      // an HTTP request line starts with a method in capitals; anything else (TLS) is answered as a plain server would
      const ok = chunk.length > 0 && chunk[0]! >= 0x41 && chunk[0]! <= 0x5a
      if (!ok) {
        nonHttp++
        client.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
      }
      return ok
    })
    if (got === undefined) {
      if (!client.destroyed && client.writable) client.end()
      return
    }
    const [method = "", target = ""] = got.head.line.split(" ")
    const pathname = target.split("?")[0] ?? target
    const key = `${method} ${pathname}`
    const attempt = (attempts.get(key) ?? 0) + 1
    attempts.set(key, attempt)
    const headers: Record<string, string> = {}
    for (const [n, v] of got.head.headers) headers[n.toLowerCase()] = v
    const record: ProxiedRequest = {
      id: ++nextId,
      method,
      path: target,
      pathname,
      headers,
      attempt,
      at: performance.now(),
      fault: undefined,
      status: undefined,
      faultOffset: undefined,
      contentLength: undefined
    }
    log.push(record)
    const rule = decide(method, pathname, attempt)
    await hooks.onRequest?.(record)
    if (client.destroyed) return

    // Faults the proxy answers itself.
    if (rule && !BODY_FAULTS.has(rule.fault)) {
      record.fault = rule.fault
      let response: Buffer
      if (rule.fault === "503") {
        record.status = 503
        response = cannedResponse(
          503,
          "Service Unavailable",
          { "content-type": "application/json" },
          registryErrorBody("UNAVAILABLE", "injected 503"),
          method === "HEAD"
        )
      } else if (rule.fault === "429" || rule.fault === "429-retry-after") {
        record.status = 429
        const extra: Record<string, string> = rule.fault === "429-retry-after" ? { "retry-after": String(rule.retryAfterSeconds ?? 1) } : {}
        response = cannedResponse(
          429,
          "Too Many Requests",
          { "content-type": "application/json", ...extra },
          registryErrorBody("TOOMANYREQUESTS", "injected 429"),
          method === "HEAD"
        )
      } else {
        record.status = 307
        const signature = options.redirectSignature ?? createHash("sha256").update(`${seed} ${key} ${attempt}`).digest("hex").slice(0, 16)
        response = cannedResponse(
          307,
          "Temporary Redirect",
          { location: `${redirectOrigin}/storage${pathname}?X-Amz-Signature=${signature}&X-Amz-Expires=600` },
          "",
          true
        )
      }
      client.end(response)
      return
    }

    // Forward on a fresh upstream connection.
    const up = net.connect(upstreamPort, upstream.hostname)
    up.on("error", () => client.destroy())
    client.on("close", () => up.destroy())
    const forwardHead: Head = {
      line: got.head.line,
      headers: [
        ...got.head.headers.filter(([n]) => !["host", "connection", "keep-alive", "proxy-connection"].includes(n.toLowerCase())),
        ["Host", upstream.host],
        ["Connection", "close"]
      ]
    }
    up.write(serializeHead(forwardHead))
    if (got.rest.length > 0) up.write(got.rest)
    client.on("data", (chunk: Buffer) => up.write(chunk))
    client.resume()

    const answer = await readHead(up)
    if (answer === undefined) {
      client.destroy()
      return
    }
    const status = Number(answer.head.line.split(" ")[1] ?? "0")
    record.status = status
    // Locations that point at the upstream go back through the proxy.
    const responseHead: Head = {
      line: answer.head.line,
      headers: answer.head.headers.map(([n, v]): [string, string] =>
        n.toLowerCase() === "location" ? [n, v.replace(upstream.origin, `http://${listenHost}`)] : [n, v]
      )
    }
    const length = Number(headerValue(answer.head, "content-length") ?? "NaN")
    record.contentLength = Number.isFinite(length) ? length : undefined
    const bodyFault = rule && BODY_FAULTS.has(rule.fault) && method === "GET" && (status === 200 || status === 206) && length > 1
      ? rule
      : undefined
    // Where to cut (or which byte to flip): a seeded point well inside the body.
    const point = bodyFault
      ? bodyFault.fault === "corrupt-byte"
        ? Math.floor(draw(bodyFault.seed ?? seed, "offset", key, attempt) * length)
        : Math.max(1, Math.min(length - 1, Math.floor(length * (0.25 + draw(bodyFault.seed ?? seed, "cut", key, attempt) * 0.5))))
      : undefined
    if (bodyFault) {
      record.fault = bodyFault.fault
      record.faultOffset = point
    }
    await hooks.onResponse?.(record)
    if (client.destroyed) {
      up.destroy()
      return
    }

    if (!bodyFault || point === undefined) {
      client.write(serializeHead(responseHead))
      if (answer.rest.length > 0) client.write(answer.rest)
      up.on("data", (chunk: Buffer) => client.write(chunk))
      up.on("end", () => client.end())
      up.resume()
      return
    }

    if (bodyFault.fault === "short-body") {
      responseHead.headers.splice(
        0,
        responseHead.headers.length,
        ...responseHead.headers.map(([n, v]): [string, string] => n.toLowerCase() === "content-length" ? [n, String(point)] : [n, v])
      )
    }
    client.write(serializeHead(responseHead))
    let sent = 0
    let done = false
    const onBody = (chunk: Buffer) => {
      if (done) return
      if (bodyFault.fault === "corrupt-byte") {
        if (point >= sent && point < sent + chunk.length) {
          chunk = Buffer.from(chunk)
          chunk[point - sent] = chunk[point - sent]! ^ 0xff
        }
        sent += chunk.length
        client.write(chunk)
        return
      }
      const room = point - sent
      if (chunk.length < room) {
        sent += chunk.length
        client.write(chunk)
        return
      }
      done = true
      sent = point
      up.pause()
      const last = chunk.subarray(0, room)
      const breakLater = (how: () => void) => {
        up.destroy()
        setTimeout(() => {
          if (!client.destroyed) how()
        }, bodyFault.breakAfterMs ?? 50)
      }
      const after = () => {
        if (bodyFault.fault === "reset-mid-body") {
          breakLater(() => client.resetAndDestroy())
        } else if (bodyFault.fault === "truncate") {
          breakLater(() => client.end())
        } else if (bodyFault.fault === "short-body") {
          client.end()
          up.destroy()
        } else if (bodyFault.stallMs !== undefined) {
          // stall, then go on with the rest of the body
          const rest = chunk.subarray(room)
          setTimeout(() => {
            if (client.destroyed) return
            client.write(rest)
            up.off("data", onBody)
            up.on("data", (c: Buffer) => client.write(c))
            up.on("end", () => client.end())
            up.resume()
          }, bodyFault.stallMs)
        }
        // a stall without stallMs: nothing more until the client gives up (its close destroys upstream)
      }
      if (last.length > 0) client.write(last, after)
      else after()
    }
    up.on("data", onBody)
    up.on("end", () => {
      if (!done) client.end()
    })
    if (answer.rest.length > 0) onBody(answer.rest)
    up.resume()
  }

  const server = net.createServer((socket) => {
    void handle(socket).catch(() => socket.destroy())
  })
  const hostname = options.hostname ?? "127.0.0.1"
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, hostname, () => resolve())
  })
  const port = (server.address() as net.AddressInfo).port
  listenHost = `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`

  let stopping: Promise<void> | undefined
  return {
    host: listenHost,
    url: `http://${listenHost}`,
    redirectOrigin,
    requests: () => [...log],
    faults: () => log.filter((r) => r.fault !== undefined),
    redirected: () => [...redirects],
    nonHttpConnections: () => nonHttp,
    setRules: (next) => {
      rules = next
    },
    setHooks: (next) => {
      hooks = next
    },
    reset: () => {
      log = []
      redirects = []
      attempts = new Map()
      nonHttp = 0
    },
    stop: () => {
      stopping ??= (async () => {
        for (const s of sockets) s.destroy()
        await new Promise<void>((resolve) => server.close(() => resolve()))
        await origin.stop(true)
      })()
      return stopping
    }
  }
}

/** Paths of the registry API, for rules. */
export const paths = {
  /** any blob GET/HEAD of `repository` (any repository when omitted) */
  blob: (repository?: string) => (path: string) =>
    repository === undefined ? /^\/v2\/.+\/blobs\/sha256:[0-9a-f]{64}$/.test(path) : path.startsWith(`/v2/${repository}/blobs/sha256:`),
  /** any manifest of `repository` (any repository when omitted) */
  manifest: (repository?: string) => (path: string) =>
    repository === undefined ? /^\/v2\/.+\/manifests\/[^/]+$/.test(path) : path.startsWith(`/v2/${repository}/manifests/`)
} as const

// == reading back what a registry holds (for "nothing half-written" checks)

const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json"
].join(", ")

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`

/** What a tag (or digest) holds, read back and checked in full. */
export interface TreeCheck {
  /** HTTP status of the top-level manifest GET */
  readonly status: number
  /** digest of the top-level manifest bytes as served (undefined when absent) */
  readonly digest: string | undefined
  /** the exact top-level bytes (undefined when absent) */
  readonly bytes: Uint8Array | undefined
  /** every child manifest and blob digest that was checked */
  readonly checked: ReadonlyArray<string>
  /** what is missing or wrong; empty when the tree is complete and every digest verified */
  readonly problems: ReadonlyArray<string>
}

/**
 * GETs a manifest and everything it references (children by digest, configs, layers) from a
 * registry, hashing every body. An absent manifest is reported by `status` only.
 */
export const verifyTree = async (
  registryUrl: string,
  repository: string,
  reference: string,
  headers: Record<string, string> = {},
  /** for an https registry: the CA (PEM text) to trust */
  ca?: string
): Promise<TreeCheck> => {
  const checked: Array<string> = []
  const problems: Array<string> = []
  const get = (path: string, extra: Record<string, string> = {}) =>
    fetch(`${registryUrl}/v2/${repository}/${path}`, {
      headers: { ...headers, ...extra },
      proxy: false,
      ...(ca === undefined ? {} : { tls: { ca } })
    })
  const top = await get(`manifests/${reference}`, { accept: MANIFEST_ACCEPT })
  const topBytes = new Uint8Array(await top.arrayBuffer())
  if (top.status !== 200) return { status: top.status, digest: undefined, bytes: undefined, checked, problems }
  const walk = async (bytes: Uint8Array, name: string): Promise<void> => {
    const doc = JSON.parse(new TextDecoder().decode(bytes)) as {
      manifests?: Array<{ digest: string }>
      config?: { digest: string; size: number }
      layers?: Array<{ digest: string; size: number }>
    }
    for (const child of doc.manifests ?? []) {
      const res = await get(`manifests/${child.digest}`, { accept: MANIFEST_ACCEPT })
      const body = new Uint8Array(await res.arrayBuffer())
      checked.push(child.digest)
      if (res.status !== 200) problems.push(`${name}: child ${child.digest} HTTP ${res.status}`)
      else if (sha256(body) !== child.digest) problems.push(`${name}: child ${child.digest} serves ${sha256(body)}`)
      else await walk(body, child.digest)
    }
    for (const blob of [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])]) {
      const res = await get(`blobs/${blob.digest}`)
      const body = new Uint8Array(await res.arrayBuffer())
      checked.push(blob.digest)
      if (res.status !== 200) problems.push(`${name}: blob ${blob.digest} HTTP ${res.status}`)
      else if (sha256(body) !== blob.digest || body.length !== blob.size) {
        problems.push(`${name}: blob ${blob.digest} serves ${sha256(body)} (${body.length} of ${blob.size} bytes)`)
      }
    }
  }
  await walk(topBytes, `${repository}:${reference}`)
  return { status: 200, digest: sha256(topBytes), bytes: topBytes, checked, problems }
}

/** Every (repository, tag) of a plain-HTTP registry, from `_catalog` and `tags/list`. */
export const listTags = async (registryUrl: string): Promise<Array<{ readonly repository: string; readonly tag: string }>> => {
  const catalog = (await (await fetch(`${registryUrl}/v2/_catalog?n=1000`, { proxy: false })).json()) as { repositories?: Array<string> }
  const out: Array<{ repository: string; tag: string }> = []
  for (const repository of catalog.repositories ?? []) {
    const res = await fetch(`${registryUrl}/v2/${repository}/tags/list`, { proxy: false })
    const list = (await res.json()) as { tags?: Array<string> | null }
    for (const tag of list.tags ?? []) out.push({ repository, tag })
  }
  return out
}
