/**
 * Reading from a registry: manifests by HEAD (digest, media type and size, without a pull) and
 * by GET (the exact bytes, verified against a digest reference), blobs by HEAD and GET (small
 * ones whole, verified), and a blob as a verified stream from any byte on (Range), resumed
 * where it broke.
 */
import { Effect, Option } from "effect"
import { isDigestReference, isSha256Digest, sha256Digest } from "../model/Digest.ts"
import { DigestMismatch, ImageNotFound, RepositoryNotFound, ResponseTooLarge, TransportFailure } from "../model/Errors.ts"
import type { TransportError, Unauthorized } from "../model/Errors.ts"
import type { BlobBody, ResumeBudget } from "../model/ImageStore.ts"
import type { ImageLocation } from "../model/Location.ts"
import type { ManifestDescriptor, RawManifest } from "../model/Manifest.ts"
import { isSchema1, MANIFEST_ACCEPT } from "../model/MediaTypes.ts"
import { verifiedStream } from "./BlobSource.ts"
import { blobPath, checkReference, contentType, manifestPath, referenceProblem, unexpected, where } from "./ClientContext.ts"
import type { ClientContext } from "./ClientContext.ts"
import { discard, MANIFEST_LIMIT, readBody, SMALL_BLOB_LIMIT, webBody } from "./http/BodyReader.ts"
import { missingProject } from "./RegistryError.ts"

/** Every manifest media type we read, in one `Accept` (schema 1 only to refuse it clearly). */
const ACCEPT = MANIFEST_ACCEPT

/** The headers of a manifest request, built once. */
const ACCEPT_HEADERS: Readonly<Record<string, string>> = { accept: ACCEPT }

const refuseSchema1 = (image: ImageLocation, mediaType: string) =>
  isSchema1(mediaType)
    ? Effect.fail(new TransportFailure({ transport: "registry", detail: `${where(image)} is a Docker schema 1 manifest, which is not supported` }))
    : Effect.void

/**
 * A refusal that names a missing project (Harbor answers a request into a project that does
 * not exist with 401 "project P not found"): for a client that pushes, the repository must be
 * created; for one that only reads, the image is not there.
 */
export const projectMissing =
  (context: ClientContext, image: ImageLocation) => (e: Unauthorized): Effect.Effect<never, Unauthorized | RepositoryNotFound | ImageNotFound> => {
    const project = missingProject(e)
    if (project === undefined) return Effect.fail(e)
    return context.access === "push"
      ? Effect.fail(new RepositoryNotFound({ registry: image.endpoint.host, repository: image.repository, project }))
      : Effect.fail(new ImageNotFound({ image: where(image) }))
  }

