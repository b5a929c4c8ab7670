/**
 * Small fake registries on `Bun.serve({ port: 0 })` for what a real registry can't do on
 * demand: redirects to another origin, 429 with Retry-After, 503s, corrupted or cut-off blob
 * bodies, scripted Bearer challenges. Every server records every request it gets (method,
 * path, headers, arrival time), so tests assert on what actually went over the wire.
 */
import { createHash } from "node:crypto"

/** One request as the fake saw it. */
export interface RecordedRequest {
  readonly method: string
  /** pathname + search */
  readonly path: string
  /** lower-cased header names */
  readonly headers: Readonly<Record<string, string>>
  /** performance.now() when the request arrived, in ms */
  readonly at: number
}

/** A running fake server. */
export interface FakeServer {
  /** "127.0.0.1:PORT" */
  readonly host: string
  /** "http://127.0.0.1:PORT" */
  readonly url: string
  readonly requests: () => ReadonlyArray<RecordedRequest>
  readonly reset: () => void
  readonly stop: () => Promise<void>
}

/** What a handler answers; `undefined` means 404. */
export type Handler = (request: Request, url: URL, seen: ReadonlyArray<RecordedRequest>) =>
  | Response
  | undefined
  | Promise<Response | undefined>

/** "sha256:<hex>" of some bytes. */
export const digestOf = (bytes: Uint8Array | string): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`

const headersOf = (request: Request): Record<string, string> => {
  const out: Record<string, string> = {}
  request.headers.forEach((value, key) => {
    out[key.toLowerCase()] = value
  })
  return out
}

/** Starts a recording server on 127.0.0.1 with an OS-chosen port. */
export const startServer = (handler: Handler): FakeServer => {
  let log: Array<RecordedRequest> = []
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const url = new URL(request.url)
      log.push({ method: request.method, path: `${url.pathname}${url.search}`, headers: headersOf(request), at: performance.now() })
      // drain any request body so the client never blocks on it
      if (request.body) await request.arrayBuffer().catch(() => undefined)
      return (await handler(request, url, log)) ?? notFound()
    }
  })
  let stopping: Promise<void> | undefined
  return {
    host: `127.0.0.1:${server.port}`,
    url: `http://127.0.0.1:${server.port}`,
    requests: () => [...log],
    reset: () => {
      log = []
    },
    stop: () => {
      stopping ??= server.stop(true)
      return stopping
    }
  }
}

/** A registry-style JSON error. */
export const registryError = (status: number, code: string, message: string, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify({ errors: [{ code, message }] }), {
    status,
    headers: { "content-type": "application/json", ...headers }
  })

const notFound = () => registryError(404, "NOT_FOUND", "not found")

/** A server that counts every request it gets and answers each with 500 (nothing should reach it). */
export const startCountingServer = (): FakeServer => startServer(() => registryError(500, "UNEXPECTED", "this server must not be contacted"))

// == manifests and blobs

/** A tiny OCI image index, its bytes and digest. */
export const sampleIndex = (seed = "fake"): { readonly bytes: Uint8Array; readonly digest: string; readonly mediaType: string } => {
  const mediaType = "application/vnd.oci.image.index.v1+json"
  const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType, manifests: [], annotations: { seed } }))
  return { bytes, digest: digestOf(bytes), mediaType }
}

/** Deterministic blob bytes of a given size. */
export const sampleBlob = (size: number, seed = "blob"): Uint8Array => {
  const out = new Uint8Array(size)
  let block = createHash("sha256").update(seed).digest()
  for (let i = 0; i < size; i++) {
    if (i % block.length === 0 && i > 0) block = createHash("sha256").update(block).digest()
    out[i] = block[i % block.length]!
  }
  return out
}

const manifestResponse = (method: string, manifest: { readonly bytes: Uint8Array; readonly digest: string; readonly mediaType: string }) =>
  new Response(method === "HEAD" ? null : manifest.bytes, {
    status: 200,
    headers: {
      "content-type": manifest.mediaType,
      "docker-content-digest": manifest.digest,
      "content-length": String(manifest.bytes.length)
    }
  })

