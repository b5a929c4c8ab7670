/**
 * Writing to a registry: manifests by PUT with their exact bytes (a tag the registry refuses
 * to rewrite is read back: ours already → done, another → TagTaken), small blobs from memory,
 * and blobs streamed from a source (Upload.ts), sent again from a fresh read when the registry
 * refused a token mid-way. A push the registry denies names the repository and what is missing.
 */
import { Effect, Option } from "effect"
import { isDigestReference, sha256Digest } from "../model/Digest.ts"
import { DigestMismatch, RepositoryNotFound, TagTaken, Unauthorized } from "../model/Errors.ts"
import type { TransportError } from "../model/Errors.ts"
import type { BlobBody } from "../model/ImageStore.ts"
import type { ImageLocation } from "../model/Location.ts"
import type { ManifestDescriptor } from "../model/Manifest.ts"
import { checkReference, manifestPath, where } from "./ClientContext.ts"
import type { ClientContext } from "./ClientContext.ts"
import { projectMissing } from "./Fetch.ts"
import { discard } from "./http/BodyReader.ts"
import { hasCode, registryError } from "./RegistryError.ts"
import { makeUploads } from "./Upload.ts"
import type { UploadBody } from "./Upload.ts"

/** Codes that say what is wrong with the manifest itself, not with rewriting its tag. */
const ABOUT_CONTENT = ["MANIFEST_INVALID", "MANIFEST_BLOB_UNKNOWN", "BLOB_UNKNOWN", "DIGEST_INVALID", "SIZE_INVALID", "NAME_INVALID", "UNSUPPORTED"]

/** A push the registry refused: a missing Harbor project, or credentials without push permission, said so. */
export const pushRefused = (context: ClientContext, image: ImageLocation) => (e: Unauthorized): Effect.Effect<never, TransportError> =>
  Effect.catchTag(
    projectMissing(context, image)(e),
    "Unauthorized",
    (u): Effect.Effect<never, Unauthorized> =>
      u.anonymous === true || (u.status !== 403 && !hasCode({ codes: u.codes ?? [] }, "DENIED"))
        ? Effect.fail(u)
        : Effect.fail(
          new Unauthorized({
            registry: u.registry,
            status: u.status,
            codes: u.codes ?? [],
            detail: `push to ${image.repository} denied: the credentials lack push permission on it${u.detail ? ` (${u.detail})` : ""}`
          })
        )
  )

/** The write operations of a client; `headManifest` reads a tag back when a PUT is refused. */
export const makePush = (
  context: ClientContext,
  headManifest: (image: ImageLocation) => Effect.Effect<Option.Option<ManifestDescriptor>, TransportError>,
  hasBlob: (image: ImageLocation, digest: string) => Effect.Effect<boolean, TransportError>
) => {
  const { send, stallMs } = context
  const uploads = makeUploads(context)
  const refused = (image: ImageLocation) => <A>(self: Effect.Effect<A, TransportError>): Effect.Effect<A, TransportError> =>
    Effect.catchTag(self, "Unauthorized", pushRefused(context, image))

  const putManifest = (image: ImageLocation, bytes: Uint8Array, mediaType: string) =>
    Effect.gen(function*() {
      yield* checkReference(image, image.reference, "manifest reference")
      const path = manifestPath(image)
      const expected = sha256Digest(bytes)
      const res = yield* send(image, { method: "PUT", path, headers: { "content-type": mediaType }, body: bytes })
      if (res.status === 201 || res.status === 200) {
        discard(res)
        const got = res.headers.get("docker-content-digest")
        if (got && got !== expected) return yield* new DigestMismatch({ what: `PUT ${where(image)}`, expected, actual: got })
        return expected
      }
      const error = yield* registryError(res, { registry: image.endpoint.host, method: "PUT", path }, stallMs)
      if (error.status === 404 && hasCode(error, "NAME_UNKNOWN")) {
        return yield* new RepositoryNotFound({ registry: image.endpoint.host, repository: image.repository })
      }
      // A tag the registry will not rewrite (ECR IMMUTABLE, Harbor and Artifact Registry rules):
      // what does it hold? Ours → done; another → TagTaken. Read back instead of guessed from words.
      if (!isDigestReference(image.reference) && error.status >= 400 && error.status < 500 && error.status !== 429 && !hasCode(error, ...ABOUT_CONTENT)) {
        const now = yield* headManifest(image)
        if (Option.isSome(now) && now.value.digest === expected) return expected
        if (Option.isSome(now)) return yield* new TagTaken({ target: where(image), expected, found: now.value.digest, when: "immutable" })
      }
      return yield* Effect.fail(error)
    }).pipe(refused(image))

  const putBlob = (image: ImageLocation, digest: string, bytes: Uint8Array) =>
    Effect.gen(function*() {
      // Refused before the presence check, so a dry run sends nothing at all for a write.
      if (context.readOnly) return yield* Effect.die(new Error(`read-only mode: refused POST (upload of ${digest})`))
      const actual = sha256Digest(bytes)
      if (actual !== digest) return yield* new DigestMismatch({ what: "blob to upload", expected: digest, actual })
      if (yield* hasBlob(image, digest)) return
      yield* context.retried(
        uploads.upload(image, digest, bytes.length, () => Effect.succeed(bytes)).pipe(
          Effect.catchTag("StaleCredentials", (e) => Effect.fail(e.unauthorized))
        )
      )
    }).pipe(refused(image))

  const writeBlob = (target: ImageLocation, digest: string, size: number, open: () => Effect.Effect<BlobBody>) =>
    Effect.gen(function*() {
      yield* checkReference(target, digest, "blob digest")
      // The source's GET goes out with the POST (the body opens at once).
      const opened = (): Effect.Effect<UploadBody> => open()
      // A 401 that fresh credentials answer (a token the registry stopped accepting) sends the
      // whole upload again at once, from a fresh read of the source; a second one is the credentials.
      const upload = Effect.suspend(() => uploads.upload(target, digest, size, opened))
      yield* context.retried(
        upload.pipe(
          Effect.catchTag("StaleCredentials", () => upload),
          Effect.catchTag("StaleCredentials", (e) => Effect.fail(e.unauthorized))
        )
      )
      return size
    }).pipe(refused(target))

  return { putManifest, putBlob, writeBlob, uploads }
}
