/**
 * Request counting from the registries' access logs (LocalRegistry parses them): every line
 * falls into one class, so per-image numbers add up and nothing is silently dropped.
 */
import type { LoggedRequest } from "../demo/LocalRegistry.ts"

/** The classes of registry requests we count. */
export const REQUEST_CLASSES = [
  "ping",
  "manifestHead",
  "manifestGet",
  "manifestPut",
  "blobHead",
  "blobGet",
  "uploadStart",
  "mount",
  "uploadPatch",
  "uploadPut",
  "referrers",
  "other"
] as const
export type RequestClass = (typeof REQUEST_CLASSES)[number]

export type RequestCounts = Record<RequestClass, number>

/** Counts of one registry in one run, plus how many were answered 401. */
export interface RegistryCounts {
  readonly total: number
  readonly unauthorized: number
  readonly byClass: RequestCounts
}

export const emptyCounts = (): RequestCounts => Object.fromEntries(REQUEST_CLASSES.map((c) => [c, 0])) as RequestCounts

/** The class of one request line. */
export const classify = (request: LoggedRequest): RequestClass => {
  const [path = "", query = ""] = request.path.split("?", 2)
  if (path === "/v2/" || path === "/v2") return "ping"
  if (/\/manifests\/[^/]+$/.test(path)) {
    if (request.method === "HEAD") return "manifestHead"
    if (request.method === "GET") return "manifestGet"
    if (request.method === "PUT") return "manifestPut"
    return "other"
  }
  if (/\/blobs\/uploads\/?$/.test(path) && request.method === "POST") {
    return /(^|&)mount=/.test(query) ? "mount" : "uploadStart"
  }
  if (/\/blobs\/uploads\/[^/]+$/.test(path)) {
    if (request.method === "PATCH") return "uploadPatch"
    if (request.method === "PUT") return "uploadPut"
    return "other"
  }
  if (/\/blobs\/sha256:[0-9a-f]{64}$/.test(path)) {
    if (request.method === "HEAD") return "blobHead"
    if (request.method === "GET") return "blobGet"
    return "other"
  }
  if (/\/referrers\/[^/]+$/.test(path)) return "referrers"
  return "other"
}

/** Counts the requests of one registry. */
export const countRequests = (requests: ReadonlyArray<LoggedRequest>): RegistryCounts => {
  const byClass = emptyCounts()
  let unauthorized = 0
  for (const r of requests) {
    byClass[classify(r)]++
    if (r.status === 401) unauthorized++
  }
  return { total: requests.length, unauthorized, byClass }
}

/** How a blob reached the target: full uploads (PUT …?digest=) and successful mounts (201). */
export const blobArrivals = (requests: ReadonlyArray<LoggedRequest>, digest: string): { readonly uploads: number; readonly mounts: number } => {
  const encoded = encodeURIComponent(digest)
  let uploads = 0
  let mounts = 0
  for (const r of requests) {
    const cls = classify(r)
    const query = r.path.split("?", 2)[1] ?? ""
    const params = new URLSearchParams(query)
    if (cls === "uploadPut" && r.status === 201 && (params.get("digest") === digest || query.includes(`digest=${encoded}`))) uploads++
    if (cls === "mount" && r.status === 201 && params.get("mount") === digest) mounts++
  }
  return { uploads, mounts }
}

/** Per-image view of a run: source + target counts divided by the image count. */
export interface PerImage {
  /** manifest HEAD + GET + PUT on both registries, per image */
  readonly manifestRequests: number
  readonly manifestHead: number
  /** manifest GETs on the source: what Docker Hub counts as pulls */
  readonly sourceManifestGets: number
  readonly manifestGet: number
  readonly manifestPut: number
  readonly blobRequests: number
  readonly pings: number
  readonly tokens: number
  readonly other: number
  readonly total: number
}

const round2 = (n: number): number => Math.round(n * 100) / 100

/** Per-image numbers from both registries' counts and the token requests seen. */
export const perImage = (source: RegistryCounts, target: RegistryCounts, tokens: number, images: number): PerImage => {
  const sum = (c: RequestClass) => source.byClass[c] + target.byClass[c]
  const blob = (["blobHead", "blobGet", "uploadStart", "mount", "uploadPatch", "uploadPut"] as const).reduce((n, c) => n + sum(c), 0)
  const per = (n: number) => round2(n / images)
  return {
    manifestRequests: per(sum("manifestHead") + sum("manifestGet") + sum("manifestPut")),
    manifestHead: per(sum("manifestHead")),
    sourceManifestGets: per(source.byClass.manifestGet),
    manifestGet: per(sum("manifestGet")),
    manifestPut: per(sum("manifestPut")),
    blobRequests: per(blob),
    pings: per(sum("ping")),
    tokens: per(tokens),
    other: per(sum("referrers") + sum("other")),
    total: per(source.total + target.total + tokens)
  }
}
