/**
 * An auth stand-in in front of a real registry, as Nexus, Artifactory and auth proxies are
 * often set up: `GET /v2/` answers 200 to anyone, every other path answers 401 with a
 * challenge unless the request carries what the challenge asks for — Basic credentials
 * (`basic` mode), or a token this stand-in issued at its own realm for those credentials
 * (`bearer` mode). Requests that pass go to the registry behind it. Every request and every
 * token request is recorded (whether credentials came, never their value).
 */

/** One request the stand-in answered. */
export interface AuthProxyRequest {
  readonly method: string
  readonly path: string
  /** did the request carry an Authorization header (its value is never kept) */
  readonly authorized: boolean
  readonly status: number
}

/** A running auth stand-in. */
export interface AuthProxy {
  /** "127.0.0.1:PORT" */
  readonly host: string
  readonly url: string
  /** every registry request (token requests aside) */
  readonly requests: () => ReadonlyArray<AuthProxyRequest>
  /** every token request at the realm: the scopes asked and whether the credentials were right */
  readonly tokenRequests: () => ReadonlyArray<{ readonly scopes: ReadonlyArray<string>; readonly granted: boolean }>
  readonly reset: () => void
  readonly stop: () => Promise<void>
}

/** Options: the credentials to demand and how. */
export interface AuthProxyOptions {
  readonly mode: "basic" | "bearer"
  readonly username: string
  readonly password: string
}

const basicValue = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`

const unauthorized = (challenge: string): Response =>
  new Response(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }), {
    status: 401,
    headers: { "content-type": "application/json", "www-authenticate": challenge }
  })

/** Starts the stand-in in front of `upstream` ("http://127.0.0.1:PORT"). */
export const startAuthProxy = (upstream: string, options: AuthProxyOptions): AuthProxy => {
  const expected = basicValue(options.username, options.password)
  const issued = new Set<string>()
  let log: Array<AuthProxyRequest> = []
  let tokenLog: Array<{ scopes: ReadonlyArray<string>; granted: boolean }> = []
  let serial = 0

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request): Promise<Response> => {
      const url = new URL(request.url)
      const own = url.origin
      const authorization = request.headers.get("authorization")
      if (url.pathname === "/token") {
        const granted = authorization === expected
        tokenLog.push({ scopes: url.searchParams.getAll("scope"), granted })
        if (!granted) return unauthorized(`Basic realm="${own}/token"`)
        const token = `token-${++serial}-${crypto.randomUUID()}`
        issued.add(token)
        return Response.json({ token, expires_in: 300 })
      }
      const allowed = url.pathname === "/v2/" ||
        (options.mode === "basic" ? authorization === expected : authorization !== null && issued.has(authorization.replace(/^Bearer /, "")))
      if (!allowed) {
        log.push({ method: request.method, path: url.pathname, authorized: authorization !== null, status: 401 })
        const repository = /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(url.pathname)?.[1] ?? ""
        return unauthorized(
          options.mode === "basic"
            ? `Basic realm="${own}"`
            : `Bearer realm="${own}/token",service="auth-proxy",scope="repository:${repository}:pull,push"`
        )
      }
      const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer()
      const headers = new Headers(request.headers)
      headers.delete("host")
      headers.delete("authorization")
      const answer = await fetch(`${upstream}${url.pathname}${url.search}`, { method: request.method, headers, body, redirect: "manual", decompress: false })
      log.push({ method: request.method, path: url.pathname, authorized: authorization !== null, status: answer.status })
      const out = new Headers(answer.headers)
      const location = out.get("location")
      if (location?.startsWith(upstream)) out.set("location", `${own}${location.slice(upstream.length)}`)
      const bytes = request.method === "HEAD" ? null : await answer.arrayBuffer()
      return new Response(bytes, { status: answer.status, headers: out })
    }
  })
  return {
    host: `127.0.0.1:${server.port}`,
    url: `http://127.0.0.1:${server.port}`,
    requests: () => log,
    tokenRequests: () => tokenLog,
    reset: () => {
      log = []
      tokenLog = []
    },
    stop: async () => {
      await server.stop(true)
    }
  }
}
