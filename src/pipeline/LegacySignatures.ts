/**
 * cosign's legacy attachments beside a digest, read and appended to through the Transport:
 * `sha256-<hex>.sig` (one simple-signing layer per signature) and `sha256-<hex>.att` (one DSSE
 * envelope layer per attestation, annotated with its predicate type). Adding one means
 * rewriting the tag with one more layer (oci-protocol.md §5.5; cosign `pkg/oci/mutate`), the
 * layers already there kept byte for byte — which a registry with immutable tags refuses.
 */
import { Effect, Option } from "effect"
import type { KeyObject } from "node:crypto"
import { TransportFailure } from "../model/Errors.ts"
import type { TransportError } from "../model/Errors.ts"
import { describeLocation, withReference } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import type { RawManifest } from "../model/Manifest.ts"
import { DSSE_ENVELOPE, OCI_MANIFEST, SIMPLE_SIGNING } from "../model/MediaTypes.ts"
import { signatureTag } from "../model/Signatures.ts"
import { PREDICATE_TYPE_ANNOTATION } from "../signing/Dsse.ts"
import { verifyEnvelopeWith } from "../signing/DsseVerify.ts"
import { buildSignatureImage, layersOf } from "../signing/SimpleSigning.ts"
import type { ExistingLayer, SignatureLayer } from "../signing/SimpleSigning.ts"
import { namesSubject } from "../signing/Statement.ts"
import type { Statement } from "../signing/Statement.ts"
import { layerVerifies } from "../signing/Verify.ts"
import type { TransportShape } from "../transport/Transport.ts"

/** A cosign tag image as found: where it is, its manifest (None: the tag does not exist) and its layers. */
export interface TagImage {
  readonly location: ImageLocation
  readonly manifest: Option.Option<RawManifest>
  readonly layers: ReadonlyArray<ExistingLayer>
}

/** Reads the `.sig` or `.att` image of `digest` in the repository of `image`. */
export const readTagImage = (
  transport: TransportShape,
  image: ImageLocation,
  digest: string,
  suffix: ".sig" | ".att"
): Effect.Effect<TagImage, TransportError> =>
  Effect.gen(function*() {
    const location = withReference(image, signatureTag(digest, suffix))
    const manifest = yield* transport.manifest(location).pipe(
      Effect.map(Option.some),
      Effect.catchTag("ImageNotFound", () => Effect.succeed(Option.none<RawManifest>()))
    )
    if (Option.isNone(manifest)) return { location, manifest, layers: [] }
    const layers = yield* Effect.try({
      try: () => layersOf(manifest.value.bytes),
      catch: () => new TransportFailure({ transport: transport.name, detail: `${describeLocation(location)} is not a manifest (invalid JSON)` })
    })
    return { location, manifest, layers }
  })

/** True when a simple-signing layer of the `.sig` image is a signature of `digest` by `key`. */
export const hasSignatureBy = (transport: TransportShape, tag: TagImage, digest: string, key: KeyObject): Effect.Effect<boolean, TransportError> =>
  Effect.gen(function*() {
    for (const layer of tag.layers) {
      if (layer.mediaType !== SIMPLE_SIGNING) continue
      const payload = yield* transport.blob(tag.location, layer.digest)
      if (layerVerifies(layer, payload, digest, key)) return true
    }
    return false
  })

/** The statements of the `.att` image's envelopes signed by `key` whose subject is `digest` and whose predicate type is `predicateType`. */
export const attestationsBy = (
  transport: TransportShape,
  tag: TagImage,
  digest: string,
  key: KeyObject,
  predicateType: string
): Effect.Effect<ReadonlyArray<Statement>, TransportError> =>
  Effect.gen(function*() {
    const found: Array<Statement> = []
    for (const layer of tag.layers) {
      if (layer.mediaType !== DSSE_ENVELOPE) continue
      // Other attestations (SBOMs can be large) are not read when their annotation says what they are.
      const annotated = layer.annotations?.[PREDICATE_TYPE_ANNOTATION]
      if (annotated !== undefined && annotated !== predicateType) continue
      const statement = verifyEnvelopeWith(yield* transport.blob(tag.location, layer.digest), key)
      if (statement !== undefined && statement.predicateType === predicateType && namesSubject(statement, digest)) found.push(statement)
    }
    return found
  })

/** Writes the tag image again with `layer` (whose blob is `blob`) after the layers it had; its new digest. */
export const appendLayer = (
  transport: TransportShape,
  tag: TagImage,
  layer: SignatureLayer,
  blob: Uint8Array
): Effect.Effect<string, TransportError> =>
  Effect.gen(function*() {
    const built = buildSignatureImage([...tag.layers, layer])
    yield* transport.putBlob(tag.location, layer.digest, blob)
    yield* transport.putBlob(tag.location, built.configDigest, built.config)
    yield* transport.putManifest(tag.location, built.manifest, OCI_MANIFEST)
    return built.manifestDigest
  })
