/**
 * Registry operations on top of RegistryHttp, shaped as an ImageStore: manifests by
 * HEAD/GET/PUT with exact bytes, blobs by HEAD/GET, verified streaming uploads, and
 * cross-repository mounts. In read-only mode (dry run) every write is refused here, at the
 * lowest level, so nothing can slip out.
 */
import { Context, Effect, Layer, Option } from "effect"
import type { HttpClientResponse } from "@effect/platform"
import { isDigestReference, isSha256Digest, sha256Digest } from "../model/Digest.ts"
import { DigestMismatch, ImageNotFound, ResponseTooLarge, TagTaken, TransportFailure } from "../model/Errors.ts"
import type { TransportError } from "../model/Errors.ts"
import type { BlobBody, ImageStore, ResumeBudget } from "../model/ImageStore.ts"
import { describeLocation } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import type { ManifestDescriptor, RawManifest } from "../model/Manifest.ts"
import { isSchema1, MANIFEST_ACCEPT, OCI_INDEX } from "../model/MediaTypes.ts"
import { isValidTag } from "../model/Reference.ts"
import { shorten } from "../model/Text.ts"
import { unavailable, verifiedStream } from "./BlobSource.ts"
import { MANIFEST_LIMIT, readBody, readErrorText, SMALL_BLOB_LIMIT, webBody } from "./http/BodyReader.ts"
import { RegistryHttp } from "./RegistryHttp.ts"
import type { RegistryRequest, StaleCredentials } from "./RegistryHttp.ts"
import { defaultRetrySettings, Retryable, withRetry } from "./http/RetryPolicy.ts"
import type { RetrySettings } from "./http/RetryPolicy.ts"
import { allowedUrl } from "./http/UrlPolicy.ts"

/** Settings of the registry client. */
export interface RegistryClientSettings {
  /** refuse every write (dry run) and ask target tokens for pull only */
  readonly readOnly: boolean
  readonly retry: RetrySettings
  /** a body that sends nothing for this long is abandoned (a blob is resumed) (default 30 s) */
  readonly stallTimeoutMs?: number
}

/** The RegistryClient service: a registry as an ImageStore, with exact bytes and verified digests. */
export class RegistryClient extends Context.Tag("syncer/RegistryClient")<RegistryClient, ImageStore & {
  /** mounts `digest` from repository `from` of the same registry; false when the registry started an upload instead */
  readonly mountBlob: (image: ImageLocation, digest: string, from: string) => Effect.Effect<boolean, TransportError>
}>() {
  /** The live client on RegistryHttp. */
  static layer(settings: RegistryClientSettings = { readOnly: false, retry: defaultRetrySettings }) {
    return Layer.effect(RegistryClient, make(settings))
  }
}

/** A registry's answer to a tag PUT that says the tag may not be overwritten. */
const refusesOverwrite = (body: string): boolean => /immutab|cannot be overwritten|already exists/i.test(body)

/** Tags asked for per page (registries may send fewer, or all). */
const TAGS_PAGE = 1000

/** A repository with more pages than this is refused (a registry that links to itself forever). */
const MAX_TAG_PAGES = 10_000

/** Stands for the registry's own origin while a relative link is resolved. */
const SAME_REGISTRY = "http://registry.invalid"

/** The URL of `Link: <url>; rel="next"`, if the header has one. */
export const nextLink = (header: string | undefined): string | undefined => {
  if (!header) return undefined
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part)
    if (match && /(^|;)\s*rel="?next"?\s*(;|$)/i.test(match[2]!)) return match[1]
  }
  return undefined
}

const contentType = (res: HttpClientResponse.HttpClientResponse) => (res.headers["content-type"] ?? "").split(";")[0]!.trim()

const manifestPath = (image: ImageLocation, reference = image.reference) => `/v2/${image.repository}/manifests/${reference}`

const blobPath = (image: ImageLocation, digest: string) => `/v2/${image.repository}/blobs/${digest}`

/**
 * Why a streamed upload failed: the body's own failure explains it better than the transport
 * error it caused; an unavailable target or source is worth another whole try.
 */
const uploadFailure = (e: TransportError, body: TransportError | undefined): TransportError | Retryable => {
  const cause = body ?? e
  if (cause._tag === "RegistryUnavailable") return new Retryable({ registry: cause.registry, detail: cause.detail, retryAfter: undefined })
  return cause
}

