/**
 * A RegistryClient whose source side is an OCI image layout: every request for a location
 * with `endpoint.role === "source"` is answered from the layout (nothing goes to the source
 * registry, which an air-gapped site cannot reach), every target request goes to the real
 * client. Source images are found by ref name `registry/repository:tag` — the endpoint's
 * `registry` (its identity), never its `host`, which may be a mirror — or by digest.
 */
import { Effect, Option, Stream } from "effect"
import type { RegistryClient } from "../oci/RegistryClient.ts"
import { defaultRetrySettings, Retryable, withRetry } from "../oci/RetryPolicy.ts"
import type { RetrySettings } from "../oci/RetryPolicy.ts"
import { ImageNotFound, RegistryUnavailable, TransportFailure } from "../pipeline/Transport.ts"
import type { DigestMismatch, ImageLocation, ManifestDescriptor, RawManifest, TransportError } from "../pipeline/Transport.ts"
import type { LayoutReader } from "./LayoutReader.ts"
import { refNameOf } from "./OciLayout.ts"
import type { LayoutIoFailed } from "./OciLayout.ts"

const isDigest = (reference: string) => reference.startsWith("sha256:")

/** The ref name a source location is looked up by. */
export const refNameOfLocation = (image: ImageLocation): string =>
  refNameOf(image.endpoint.registry, image.repository, image.reference)

/** Wraps `real` so that source locations are read from `layout`. */
export const layoutRegistryClient = (
  layout: LayoutReader,
  real: RegistryClient["Type"],
  name = layout.dir,
  retry: RetrySettings = defaultRetrySettings
): RegistryClient["Type"] => {
  const fromLayout = (image: ImageLocation) => image.endpoint.role === "source"
  const where = (image: ImageLocation) => `${refNameOfLocation(image)} in layout ${name}`
  const failure = (detail: string) => new TransportFailure({ transport: "layout", detail })
  const toTransportError = (e: LayoutIoFailed | DigestMismatch): TransportError =>
    e._tag === "LayoutIoFailed" ? failure(e.message) : e
  const readOnly = (what: string, image: ImageLocation) =>
    Effect.fail(failure(`${what} ${where(image)}: the layout is a read-only source`))

  const lookup = (image: ImageLocation): Option.Option<ManifestDescriptor> =>
    isDigest(image.reference) ? layout.byDigest(image.reference) : layout.byRefName(refNameOfLocation(image))

  const getManifest = (image: ImageLocation): Effect.Effect<RawManifest, TransportError> =>
    Option.match(lookup(image), {
      onNone: () => Effect.fail(new ImageNotFound({ image: where(image) })),
      onSome: (d) => layout.readBlob(d.digest).pipe(Effect.mapError(toTransportError), Effect.map((bytes) => ({ ...d, bytes })))
    })

  const getBlob = (image: ImageLocation, digest: string) =>
    Effect.gen(function*() {
      if (!(yield* layout.hasBlob(digest))) return yield* new ImageNotFound({ image: `${where(image)} blob ${digest}` })
      return yield* layout.readBlob(digest).pipe(Effect.mapError(toTransportError))
    })

  /**
   * A layout blob streamed into the target; uploadBlobStream verifies digest and size on the
   * way. Unlike a response body, a file can be read again: a transient failure retries the
   * whole upload, as a registry-to-registry copy does.
   */
  const copyBlob = (source: ImageLocation, target: ImageLocation, digest: string, size: number) =>
    Effect.gen(function*() {
      if (!(yield* layout.hasBlob(digest))) return yield* new ImageNotFound({ image: `${where(source)} blob ${digest}` })
      // Suspended, so that every try opens the file afresh.
      return yield* Effect.suspend(() => real.uploadBlobStream(target, digest, size, layout.blobStream(digest))).pipe(
        Effect.mapError((e) => (e._tag === "RegistryUnavailable" ? new Retryable({ registry: e.registry, detail: e.detail, retryAfter: undefined }) : e)),
        withRetry(retry),
        Effect.catchTag("Retryable", (e) => Effect.fail(new RegistryUnavailable({ registry: e.registry, detail: e.detail })))
      )
    })

  // Every method listed (no spread of `real`): a method added later must decide how a layout source answers.
  return {
    headManifest: (image) => (fromLayout(image) ? Effect.succeed(lookup(image)) : real.headManifest(image)),
    getManifest: (image) => (fromLayout(image) ? getManifest(image) : real.getManifest(image)),
    putManifest: (image, bytes, mediaType) =>
      fromLayout(image) ? readOnly("PUT manifest", image) : real.putManifest(image, bytes, mediaType),
    hasBlob: (image, digest) => (fromLayout(image) ? layout.hasBlob(digest) : real.hasBlob(image, digest)),
    getBlob: (image, digest) => (fromLayout(image) ? getBlob(image, digest) : real.getBlob(image, digest)),
    blobStream: (image, digest, size) =>
      fromLayout(image)
        ? layout.blobStream(digest).pipe(
          Stream.mapError((e) => new TransportFailure({ transport: "layout", detail: e.message }))
        )
        : real.blobStream(image, digest, size),
    mountBlob: (image, digest, from) => (fromLayout(image) ? readOnly("mount", image) : real.mountBlob(image, digest, from)),
    copyBlob: (source, target, digest, size) =>
      fromLayout(target)
        ? readOnly("copy into", target)
        : fromLayout(source)
        ? copyBlob(source, target, digest, size)
        : real.copyBlob(source, target, digest, size),
    // Referrers the export found are in the layout under the fallback tag `sha256-<hex>`, which
    // Sign reads through the transport when there is no referrers API: so "no API" here.
    referrers: (image, digest) => (fromLayout(image) ? Effect.succeed(Option.none()) : real.referrers(image, digest)),
    uploadBlob: (image, digest, bytes) => (fromLayout(image) ? readOnly("upload", image) : real.uploadBlob(image, digest, bytes)),
    uploadBlobStream: (image, digest, size, body) =>
      fromLayout(image) ? readOnly("upload", image) : real.uploadBlobStream(image, digest, size, body)
  }
}
