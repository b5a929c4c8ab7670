/**
 * A registry with the OCI 1.1 referrers API, as distribution-spec v1.1 describes it ("Listing
 * Referrers", "Pushing Manifests with Subject"), in front of a real docker-registry 2.8 (which
 * has none: it answers 404 there). A manifest PUT whose body has a `subject` is answered with
 * an `OCI-Subject: <subject digest>` header and listed under that subject; `GET
 * /v2/<name>/referrers/<digest>` answers an OCI index of those descriptors (media type, digest,
 * size, `artifactType` — the manifest's, else its config's media type — and annotations),
 * `?artifactType=` filters it (`OCI-Filters-Applied`); deleting a referrer unlists it.
 * Everything else is passed through. The list lives as long as the stand-in (referrers pushed
 * to the registry behind its back are not listed). Every request is recorded.
 */
import { createHash } from "node:crypto"

/** One request the stand-in saw. */
export interface StandInRequest {
  readonly method: string
  readonly path: string
  readonly status: number
}

/** A running referrers stand-in. */
export interface ReferrersRegistry {
  /** "127.0.0.1:PORT" */
  readonly host: string
  readonly url: string
  readonly requests: () => ReadonlyArray<StandInRequest>
  readonly resetRequests: () => void
  /** the descriptors listed for `repository` and `digest` */
  readonly referrersOf: (repository: string, digest: string) => ReadonlyArray<Record<string, unknown>>
  readonly stop: () => Promise<void>
}

const OCI_INDEX = "application/vnd.oci.image.index.v1+json"
const MANIFEST = /^\/v2\/(.+)\/manifests\/([^/]+)$/
const REFERRERS = /^\/v2\/(.+)\/referrers\/([^/]+)$/

const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`

/** Forwards a request to `upstream`, rewriting a Location that points there to point here. */
export const forward = async (request: Request, upstream: string, self: string, body?: ArrayBuffer): Promise<Response> => {
  const url = new URL(request.url)
  const headers = new Headers(request.headers)
  headers.delete("host")
  const payload = body ?? (request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer())
  const answer = await fetch(`${upstream}${url.pathname}${url.search}`, {
    method: request.method,
    headers,
    body: payload,
    redirect: "manual",
    decompress: false,
    proxy: false
  } as RequestInit)
  const out = new Headers(answer.headers)
  const location = out.get("location")
  if (location?.startsWith(upstream)) out.set("location", `${self}${location.slice(upstream.length)}`)
  const bytes = request.method === "HEAD" ? null : await answer.arrayBuffer()
  return new Response(bytes, { status: answer.status, headers: out })
}

/** Starts the stand-in in front of `upstream` ("http://127.0.0.1:PORT"). */
export const startReferrersRegistry = (upstream: string): ReferrersRegistry => {
  const log: Array<StandInRequest> = []
  // repository → subject digest → referrer digest → descriptor
  const listed = new Map<string, Map<string, Map<string, Record<string, unknown>>>>()
  const subjectOf = new Map<string, string>()
  const listFor = (repository: string, digest: string) => {
    let repo = listed.get(repository)
    if (repo === undefined) listed.set(repository, repo = new Map())
    let list = repo.get(digest)
    if (list === undefined) repo.set(digest, list = new Map())
    return list
  }
  let self = ""
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const url = new URL(request.url)
      const record = (r: Response) => {
        log.push({ method: request.method, path: url.pathname, status: r.status })
        return r
      }
      const referrers = REFERRERS.exec(url.pathname)
      if (referrers !== null && request.method === "GET") {
        const [, repository, digest] = referrers
        const wanted = url.searchParams.get("artifactType")
        const all = [...listFor(repository!, digest!).values()]
        const manifests = wanted === null ? all : all.filter((d) => d["artifactType"] === wanted)
        const headers: Record<string, string> = { "content-type": OCI_INDEX }
        if (wanted !== null) headers["oci-filters-applied"] = "artifactType"
        return record(new Response(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }), { status: 200, headers }))
      }
      const manifest = MANIFEST.exec(url.pathname)
      if (manifest !== null && request.method === "PUT") {
        const body = await request.arrayBuffer()
        const answer = await forward(request, upstream, self, body)
        if (answer.status !== 201) return record(answer)
        const bytes = new Uint8Array(body)
        let json: {
          mediaType?: string
          artifactType?: string
          config?: { mediaType?: string }
          subject?: { digest?: string }
          annotations?: Record<string, string>
        }
        try {
          json = JSON.parse(new TextDecoder().decode(bytes))
        } catch {
          return record(answer)
        }
        const subject = json.subject?.digest
        if (subject === undefined) return record(answer)
        const digest = sha256(bytes)
        const artifactType = json.artifactType ?? json.config?.mediaType
        listFor(manifest[1]!, subject).set(digest, {
          mediaType: json.mediaType ?? request.headers.get("content-type") ?? "",
          digest,
          size: bytes.length,
          ...(artifactType !== undefined ? { artifactType } : {}),
          ...(json.annotations !== undefined ? { annotations: json.annotations } : {})
        })
        subjectOf.set(`${manifest[1]}@${digest}`, subject)
        const headers = new Headers(answer.headers)
        headers.set("oci-subject", subject)
        return record(new Response(null, { status: answer.status, headers }))
      }
      if (manifest !== null && request.method === "DELETE") {
        const answer = await forward(request, upstream, self)
        const key = `${manifest[1]}@${manifest[2]}`
        const subject = subjectOf.get(key)
        if (answer.status === 202 && subject !== undefined) {
          listFor(manifest[1]!, subject).delete(manifest[2]!)
          subjectOf.delete(key)
        }
        return record(answer)
      }
      return record(await forward(request, upstream, self))
    }
  })
  self = `http://127.0.0.1:${server.port}`
  return {
    host: `127.0.0.1:${server.port}`,
    url: self,
    requests: () => [...log],
    resetRequests: () => {
      log.length = 0
    },
    referrersOf: (repository, digest) => [...listFor(repository, digest).values()],
    stop: async () => {
      await server.stop(true)
    }
  }
}
