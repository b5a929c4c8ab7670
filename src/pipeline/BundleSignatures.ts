/**
 * Sigstore bundles attached to a digest as OCI 1.1 referrers, read and added through the
 * Transport: the bundle blob, the empty config, the referrer manifest pushed by digest, and —
 * on a registry without the referrers API — an entry added to the `sha256-<hex>` fallback
 * index (cosign v3 `pkg/oci/remote/write.go` WriteReferrer; go-containerregistry
 * `commitSubjectReferrers`). Nothing is ever rewritten but the fallback index, which only grows.
 */
import { Effect, Option } from "effect"
import type { KeyObject } from "node:crypto"
import type { TransportError } from "../model/Errors.ts"
import { withReference } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import { parseManifest } from "../model/Manifest.ts"
import type { ManifestDescriptor } from "../model/Manifest.ts"
import { OCI_MANIFEST, SIGSTORE_BUNDLE_V03 } from "../model/MediaTypes.ts"
import { verifyBundleWith } from "../signing/BundleVerify.ts"
import { BUNDLE_PREDICATE_TYPE_ANNOTATION, bundleReferrer, EMPTY_CONFIG, EMPTY_CONFIG_DIGEST } from "../signing/Referrer.ts"
import { entryOf } from "../signing/ReferrersIndex.ts"
import { namesSubject } from "../signing/Statement.ts"
import type { Statement } from "../signing/Statement.ts"
import type { TransportShape } from "../transport/Transport.ts"
import { addToFallbackIndex } from "./Referrers.ts"
import type { ReferrersOf } from "./Referrers.ts"

/** A bundle referrer that verifies with the key: the referrer manifest's digest and the statement inside. */
export interface FoundBundle {
  readonly referrer: string
  readonly statement: Statement
}

/**
 * The bundles among `referrers` of `digest` that verify with `key`, whose statement has the
 * predicate type `predicateType` and `digest` as a subject. A listed referrer that is gone or
 * is not a bundle is skipped, as cosign's GetBundles does.
 */
export const bundlesBy = (
  transport: TransportShape,
  image: ImageLocation,
  referrers: ReferrersOf,
  digest: string,
  key: KeyObject,
  predicateType: string
): Effect.Effect<ReadonlyArray<FoundBundle>, TransportError> =>
  Effect.gen(function*() {
    const found: Array<FoundBundle> = []
    for (const d of referrers.listed) {
      if (d.artifactType !== undefined && d.artifactType !== SIGSTORE_BUNDLE_V03) continue
      const annotated = d.annotations?.[BUNDLE_PREDICATE_TYPE_ANNOTATION]
      if (annotated !== undefined && annotated !== predicateType) continue
      const at = withReference(image, d.digest)
      const manifest = yield* transport.manifest(at).pipe(
        Effect.map(Option.some),
        Effect.catchTag("ImageNotFound", () => Effect.succeed(Option.none()))
      )
      if (Option.isNone(manifest)) continue
      let layer: string | undefined
      try {
        layer = parseManifest(manifest.value.bytes, manifest.value.mediaType).layers.find((l) => l.mediaType === SIGSTORE_BUNDLE_V03)?.digest
      } catch {
        continue
      }
      if (layer === undefined) continue
      const checked = verifyBundleWith(yield* transport.blob(at, layer), key)
      if (checked.ok && checked.statement.predicateType === predicateType && namesSubject(checked.statement, digest)) {
        found.push({ referrer: d.digest, statement: checked.statement })
      }
    }
    return found
  })

/** Pushes `bundle` as a referrer of `subject` (listed in the fallback index when the registry has no referrers API); the referrer's digest. */
export const pushBundle = (
  transport: TransportShape,
  image: ImageLocation,
  subject: ManifestDescriptor,
  bundle: Uint8Array,
  options: { readonly predicateType: string; readonly createdMillis: number; readonly referrersApi: boolean }
): Effect.Effect<string, TransportError> =>
  Effect.gen(function*() {
    const artifact = bundleReferrer({ bundle, subject, predicateType: options.predicateType, createdMillis: options.createdMillis })
    yield* transport.putBlob(image, artifact.bundleDigest, bundle)
    yield* transport.putBlob(image, EMPTY_CONFIG_DIGEST, EMPTY_CONFIG)
    yield* transport.putManifest(withReference(image, artifact.digest), artifact.manifest, OCI_MANIFEST)
    if (!options.referrersApi) yield* addToFallbackIndex(transport, image, subject.digest, [entryOf(artifact.descriptor)])
    return artifact.digest
  })
