/**
 * A Bun.serve proxy in front of a real registry that answers `tags/list` a few tags at a
 * time with `Link: <…>; rel="next"`, as Docker Hub, GHCR and Quay do (docker-registry 2.8
 * returns every tag at once, whatever `n` asks for). Everything else is passed through.
 */

/** A running paging proxy. */
export interface PagingProxy {
  /** "127.0.0.1:PORT" */
  readonly host: string
  /** the tags/list requests seen, as path + query */
  readonly tagRequests: () => ReadonlyArray<string>
  /** every request seen, as "METHOD path" */
  readonly requests: () => ReadonlyArray<string>
  readonly stop: () => Promise<void>
}

const TAGS_LIST = /^\/v2\/(.+)\/tags\/list$/

/** Starts the proxy for `upstream` ("http://127.0.0.1:PORT"); pages hold at most `pageSize` tags. */
export const startPagingProxy = (upstream: string, pageSize: number): PagingProxy => {
  const tagRequests: Array<string> = []
  const requests: Array<string> = []
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const url = new URL(request.url)
      requests.push(`${request.method} ${url.pathname}`)
      const tagsList = TAGS_LIST.exec(url.pathname)
      if (tagsList !== null && request.method === "GET") {
        tagRequests.push(url.pathname + url.search)
        const res = await fetch(`${upstream}${url.pathname}`, { headers: request.headers, proxy: false } as RequestInit)
        if (res.status !== 200) return res
        const all = ((await res.json()) as { tags?: Array<string> }).tags ?? []
        const sorted = [...all].sort()
        const last = url.searchParams.get("last")
        const asked = Number(url.searchParams.get("n") ?? pageSize)
        const size = Math.min(pageSize, Number.isFinite(asked) && asked > 0 ? asked : pageSize)
        const start = last === null ? 0 : sorted.findIndex((t) => t > last)
        const page = start < 0 ? [] : sorted.slice(start, start + size)
        const headers: Record<string, string> = { "content-type": "application/json" }
        if (start >= 0 && start + size < sorted.length) {
          headers["link"] = `<${url.pathname}?n=${size}&last=${encodeURIComponent(page[page.length - 1]!)}>; rel="next"`
        }
        return new Response(JSON.stringify({ name: tagsList[1], tags: page }), { headers })
      }
      const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer()
      const res = await fetch(`${upstream}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers,
        body,
        redirect: "manual",
        proxy: false
      } as RequestInit)
      return new Response(request.method === "HEAD" ? null : res.body, { status: res.status, headers: res.headers })
    }
  })
  return {
    host: `127.0.0.1:${server.port}`,
    tagRequests: () => [...tagRequests],
    requests: () => [...requests],
    stop: async () => {
      await server.stop(true)
    }
  }
}
