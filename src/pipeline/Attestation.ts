/**
 * Our signed SLSA provenance of a copy (`--attest`), in the formats the run asks for: a DSSE
 * envelope in the legacy `.att` tag and/or a sigstore bundle as an OCI 1.1 referrer, one
 * signature serving both. Written only when none by our key is there; a dry run says whether
 * it would be.
 */
import { Clock, Effect, Option } from "effect"
import { describeLocation, DOCKER_HUB_API, withReference } from "../model/Location.ts"
import { formatPlatform } from "../model/Platform.ts"
import { formatReference, isDockerHub } from "../model/Reference.ts"
import { bundleBytes, keyHint } from "../signing/Bundle.ts"
import { attestationLayer, envelopeBytes } from "../signing/Dsse.ts"
import type { Envelope } from "../signing/Dsse.ts"
import { formatsOf } from "../signing/Formats.ts"
import type { SigningSettings } from "../signing/Formats.ts"
import { provenanceStatement, SLSA_PROVENANCE_V1 } from "../signing/Provenance.ts"
import type { SignerShape, SigningFailed } from "../signing/Signer.ts"
import { dockerReference } from "../signing/SimpleSigning.ts"
import type { TransportShape } from "../transport/Transport.ts"
import { bundlesBy, pushBundle } from "./BundleSignatures.ts"
import { appendLayer, attestationsBy, readTagImage } from "./LegacySignatures.ts"
import { readReferrers } from "./Referrers.ts"
import type { ResolvedImage } from "./Resolve.ts"
import type { SignContext } from "./Sign.ts"
import { FALLBACK_REMEDY, LEGACY_REMEDY, mapErrors } from "./SigningErrors.ts"

/** The docker reference of a source entry, for the provenance. */
const sourceReference = (image: ResolvedImage): string => formatReference(image.entry.reference)

/** The host the source was read from when it is not the registry's own (a mirror). */
const readFrom = (image: ResolvedImage): string | undefined => {
  const own = isDockerHub(image.source.endpoint.registry) ? DOCKER_HUB_API : image.source.endpoint.registry
  return image.source.endpoint.host === own ? undefined : image.source.endpoint.host
}

/** What the attestation found or did: written now, would be written (dry run), and the manifests holding ours. */
export interface Attested {
  readonly written: boolean
  readonly would: boolean
  readonly legacy: string | undefined
  readonly bundle: string | undefined
}

/** The attestation writer over the run's Transport and key; `envelope` signs a DSSE payload. */
export const makeAttest = (
  transport: TransportShape,
  signer: SignerShape,
  dryRun: boolean,
  settings: SigningSettings,
  envelope: (payload: Uint8Array) => Effect.Effect<Envelope, SigningFailed>
): (image: ResolvedImage, context: SignContext) => Effect.Effect<Attested, SigningFailed> => {
  const formats = formatsOf(settings.format)
  const hint = keyHint(signer.publicKey)
  /** Our provenance attestation of the image's digest, in every format asked for. */
  return (image: ResolvedImage, context: SignContext) =>
    Effect.gen(function*() {
      const target = image.target
      const subject = image.manifest
      const tag = formats.legacy ? yield* readTagImage(transport, target, subject.digest, ".att") : undefined
      const legacyFound = tag ? yield* attestationsBy(transport, tag, subject.digest, signer.publicKey, SLSA_PROVENANCE_V1) : []
      const refs = formats.bundle ? yield* readReferrers(transport, target, subject.digest) : undefined
      const bundleFound = refs ? yield* bundlesBy(transport, target, refs, subject.digest, signer.publicKey, SLSA_PROVENANCE_V1) : []
      const legacyMissing = tag !== undefined && legacyFound.length === 0
      const bundleMissing = refs !== undefined && bundleFound.length === 0
      const present = { legacy: tag ? Option.getOrUndefined(tag.manifest)?.digest : undefined, bundle: bundleFound[0]?.referrer }
      if (!legacyMissing && !bundleMissing) return { written: false, would: false, ...present }
      if (dryRun) return { written: false, would: true, ...present }
      const now = yield* Clock.currentTimeMillis
      const statement = provenanceStatement({
        subjectName: dockerReference(target.endpoint.registry, target.repository),
        subjectDigest: subject.digest,
        parameters: {
          source: image.entry.source,
          target: `${target.endpoint.registry}/${target.repository}:${target.reference}`,
          ...(image.entry.platforms ? { platforms: image.entry.platforms.map(formatPlatform) } : {}),
          ...(image.entry.amd64Only ? { amd64Only: true } : {}),
          ...(image.entry.selectedBy ? { tags: image.entry.selectedBy } : {})
        },
        sourceReference: sourceReference(image),
        sourceDigest: image.sourceDigest,
        // a platform subset's source is the index it was cut from, whose media type we did not keep
        ...(image.sourceDigest === subject.digest ? { sourceMediaType: subject.mediaType } : {}),
        ...(readFrom(image) ? { readFrom: readFrom(image)! } : {}),
        copied: context.copied,
        tool: settings.tool,
        startedMillis: context.startedMillis ?? now,
        finishedMillis: now
      })
      // One signature serves both forms: the same envelope in the `.att` layer and in the bundle.
      const signed = yield* envelope(statement)
      let legacy = present.legacy
      if (tag !== undefined && legacyMissing) {
        const bytes = envelopeBytes(signed)
        legacy = yield* appendLayer(transport, tag, attestationLayer(bytes, SLSA_PROVENANCE_V1), bytes).pipe(
          mapErrors(`attestation ${describeLocation(tag.location)}`, LEGACY_REMEDY)
        )
      }
      let bundle = present.bundle
      if (refs !== undefined && bundleMissing) {
        bundle = yield* pushBundle(transport, target, subject, bundleBytes(signed, hint), {
          predicateType: SLSA_PROVENANCE_V1,
          createdMillis: now,
          referrersApi: refs.api
        }).pipe(mapErrors(`attestation bundle for ${describeLocation(withReference(target, subject.digest))}`, FALLBACK_REMEDY))
      }
      return { written: true, would: false, legacy, bundle }
    }).pipe(mapErrors(`attestation for ${describeLocation(withReference(image.target, image.manifest.digest))}`, LEGACY_REMEDY))
}