// == scripted answers (429, 503, …)

/** One scripted answer: a status and headers (and a JSON error body for 4xx/5xx). */
export interface ScriptedAnswer {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  /** hold the answer back this long (a registry that does not answer in time) */
  readonly delayMs?: number
}

/**
 * A registry without auth that serves one image index at `/v2/<repository>/manifests/<tag>`
 * (and by digest). Requests for that manifest are answered by `script` first, one answer per
 * request, then normally. `GET /v2/` is always 200.
 */
export const startScriptedRegistry = (options: {
  readonly repository: string
  readonly tag: string
  readonly script: ReadonlyArray<ScriptedAnswer>
}) => {
  const manifest = sampleIndex(`${options.repository}:${options.tag}`)
  let step = 0
  const server = startServer((request, url) => {
    if (url.pathname === "/v2/") return new Response("{}", { headers: { "content-type": "application/json" } })
    const base = `/v2/${options.repository}/manifests/`
    if (url.pathname !== `${base}${options.tag}` && url.pathname !== `${base}${manifest.digest}`) return undefined
    const answer = options.script[step]
    step++
    if (answer?.delayMs) {
      const delayed = answer
      return Bun.sleep(delayed.delayMs!).then(() => registryError(delayed.status, "UNAVAILABLE", `scripted ${delayed.status}`, { ...delayed.headers }))
    }
    if (answer) {
      const code = answer.status === 429 ? "TOOMANYREQUESTS" : "UNAVAILABLE"
      return registryError(answer.status, code, `scripted ${answer.status}`, { ...answer.headers })
    }
    return manifestResponse(request.method, manifest)
  })
  return {
    server,
    manifest,
    /** requests for the scripted manifest (not the ping) */
    manifestRequests: () => server.requests().filter((r) => r.path.startsWith(`/v2/${options.repository}/manifests/`))
  }
}

// == redirects to another origin

/** Basic credentials as the header value. */
export const basicAuth = (username: string, password: string): string => `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`

/**
 * A registry with Basic auth (`Basic realm="fake"`) whose blob GETs answer 307: to a second
 * server (another origin, like S3 or a CDN) or, with `sameOrigin`, to another path of the
 * registry itself (which needs the credentials too). The storage server refuses a request
 * that carries `Authorization` (as S3 does: "only one auth mechanism allowed").
 */
export const startRedirectingRegistry = (options: {
  readonly repository: string
  readonly blob: Uint8Array
  readonly username: string
  readonly password: string
  readonly sameOrigin?: boolean
}) => {
  const digest = digestOf(options.blob)
  const expected = basicAuth(options.username, options.password)
  const blobResponse = () =>
    new Response(options.blob, {
      headers: { "content-type": "application/octet-stream", "docker-content-digest": digest }
    })
  const storage = startServer((request, url) => {
    if (url.pathname !== `/storage/${digest}`) return undefined
    if (request.headers.get("authorization") !== null) {
      return new Response("<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>", {
        status: 400,
        headers: { "content-type": "application/xml" }
      })
    }
    return blobResponse()
  })
  const registry = startServer((request, url) => {
    if (request.headers.get("authorization") !== expected) {
      return registryError(401, "UNAUTHORIZED", "authentication required", { "www-authenticate": "Basic realm=\"fake\"" })
    }
    if (url.pathname === "/v2/") return new Response("{}", { headers: { "content-type": "application/json" } })
    if (url.pathname === `/v2/${options.repository}/blobs/${digest}`) {
      const location = options.sameOrigin
        ? `/_storage/${digest}?sig=same`
        : `${storage.url}/storage/${digest}?X-Amz-Signature=abc&X-Amz-Expires=600`
      return new Response(null, { status: 307, headers: { location } })
    }
    if (url.pathname === `/_storage/${digest}`) return blobResponse()
    return undefined
  })
  return {
    registry,
    storage,
    digest,
    stop: () => Promise.all([registry.stop(), storage.stop()]).then(() => undefined)
  }
}

