/**
 * A sigstore bundle as an OCI 1.1 artifact that refers to the signed image, as cosign v3
 * pushes it (`pkg/oci/remote/write.go` WriteAttestationNewBundleFormat and WriteReferrer;
 * `specs/BUNDLE_SPEC.md`): an image manifest with `artifactType` the bundle media type, the
 * empty config `{}`, one layer (the bundle blob), `subject` the signed manifest, and the
 * annotations `dev.sigstore.bundle.content`, `dev.sigstore.bundle.predicateType` and
 * `org.opencontainers.image.created`. Fields in the order go-containerregistry marshals them.
 * Pushed by digest; found through the referrers API or the `sha256-<hex>` fallback index.
 */
import { sha256Digest } from "../model/Digest.ts"
import type { Descriptor, ManifestDescriptor } from "../model/Manifest.ts"
import { OCI_EMPTY, OCI_MANIFEST, SIGSTORE_BUNDLE_V03 } from "../model/MediaTypes.ts"

/** The empty config blob `{}` every bundle artifact references. */
export const EMPTY_CONFIG = new TextEncoder().encode("{}")
/** Its digest (sha256 of `{}`). */
export const EMPTY_CONFIG_DIGEST = sha256Digest(EMPTY_CONFIG)

/** Annotation: "dsse-envelope" or "message-signature". */
export const BUNDLE_CONTENT_ANNOTATION = "dev.sigstore.bundle.content"
/** Annotation: the predicate type of the statement inside. */
export const BUNDLE_PREDICATE_TYPE_ANNOTATION = "dev.sigstore.bundle.predicateType"
/** Annotation: when the bundle was made (RFC 3339, seconds). */
export const CREATED_ANNOTATION = "org.opencontainers.image.created"

/** A referrer artifact: its manifest bytes and the descriptor a referrers index lists it with. */
export interface ReferrerArtifact {
  readonly manifest: Uint8Array
  readonly digest: string
  /** the digest of the bundle blob (its one layer) */
  readonly bundleDigest: string
  /** as listed in a referrers index: media type, size, digest, annotations, artifactType */
  readonly descriptor: Descriptor
}

/** RFC 3339 in UTC with whole seconds, as Go's time.RFC3339 formats `time.Now().UTC()`. */
export const rfc3339Seconds = (millis: number): string => new Date(Math.floor(millis / 1000) * 1000).toISOString().replace(".000Z", "Z")

const descriptorJson = (d: { mediaType: string; size: number; digest: string; annotations?: Readonly<Record<string, string>>; artifactType?: string }) =>
  JSON.stringify({
    mediaType: d.mediaType,
    size: d.size,
    digest: d.digest,
    ...(d.annotations ? { annotations: d.annotations } : {}),
    ...(d.artifactType ? { artifactType: d.artifactType } : {})
  })

/** The referrer manifest for `bundle` (bytes) whose subject is `subject`. */
export const bundleReferrer = (options: {
  readonly bundle: Uint8Array
  readonly subject: ManifestDescriptor
  readonly predicateType: string
  readonly createdMillis: number
}): ReferrerArtifact => {
  // Go marshals map keys sorted; these three already are.
  const annotations = {
    [BUNDLE_CONTENT_ANNOTATION]: "dsse-envelope",
    [BUNDLE_PREDICATE_TYPE_ANNOTATION]: options.predicateType,
    [CREATED_ANNOTATION]: rfc3339Seconds(options.createdMillis)
  }
  const config = descriptorJson({ mediaType: OCI_EMPTY, size: EMPTY_CONFIG.length, digest: EMPTY_CONFIG_DIGEST, artifactType: SIGSTORE_BUNDLE_V03 })
  const bundleDigest = sha256Digest(options.bundle)
  const layer = descriptorJson({ mediaType: SIGSTORE_BUNDLE_V03, size: options.bundle.length, digest: bundleDigest })
  const subject = descriptorJson({ mediaType: options.subject.mediaType, size: options.subject.size, digest: options.subject.digest })
  const manifest = new TextEncoder().encode(
    `{"schemaVersion":2,"mediaType":${JSON.stringify(OCI_MANIFEST)},"config":${config},"layers":[${layer}],` +
      `"annotations":${JSON.stringify(annotations)},"subject":${subject},"artifactType":${JSON.stringify(SIGSTORE_BUNDLE_V03)}}`
  )
  const digest = sha256Digest(manifest)
  return {
    manifest,
    digest,
    bundleDigest,
    descriptor: { mediaType: OCI_MANIFEST, size: manifest.length, digest, annotations, artifactType: SIGSTORE_BUNDLE_V03 }
  }
}

/** The descriptor's JSON as a referrers index entry (the key order of go-containerregistry's Descriptor). */
export const indexEntryJson = (d: Descriptor): string => descriptorJson(d)
