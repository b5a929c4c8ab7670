/**
 * An Amazon ECR personality in front of a real docker-registry (Bun.serve proxy): what a
 * client meets at `<account>.dkr.ecr.<region>.amazonaws.com`, each quirk as ECR documents it
 * or as public trackers recorded it. The repositories and passwords come from an account (the
 * ECR API stand-in, test/support/EcrApi.ts). Every request is recorded (never a credential).
 */

/** What the personality asks of the account behind it. */
export interface EcrAccount {
  /** the 12-digit account id, as ECR's messages name it */
  readonly registryId: string
  /** the repository of that name, if the account has it */
  readonly repository: (name: string) => { readonly imageTagMutability: string } | undefined
  /** true for a password GetAuthorizationToken handed out and not yet expired */
  readonly acceptsPassword: (password: string) => boolean
}

/** Quirks a test may turn on. */
export interface EcrOptions {
  /** the account setting BLOB_MOUNTING (off by default, as in ECR): mounts really mount */
  readonly blobMounting?: boolean
  /** answer a PATCH with 201 instead of 202 (ECR may; regclient scheme/reg/blob.go accepts it) */
  readonly patchCreated?: boolean
}

/** One request as the personality saw it. */
export interface EcrRequest {
  readonly method: string
  readonly path: string
  /** the query string, without "?" */
  readonly query: string
  readonly contentLength: string | undefined
  readonly transferEncoding: string | undefined
  /** whether an Authorization header came (its value is never kept) */
  readonly authorized: boolean
  readonly status: number
}

/** A running ECR personality. */
export interface EcrRegistry {
  /** "127.0.0.1:PORT" */
  readonly host: string
  readonly requests: () => ReadonlyArray<EcrRequest>
  readonly clearRequests: () => void
  readonly stop: () => Promise<void>
}

/** ECR's tag list pages: 100 without `n`, at most 1000 (ggcr#681, ggcr#1091; docker_registry2#34 shows the `last` link). */
const DEFAULT_PAGE = 100
const MAX_PAGE = 1000

const REPOSITORY_PATH = /^\/v2\/(.+?)\/(manifests|blobs|tags)(\/.*)?$/

const errors = (status: number, code: string, message: string, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify({ errors: [{ code, message }] }), { status, headers: { "content-type": "application/json; charset=utf-8", ...headers } })

const passwordOf = (authorization: string | null): string | undefined => {
  const match = /^Basic\s+(\S+)$/i.exec(authorization ?? "")
  if (match === null) return undefined
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8")
  // ECR accepts the user name "AWS" only (GetAuthorizationToken hands out "AWS:<password>").
  return decoded.startsWith("AWS:") ? decoded.slice(4) : undefined
}