// == blob bodies that are not what they claim

/** How a source blob body goes wrong. */
export type BadBody =
  /** the right length, other bytes */
  | "wrong-bytes"
  /** a clean, complete response that is shorter than the descriptor says */
  | "short"

/** An anonymous source registry whose blob GET serves a bad body for `blob`'s digest. */
export const startBadBlobSource = (options: { readonly repository: string; readonly blob: Uint8Array; readonly mode: BadBody }) => {
  const digest = digestOf(options.blob)
  const body = options.mode === "wrong-bytes"
    ? options.blob.map((b) => b ^ 0xff)
    : options.blob.subarray(0, Math.floor(options.blob.length / 2))
  const server = startServer((_request, url) => {
    if (url.pathname === "/v2/") return new Response("{}", { headers: { "content-type": "application/json" } })
    if (url.pathname === `/v2/${options.repository}/blobs/${digest}`) {
      return new Response(body, { headers: { "content-type": "application/octet-stream", "docker-content-digest": digest } })
    }
    return undefined
  })
  return { server, digest, blobGets: () => server.requests().filter((r) => r.path.includes("/blobs/")).length }
}

/**
 * A raw TCP source registry whose blob GET declares the full `content-length`, sends half of
 * the body and closes the connection (a body cut off mid-stream). Anonymous; `GET /v2/` is 200.
 */
export const startCutOffBlobSource = (options: { readonly repository: string; readonly blob: Uint8Array }) => {
  const digest = digestOf(options.blob)
  const paths: Array<string> = []
  const buffers = new Map<unknown, string>()
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket, data) {
        const text = (buffers.get(socket) ?? "") + new TextDecoder().decode(data)
        if (!text.includes("\r\n\r\n")) {
          buffers.set(socket, text)
          return
        }
        buffers.delete(socket)
        const [method = "", path = ""] = text.split("\r\n")[0]!.split(" ")
        paths.push(`${method} ${path}`)
        if (path === "/v2/") {
          socket.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
        } else if (path === `/v2/${options.repository}/blobs/${digest}`) {
          socket.write(
            `HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${options.blob.length}\r\nconnection: close\r\n\r\n`
          )
          socket.write(options.blob.subarray(0, Math.floor(options.blob.length / 2)))
        } else {
          socket.write("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        }
        socket.end()
      }
    }
  })
  return {
    host: `127.0.0.1:${listener.port}`,
    digest,
    requests: () => [...paths],
    blobGets: () => paths.filter((p) => p.includes("/blobs/")).length,
    stop: () => listener.stop(true)
  }
}

// == Bearer token auth

/** One token request as the fake token server saw it. */
export interface TokenRequestSeen {
  readonly service: string | null
  /** every `scope` parameter, in order, split on spaces */
  readonly scopes: ReadonlyArray<string>
  readonly authorization: string | null
}

/** Splits "type:name:actions" from both ends (the name may hold "host:port"). */
const splitScope = (scope: string) => {
  const first = scope.indexOf(":")
  const last = scope.lastIndexOf(":")
  return { resource: scope.slice(0, last), actions: scope.slice(last + 1).split(",").filter((a) => a !== ""), valid: first > 0 && last > first }
}

/** True when the granted scopes allow every action of `needed` ("pull,push" covers "pull"). */
const covers = (granted: ReadonlySet<string> | undefined, needed: string): boolean => {
  if (granted === undefined) return false
  const want = splitScope(needed)
  const have = new Set<string>()
  for (const g of granted) {
    const s = splitScope(g)
    if (s.valid && s.resource === want.resource) { for (const a of s.actions) have.add(a) }
  }
  return want.actions.every((a) => have.has(a))
}

