/**
 * A stand-in for Docker Hub's pull limit in front of a real registry (Bun.serve): every
 * manifest answer carries `ratelimit-limit: <limit>;w=21600` and `ratelimit-remaining:
 * <left>;w=21600`; each manifest GET spends one; a manifest GET with nothing left is answered
 * 429 TOOMANYREQUESTS (with `Retry-After`), as Docker Hub does. Every request is recorded.
 */

/** One request the proxy got. */
export interface QuotaRequest {
  readonly method: string
  readonly path: string
  readonly status: number
}

/** A running quota proxy. */
export interface QuotaProxy {
  /** "127.0.0.1:PORT" */
  readonly host: string
  readonly requests: () => ReadonlyArray<QuotaRequest>
  readonly stop: () => Promise<void>
}

const isManifest = (path: string) => /\/manifests\/[^/]+$/.test(path)

/** Starts the proxy in front of `upstream` ("http://127.0.0.1:PORT") with `left` pulls of `limit` remaining. */
export const startQuotaProxy = (
  upstream: string,
  options: { readonly limit: number; readonly left: number; readonly retryAfterSeconds: number }
): QuotaProxy => {
  let left = options.left
  const log: Array<QuotaRequest> = []
  const quotaHeaders = () => ({ "ratelimit-limit": `${options.limit};w=21600`, "ratelimit-remaining": `${left};w=21600` })
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const url = new URL(request.url)
      const manifest = isManifest(url.pathname)
      if (manifest && request.method === "GET") {
        if (left === 0) {
          log.push({ method: request.method, path: url.pathname, status: 429 })
          return new Response(
            JSON.stringify({
              errors: [{
                code: "TOOMANYREQUESTS",
                message: "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading"
              }]
            }),
            { status: 429, headers: { "content-type": "application/json", "retry-after": String(options.retryAfterSeconds), ...quotaHeaders() } }
          )
        }
        left--
      }
      const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer()
      const headers = new Headers(request.headers)
      headers.delete("host")
      const answer = await fetch(`${upstream}${url.pathname}${url.search}`, { method: request.method, headers, body, redirect: "manual", decompress: false })
      log.push({ method: request.method, path: url.pathname, status: answer.status })
      const out = new Headers(answer.headers)
      if (manifest) { for (const [k, v] of Object.entries(quotaHeaders())) out.set(k, v) }
      const location = out.get("location")
      if (location?.startsWith(upstream)) out.set("location", `http://${server.hostname}:${server.port}${location.slice(upstream.length)}`)
      const bytes = request.method === "HEAD" ? null : await answer.arrayBuffer()
      return new Response(bytes, { status: answer.status, headers: out })
    }
  })
  return {
    host: `127.0.0.1:${server.port}`,
    requests: () => log,
    stop: async () => {
      await server.stop(true)
    }
  }
}