const make = (settings: RegistryClientSettings) =>
  Effect.gen(function*() {
    const http = yield* RegistryHttp
    const stallTimeoutMs = settings.stallTimeoutMs ?? 30_000
    const retry = withRetry(settings.retry)
    const retried = <A>(self: Effect.Effect<A, TransportError | Retryable>): Effect.Effect<A, TransportError> =>
      self.pipe(retry, Effect.catchTag("Retryable", (e) => Effect.fail(unavailable(e))))

    // Target requests share one pull+push token per repository; sources (and dry runs) ask pull only.
    const scopeFor = (image: ImageLocation) =>
      `repository:${image.repository}:${image.endpoint.role === "target" && !settings.readOnly ? "pull,push" : "pull"}`

    const send = (image: ImageLocation, request: Omit<RegistryRequest, "scopes"> & { scopes?: ReadonlyArray<string> }) => {
      const write = request.method !== "GET" && request.method !== "HEAD"
      if (write && settings.readOnly) {
        return Effect.die(new Error(`read-only mode: refused ${request.method} ${request.path}`))
      }
      return http.send(image.endpoint, { ...request, scopes: request.scopes ?? [scopeFor(image)] })
    }

    const unexpected = (image: ImageLocation, what: string, res: HttpClientResponse.HttpClientResponse) =>
      Effect.flatMap(readErrorText(res, stallTimeoutMs), (body) =>
        Effect.fail(
          new TransportFailure({
            transport: "oci",
            detail: `${what} ${describeLocation(image)}: HTTP ${res.status}${body ? ` ${body.trim().slice(0, 300)}` : ""}`
          })
        ))

    /**
     * A tag or digest goes into a request path only when well-formed: digests come from
     * registries (manifest descriptors, headers), and "sha256:../../x" would leave the repository.
     */
    const checkReference = (image: ImageLocation, reference: string, what: string) =>
      isValidTag(reference) || isSha256Digest(reference)
        ? Effect.void
        : Effect.fail(
          new TransportFailure({
            transport: "oci",
            detail: `${image.endpoint.host}/${image.repository}: refusing ${what} ${JSON.stringify(shorten(reference, 100))}: not a tag or a sha256 digest`
          })
        )

    const refuseSchema1 = (image: ImageLocation, mediaType: string) =>
      isSchema1(mediaType)
        ? Effect.fail(new TransportFailure({ transport: "oci", detail: `${describeLocation(image)} is a Docker schema 1 manifest, which is not supported` }))
        : Effect.void

    const getManifest = (image: ImageLocation): Effect.Effect<RawManifest, TransportError> =>
      retried(Effect.gen(function*() {
        yield* checkReference(image, image.reference, "manifest reference")
        const res = yield* send(image, { method: "GET", path: manifestPath(image), headers: { accept: MANIFEST_ACCEPT } })
        if (res.status === 404) return yield* new ImageNotFound({ image: describeLocation(image) })
        if (res.status !== 200) return yield* unexpected(image, "GET manifest", res)
        const bytes = yield* readBody(res, {
          registry: image.endpoint.host,
          request: `GET ${manifestPath(image)}`,
          what: "manifest",
          limit: MANIFEST_LIMIT,
          stallMs: stallTimeoutMs
        })
        const digest = sha256Digest(bytes)
        if (isDigestReference(image.reference) && digest !== image.reference) {
          return yield* new DigestMismatch({ what: describeLocation(image), expected: image.reference, actual: digest })
        }
        let mediaType = contentType(res)
        try {
          const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: string }
          if (parsed.mediaType) mediaType = parsed.mediaType
        } catch {
          return yield* new TransportFailure({ transport: "oci", detail: `${describeLocation(image)}: manifest is not JSON` })
        }
        yield* refuseSchema1(image, mediaType)
        return { digest, mediaType, size: bytes.length, bytes }
      }))

    const headManifest = (image: ImageLocation): Effect.Effect<Option.Option<ManifestDescriptor>, TransportError> =>
      Effect.gen(function*() {
        yield* checkReference(image, image.reference, "manifest reference")
        const res = yield* send(image, { method: "HEAD", path: manifestPath(image), headers: { accept: MANIFEST_ACCEPT } })
        if (res.status === 404) return Option.none()
        if (res.status !== 200) return yield* unexpected(image, "HEAD manifest", res)
        const mediaType = contentType(res)
        yield* refuseSchema1(image, mediaType)
        const digest = res.headers["docker-content-digest"]
        const size = Number(res.headers["content-length"] ?? "0")
        if (digest !== undefined && isSha256Digest(digest)) {
          if (size > MANIFEST_LIMIT) {
            return yield* new ResponseTooLarge({ registry: image.endpoint.host, request: `HEAD ${manifestPath(image)}`, what: "manifest", limit: MANIFEST_LIMIT, announced: size })
          }
          return Option.some({ digest, mediaType, size })
        }
        // Without the header we must hash the body ourselves.
        const raw = yield* getManifest(image)
        return Option.some({ digest: raw.digest, mediaType: raw.mediaType, size: raw.size })
      })

    /**
     * The registry refused a tag PUT because the tag is immutable (ECR IMMUTABLE, Artifact
     * Registry, Harbor rules): what does the tag hold? Ours → done; another → TagTaken.
     */
    const tagIsImmutable = (image: ImageLocation, bytes: Uint8Array, body: string) =>
      Effect.gen(function*() {
        const expected = sha256Digest(bytes)
        const now = yield* headManifest(image)
        if (Option.isSome(now) && now.value.digest === expected) return expected
        return yield* new TagTaken({
          target: describeLocation(image),
          expected,
          found: Option.isSome(now) ? now.value.digest : `(unreadable: ${body.trim().slice(0, 120)})`,
          when: "immutable"
        })
      })

    const putManifest = (image: ImageLocation, bytes: Uint8Array, mediaType: string) =>
      Effect.gen(function*() {
        yield* checkReference(image, image.reference, "manifest reference")
        const res = yield* send(image, { method: "PUT", path: manifestPath(image), headers: { "content-type": mediaType }, body: bytes })
        if (res.status !== 201 && res.status !== 200) {
          if (!isDigestReference(image.reference) && res.status >= 400 && res.status < 500 && res.status !== 401 && res.status !== 404) {
            const body = yield* readErrorText(res, stallTimeoutMs)
            if (refusesOverwrite(body)) return yield* tagIsImmutable(image, bytes, body)
            return yield* new TransportFailure({
              transport: "oci",
              detail: `PUT manifest ${describeLocation(image)}: HTTP ${res.status}${body ? ` ${body.trim().slice(0, 300)}` : ""}`
            })
          }
          return yield* unexpected(image, "PUT manifest", res)
        }
        const expected = sha256Digest(bytes)
        const got = res.headers["docker-content-digest"]
        if (got && got !== expected) return yield* new DigestMismatch({ what: `PUT ${describeLocation(image)}`, expected, actual: got })
        return expected
      })

    const hasBlob = (image: ImageLocation, digest: string) =>
      Effect.gen(function*() {
        yield* checkReference(image, digest, "blob digest")
        const res = yield* send(image, { method: "HEAD", path: blobPath(image, digest) })
        if (res.status === 200) return true
        if (res.status === 404) return false
        return yield* unexpected(image, `HEAD blob ${digest}`, res)
      })

    const getBlob = (image: ImageLocation, digest: string) =>
      retried(Effect.gen(function*() {
        yield* checkReference(image, digest, "blob digest")
        const res = yield* send(image, { method: "GET", path: blobPath(image, digest) })
        if (res.status === 404) return yield* new ImageNotFound({ image: `${describeLocation(image)} blob ${digest}` })
        if (res.status !== 200) return yield* unexpected(image, `GET blob ${digest}`, res)
        const bytes = yield* readBody(res, {
          registry: image.endpoint.host,
          request: `GET ${blobPath(image, digest)}`,
          what: "blob",
          limit: SMALL_BLOB_LIMIT,
          stallMs: stallTimeoutMs
        })
        const actual = sha256Digest(bytes)
        if (actual !== digest) return yield* new DigestMismatch({ what: `blob of ${describeLocation(image)}`, expected: digest, actual })
        return bytes
      }))

    /** Starts an upload session; returns its Location (absolute). */
    const startUpload = (image: ImageLocation, query: string, scopes?: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const res = yield* send(image, { method: "POST", path: `/v2/${image.repository}/blobs/uploads/${query}`, ...(scopes ? { scopes } : {}) })
        const location = res.headers["location"]
        if ((res.status === 201 || res.status === 202) && location) {
          const base = `${image.endpoint.scheme}://${image.endpoint.host}/v2/${image.repository}/blobs/uploads/`
          const url = yield* allowedUrl(location, base, image.endpoint.host, "upload Location")
          return { status: res.status, location: url }
        }
        return yield* unexpected(image, "POST upload", res)
      })

    const mountBlob = (image: ImageLocation, digest: string, from: string) =>
      Effect.gen(function*() {
        yield* checkReference(image, digest, "blob digest")
        const query = `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`
        const started = yield* startUpload(image, query, [scopeFor(image), `repository:${from}:pull`])
        // 202: not mounted; the session that was opened is simply abandoned (registries expire it).
        return started.status === 201
      })

    /** How the registry answered the PUT that closes an upload. */
    const uploadClosed = (image: ImageLocation, digest: string, res: HttpClientResponse.HttpClientResponse) =>
      Effect.gen(function*() {
        if (res.status === 201 || res.status === 204) return
        if (res.status === 400) {
          const text = yield* readErrorText(res, stallTimeoutMs)
          if (text.includes("DIGEST_INVALID")) {
            return yield* new DigestMismatch({ what: `upload of ${digest} to ${describeLocation(image)}`, expected: digest, actual: "(registry computed another digest)" })
          }
          return yield* new TransportFailure({ transport: "oci", detail: `PUT blob ${digest} to ${describeLocation(image)}: HTTP 400 ${text.slice(0, 300)}` })
        }
        return yield* unexpected(image, `PUT blob ${digest}`, res)
      })

    const closeUrl = (location: URL, digest: string) => {
      const url = new URL(location)
      url.searchParams.set("digest", digest)
      return url.toString()
    }

    const finishUpload = (image: ImageLocation, location: URL, digest: string, body: Uint8Array) =>
      Effect.flatMap(
        send(image, { method: "PUT", path: closeUrl(location, digest), headers: { "content-type": "application/octet-stream" }, body }),
        (res) => uploadClosed(image, digest, res)
      )

    const finishStreamedUpload = (image: ImageLocation, location: URL, digest: string, body: ReadableStream<Uint8Array>) =>
      Effect.gen(function*() {
        if (settings.readOnly) return yield* Effect.die(new Error(`read-only mode: refused PUT (upload of ${digest})`))
        const res = yield* http.sendStreamed(image.endpoint, {
          method: "PUT",
          path: closeUrl(location, digest),
          headers: { "content-type": "application/octet-stream" },
          body,
          scopes: [scopeFor(image)]
        })
        return yield* uploadClosed(image, digest, res)
      })

    const putBlob = (image: ImageLocation, digest: string, bytes: Uint8Array) =>
      Effect.gen(function*() {
        // Refused before the presence check, so a dry run sends nothing at all for a write.
        if (settings.readOnly) return yield* Effect.die(new Error(`read-only mode: refused POST (upload of ${digest})`))
        const actual = sha256Digest(bytes)
        if (actual !== digest) return yield* new DigestMismatch({ what: "blob to upload", expected: digest, actual })
        if (yield* hasBlob(image, digest)) return
        const { location } = yield* startUpload(image, "")
        yield* finishUpload(image, location, digest, bytes)
      })

    /** The source blob from byte `from` (Range); a registry without range support sends it all, and the stream skips. */
    const openAt = (source: ImageLocation, digest: string, from: number) =>
      Effect.gen(function*() {
        const res = yield* send(source, { method: "GET", path: blobPath(source, digest), ...(from > 0 ? { headers: { range: `bytes=${from}-` } } : {}) })
        if (res.status === 404) return yield* new ImageNotFound({ image: `${describeLocation(source)} blob ${digest}` })
        if (res.status === 206 && from > 0) return { body: webBody(res), skip: 0 }
        if (res.status !== 200) return yield* unexpected(source, `GET blob ${digest}`, res)
        return { body: webBody(res), skip: from }
      })

    const openBlob = (source: ImageLocation, digest: string, size: number, budget: ResumeBudget): Effect.Effect<BlobBody> =>
      Effect.map(Effect.runtime<never>(), (runtime) =>
        verifiedStream(
          runtime,
          (from) => Effect.zipRight(checkReference(source, digest, "blob digest"), openAt(source, digest, from)),
          { registry: source.endpoint.host, where: describeLocation(source), digest, size },
          { stallMs: stallTimeoutMs, maxResumes: settings.retry.attempts, budget }
        ))

    /** One upload of a streamed body; a failure of the body or an unavailable registry makes the whole copy worth another try. */
    const writeOnce = (target: ImageLocation, digest: string, open: () => Effect.Effect<BlobBody>) =>
      Effect.gen(function*() {
        // The source's GET goes out with the POST (the body opens at once); a POST that fails lets it go.
        const body = yield* open()
        const { location } = yield* startUpload(target, "").pipe(Effect.onError(() => Effect.promise(() => body.stream.cancel().catch(() => {}))))
        yield* finishStreamedUpload(target, location, digest, body.stream).pipe(
          Effect.catchAll((e): Effect.Effect<never, TransportError | Retryable | StaleCredentials> =>
            e._tag === "StaleCredentials"
              ? Effect.zipRight(Effect.promise(() => body.stream.cancel().catch(() => {})), Effect.fail(e))
              : Effect.fail(uploadFailure(e, body.failure()))
          )
        )
      })

    const writeBlob = (target: ImageLocation, digest: string, size: number, open: () => Effect.Effect<BlobBody>) =>
      Effect.gen(function*() {
        yield* checkReference(target, digest, "blob digest")
        // A 401 that fresh credentials answer (a token the registry stopped accepting) sends the
        // whole upload again at once, from a fresh read of the source; a second one is the credentials.
        const upload = Effect.suspend(() => writeOnce(target, digest, open))
        yield* retried(
          upload.pipe(
            Effect.catchTag("StaleCredentials", () => upload),
            Effect.catchTag("StaleCredentials", (e) => Effect.fail(e.unauthorized))
          )
        )
        return size
      })

    // Registries that answered 404 to a referrers request: they have no referrers API, so it is not asked again.
    const withoutReferrers = new Set<string>()
    const referrers = (image: ImageLocation, digest: string) =>
      Effect.gen(function*() {
        yield* checkReference(image, digest, "referrers digest")
        const registry = `${image.endpoint.role} ${image.endpoint.host}`
        if (withoutReferrers.has(registry)) return Option.none<RawManifest>()
        const res = yield* send(image, { method: "GET", path: `/v2/${image.repository}/referrers/${digest}`, headers: { accept: OCI_INDEX } })
        // A registry that supports referrers never answers 404 here (distribution-spec v1.1).
        if (res.status === 404) withoutReferrers.add(registry)
        if (res.status !== 200) {
          yield* readErrorText(res, stallTimeoutMs)
          return Option.none<RawManifest>()
        }
        const bytes = yield* readBody(res, {
          registry: image.endpoint.host,
          request: `GET /v2/${image.repository}/referrers/${digest}`,
          what: "referrers index",
          limit: MANIFEST_LIMIT,
          stallMs: stallTimeoutMs
        }).pipe(Effect.catchTag("Retryable", (e) => Effect.fail(unavailable(e))))
        return Option.some({ digest: sha256Digest(bytes), mediaType: OCI_INDEX, size: bytes.length, bytes })
      })

    /**
     * Every tag of the repository: `tags/list` page after page, following the `Link: <…>;
     * rel="next"` header (relative to the request, http(s) only) until there is none.
     */
    const listTags = (image: ImageLocation) =>
      Effect.gen(function*() {
        const tags: Array<string> = []
        let next: string | undefined = `/v2/${image.repository}/tags/list?n=${TAGS_PAGE}`
        for (let page = 0; next !== undefined; page++) {
          if (page >= MAX_TAG_PAGES) {
            return yield* new TransportFailure({ transport: "oci", detail: `${image.endpoint.host}/${image.repository}: more than ${MAX_TAG_PAGES} pages of tags` })
          }
          const path: string = next
          const res = yield* send(image, { method: "GET", path })
          if (res.status === 404) {
            yield* readErrorText(res, stallTimeoutMs)
            return tags
          }
          if (res.status !== 200) return yield* unexpected(image, "GET tags", res)
          const bytes = yield* readBody(res, {
            registry: image.endpoint.host,
            request: `GET ${path}`,
            what: "tag list",
            limit: SMALL_BLOB_LIMIT,
            stallMs: stallTimeoutMs
          }).pipe(Effect.catchTag("Retryable", (e) => Effect.fail(unavailable(e))))
          const body = yield* Effect.try({
            try: () => JSON.parse(new TextDecoder().decode(bytes)) as { tags?: unknown },
            catch: () => new TransportFailure({ transport: "oci", detail: `GET tags of ${image.endpoint.host}/${image.repository}: not JSON` })
          })
          if (Array.isArray(body.tags)) for (const t of body.tags) if (typeof t === "string") tags.push(t)
          const link = nextLink(res.headers["link"])
          if (link === undefined) return tags
          // A link on the registry itself stays a path (the client knows the host's scheme); another origin is a URL.
          const resolved = yield* allowedUrl(link, path.startsWith("http") ? path : `${SAME_REGISTRY}${path}`, image.endpoint.host, "next page of tags")
          next = resolved.origin === SAME_REGISTRY ? `${resolved.pathname}${resolved.search}` : resolved.href
        }
        return tags
      })

    return RegistryClient.of({
      name: "oci",
      headManifest,
      getManifest,
      putManifest,
      hasBlob,
      getBlob,
      putBlob,
      referrers,
      listTags,
      openBlob,
      writeBlob,
      mountBlob
    })
  })