/**
 * A registry with Bearer token auth and its token server (a second server). The registry
 * serves one image index at `/v2/<repository>/manifests/<tag>` and accepts a token only if
 * it was issued for the scopes the request needs: `repository:<repository>:pull` for reads,
 * `pull,push` for writes, plus every scope in `alsoRequire` for manifest reads. Missing
 * scopes are answered 401 with `error="insufficient_scope"` and a challenge `scope` listing
 * only the missing ones. With `users`, the token server wants Basic credentials.
 */
export const startBearerRegistry = (options: {
  readonly repository: string
  readonly tag: string
  readonly alsoRequire?: ReadonlyArray<string>
  readonly users?: Readonly<Record<string, string>>
}) => {
  const service = "fake-registry"
  const manifest = sampleIndex(`${options.repository}:${options.tag}`)
  const issued = new Map<string, ReadonlySet<string>>()
  const tokenRequests: Array<TokenRequestSeen> = []
  let counter = 0

  const auth = startServer((request, url) => {
    if (url.pathname !== "/token" || request.method !== "GET") return undefined
    const authorization = request.headers.get("authorization")
    const scopes = url.searchParams.getAll("scope").flatMap((s) => s.split(" ")).filter((s) => s !== "")
    tokenRequests.push({ service: url.searchParams.get("service"), scopes, authorization })
    if (options.users) {
      const ok = Object.entries(options.users).some(([u, p]) => authorization === basicAuth(u, p))
      if (!ok) return registryError(401, "UNAUTHORIZED", "bad credentials")
    }
    const token = `tok-${++counter}`
    issued.set(token, new Set(scopes))
    return Response.json({ token, expires_in: 300, issued_at: new Date().toISOString() })
  })

  const challenge = (scopes: ReadonlyArray<string>, error?: string) =>
    [
      `Bearer realm="${auth.url}/token"`,
      `service="${service}"`,
      ...(scopes.length ? [`scope="${scopes.join(" ")}"`] : []),
      ...(error ? [`error="${error}"`] : [])
    ].join(",")

  const registry = startServer((request, url) => {
    const header = request.headers.get("authorization") ?? ""
    const token = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : undefined
    const granted = token === undefined ? undefined : issued.get(token)
    if (url.pathname === "/v2/") {
      if (granted === undefined) return registryError(401, "UNAUTHORIZED", "authentication required", { "www-authenticate": challenge([]) })
      return new Response("{}", { headers: { "content-type": "application/json" } })
    }
    const prefix = `/v2/${options.repository}/`
    if (!url.pathname.startsWith(prefix)) return undefined
    const write = request.method !== "GET" && request.method !== "HEAD"
    const needed = [`repository:${options.repository}:${write ? "pull,push" : "pull"}`]
    if (url.pathname.startsWith(`${prefix}manifests/`) && !write) needed.push(...(options.alsoRequire ?? []))
    const missing = needed.filter((s) => !covers(granted, s))
    if (missing.length > 0) {
      return registryError(401, "UNAUTHORIZED", "authentication required", {
        "www-authenticate": challenge(missing, granted === undefined ? undefined : "insufficient_scope")
      })
    }
    const base = `${prefix}manifests/`
    if (url.pathname === `${base}${options.tag}` || url.pathname === `${base}${manifest.digest}`) {
      if (request.method === "PUT") return new Response(null, { status: 201, headers: { "docker-content-digest": manifest.digest } })
      return manifestResponse(request.method, manifest)
    }
    if (url.pathname.startsWith(`${prefix}blobs/`) && (request.method === "HEAD" || request.method === "GET")) {
      return registryError(404, "BLOB_UNKNOWN", "blob unknown")
    }
    return undefined
  })

  return {
    registry,
    auth,
    service,
    manifest,
    tokenRequests: () => [...tokenRequests],
    stop: () => Promise.all([registry.stop(), auth.stop()]).then(() => undefined)
  }
}