/** Starts the personality in front of `upstream` ("http://127.0.0.1:PORT", a docker-registry without auth). */
export const startEcrRegistry = (upstream: string, account: EcrAccount, options: EcrOptions = {}): EcrRegistry => {
  const log: Array<EcrRequest> = []

  const forward = async (request: Request, url: URL, search: string, self: string): Promise<Response> => {
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer()
    const headers = new Headers(request.headers)
    headers.delete("host")
    headers.delete("authorization")
    const answer = await fetch(
      `${upstream}${url.pathname}${search}`,
      { method: request.method, headers, body, redirect: "manual", decompress: false, proxy: false } as RequestInit
    )
    const out = new Headers(answer.headers)
    const location = out.get("location")
    if (location?.startsWith(upstream)) out.set("location", `${self}${location.slice(upstream.length)}`)
    const bytes = request.method === "HEAD" ? null : await answer.arrayBuffer()
    return new Response(bytes, { status: answer.status, headers: out })
  }

  const handle = async (request: Request, url: URL, self: string): Promise<Response> => {
    // Basic only, user AWS with a password GetAuthorizationToken handed out; the challenge as ECR sends it (mayflower/docker-ls#28).
    const password = passwordOf(request.headers.get("authorization"))
    if (password === undefined || !account.acceptsPassword(password)) {
      return errors(401, "DENIED", "Not Authorized", { "www-authenticate": `Basic realm="https://${url.host}/",service="ecr.amazonaws.com"` })
    }
    if (url.pathname === "/v2/" || url.pathname === "/v2") return forward(request, url, url.search, self)
    const match = REPOSITORY_PATH.exec(url.pathname)
    if (match === null) return errors(404, "NOT_FOUND", "404 page not found")
    const name = match[1]!
    const repository = account.repository(name)
    // No create-on-push: every request to a repository the account lacks (regclient#869, containers-roadmap#853).
    if (repository === undefined) {
      return errors(404, "NAME_UNKNOWN", `The repository with name '${name}' in registry with id '${account.registryId}' does not exist`)
    }
    const kind = match[2]!
    const rest = match[3] ?? ""

    if (kind === "tags" && rest === "/list" && request.method === "GET") {
      const asked = url.searchParams.get("n")
      const n = asked === null ? DEFAULT_PAGE : Number(asked)
      if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) {
        return errors(405, "UNSUPPORTED", "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'")
      }
      const all = await forward(request, url, "", self)
      if (all.status !== 200) return all
      const tags = [...(((await all.json()) as { tags?: Array<string> | null }).tags ?? [])].sort()
      const last = url.searchParams.get("last")
      const start = last === null ? 0 : tags.findIndex((t) => t > last)
      const page = start < 0 ? [] : tags.slice(start, start + n)
      const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" }
      if (start >= 0 && start + n < tags.length) headers["link"] = `<${url.pathname}?last=${encodeURIComponent(page[page.length - 1]!)}&n=${n}>; rel="next"`
      return new Response(JSON.stringify({ name, tags: page }), { headers })
    }

    // A cross-repository mount without BLOB_MOUNTING starts an ordinary upload session: 202 (containers-roadmap#2860).
    if (kind === "blobs" && request.method === "POST" && url.searchParams.has("mount") && options.blobMounting !== true) {
      const plain = new URLSearchParams(url.searchParams)
      plain.delete("mount")
      plain.delete("from")
      const search = plain.toString()
      return forward(request, url, search === "" ? "" : `?${search}`, self)
    }

    // IMMUTABLE: a tag PUT is refused when the tag exists, even with the same digest (containers-roadmap#2380, #862).
    const reference = kind === "manifests" ? rest.slice(1) : ""
    if (kind === "manifests" && request.method === "PUT" && repository.imageTagMutability.startsWith("IMMUTABLE") && !reference.startsWith("sha256:")) {
      const exists = await fetch(`${upstream}/v2/${name}/manifests/${reference}`, {
        method: "HEAD",
        headers: { accept: request.headers.get("content-type") ?? "*/*" },
        proxy: false
      } as RequestInit)
      if (exists.status === 200) {
        return errors(
          400,
          "TAG_INVALID",
          `The image tag '${reference}' already exists in the '${name}' repository and cannot be overwritten because the repository is immutable.`
        )
      }
    }

    const answer = await forward(request, url, url.search, self)
    // ECR may close a chunk with 201 where the spec says 202; the session goes on at Location.
    if (kind === "blobs" && request.method === "PATCH" && answer.status === 202 && options.patchCreated === true) {
      return new Response(answer.body, { status: 201, headers: answer.headers })
    }
    return answer
  }

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const url = new URL(request.url)
      const self = `http://${url.host}`
      const res = await handle(request, url, self)
      log.push({
        method: request.method,
        path: url.pathname,
        query: url.search.replace(/^\?/, ""),
        contentLength: request.headers.get("content-length") ?? undefined,
        transferEncoding: request.headers.get("transfer-encoding") ?? undefined,
        authorized: request.headers.has("authorization"),
        status: res.status
      })
      return res
    }
  })

  return {
    host: `127.0.0.1:${server.port}`,
    requests: () => [...log],
    clearRequests: () => void log.splice(0),
    stop: async () => {
      await server.stop(true)
    }
  }
}