/** The read operations of a client. */
export const makeFetch = (context: ClientContext) => {
  const { send, stallMs } = context

  const getManifest = (image: ImageLocation): Effect.Effect<RawManifest, TransportError> =>
    context.retried(Effect.gen(function*() {
      yield* checkReference(image, image.reference, "manifest reference")
      const path = manifestPath(image)
      const res = yield* send(image, { method: "GET", path, headers: ACCEPT_HEADERS }).pipe(Effect.catchTag("Unauthorized", projectMissing(context, image)))
      if (res.status === 404) {
        discard(res)
        return yield* new ImageNotFound({ image: where(image) })
      }
      if (res.status !== 200) return yield* unexpected(context, image, "GET", path, res)
      const bytes = yield* readBody(res, { registry: image.endpoint.host, request: `GET ${path}`, what: "manifest", limit: MANIFEST_LIMIT, stallMs })
      const digest = sha256Digest(bytes)
      if (isDigestReference(image.reference) && digest !== image.reference) {
        return yield* new DigestMismatch({ what: where(image), expected: image.reference, actual: digest })
      }
      let mediaType = contentType(res)
      try {
        const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: string }
        if (parsed.mediaType) mediaType = parsed.mediaType
      } catch {
        return yield* new TransportFailure({ transport: "registry", detail: `${where(image)}: manifest is not JSON` })
      }
      yield* refuseSchema1(image, mediaType)
      return { digest, mediaType, size: bytes.length, bytes }
    }))

  /** What a manifest HEAD's answer says: absent, or its descriptor (from the headers; by a GET when the digest header is missing). */
  const described = (image: ImageLocation, path: string, res: Response): Effect.Effect<Option.Option<ManifestDescriptor>, TransportError> => {
    if (res.status === 404) return Effect.succeed(Option.none())
    if (res.status !== 200) return unexpected(context, image, "HEAD", path, res)
    const mediaType = contentType(res)
    if (isSchema1(mediaType)) return refuseSchema1(image, mediaType) as Effect.Effect<never, TransportFailure>
    const digest = res.headers.get("docker-content-digest") ?? undefined
    const size = Number(res.headers.get("content-length") ?? "0")
    if (digest !== undefined && isSha256Digest(digest)) {
      if (size > MANIFEST_LIMIT) {
        return Effect.fail(
          new ResponseTooLarge({ registry: image.endpoint.host, request: `HEAD ${path}`, what: "manifest", limit: MANIFEST_LIMIT, announced: size })
        )
      }
      return Effect.succeed(Option.some({ digest, mediaType, size }))
    }
    // Without the header we must hash the body ourselves.
    return Effect.map(getManifest(image), (raw) => Option.some({ digest: raw.digest, mediaType: raw.mediaType, size: raw.size }))
  }

  // The no-op path's request: no generator, one step after the answer.
  const headManifest = (image: ImageLocation): Effect.Effect<Option.Option<ManifestDescriptor>, TransportError> => {
    const problem = referenceProblem(image, image.reference, "manifest reference")
    if (problem !== undefined) return Effect.fail(problem)
    const path = manifestPath(image)
    return Effect.matchEffect(send(image, { method: "HEAD", path, headers: ACCEPT_HEADERS }), {
      // A HEAD's refusal has no body to say why: the GET's does (a missing Harbor project).
      onFailure: (e) => e._tag === "Unauthorized" && (e.codes ?? []).length === 0 ? Effect.flatMap(getManifest(image), () => Effect.fail(e)) : Effect.fail(e),
      onSuccess: (res) => described(image, path, res)
    })
  }

  const hasBlob = (image: ImageLocation, digest: string) =>
    Effect.gen(function*() {
      yield* checkReference(image, digest, "blob digest")
      const path = blobPath(image, digest)
      const res = yield* send(image, { method: "HEAD", path })
      if (res.status === 200) return true
      if (res.status === 404) return false
      return yield* unexpected(context, image, "HEAD", path, res)
    })

  const getBlob = (image: ImageLocation, digest: string) =>
    context.retried(Effect.gen(function*() {
      yield* checkReference(image, digest, "blob digest")
      const path = blobPath(image, digest)
      const res = yield* send(image, { method: "GET", path })
      if (res.status === 404) {
        discard(res)
        return yield* new ImageNotFound({ image: `${where(image)} blob ${digest}` })
      }
      if (res.status !== 200) return yield* unexpected(context, image, "GET", path, res)
      const bytes = yield* readBody(res, { registry: image.endpoint.host, request: `GET ${path}`, what: "blob", limit: SMALL_BLOB_LIMIT, stallMs })
      const actual = sha256Digest(bytes)
      if (actual !== digest) return yield* new DigestMismatch({ what: `blob of ${where(image)}`, expected: digest, actual })
      return bytes
    }))

  /** The blob from byte `from` (Range); a registry without range support sends it all, and the stream skips. */
  const openAt = (source: ImageLocation, digest: string, from: number) =>
    Effect.gen(function*() {
      const path = blobPath(source, digest)
      const res = yield* send(source, { method: "GET", path, ...(from > 0 ? { headers: { range: `bytes=${from}-` } } : {}) })
      if (res.status === 404) {
        discard(res)
        return yield* new ImageNotFound({ image: `${where(source)} blob ${digest}` })
      }
      if (res.status === 206 && from > 0) return { body: webBody(res), skip: 0 }
      if (res.status !== 200) return yield* unexpected(context, source, "GET", path, res)
      return { body: webBody(res), skip: from }
    })

  const openBlob = (source: ImageLocation, digest: string, size: number, budget: ResumeBudget): Effect.Effect<BlobBody> =>
    Effect.map(Effect.runtime<never>(), (runtime) =>
      verifiedStream(
        runtime,
        (from) => Effect.zipRight(checkReference(source, digest, "blob digest"), openAt(source, digest, from)),
        { registry: source.endpoint.host, where: where(source), digest, size },
        { stallMs, maxResumes: context.retry.attempts, budget }
      ))

  return { getManifest, headManifest, hasBlob, getBlob, openBlob }
}
