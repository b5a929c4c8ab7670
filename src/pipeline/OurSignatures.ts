/**
 * Our signatures and attestations on a target image, in the formats the run asks for
 * (src/signing/Formats.ts): cosign's legacy `.sig`/`.att` tags (LegacySignatures.ts), sigstore
 * bundles as OCI 1.1 referrers (BundleSignatures.ts), or both; with `recursive` every child
 * of an index too (cosign sign --recursive: containers/image verifies the platform image it
 * pulls, by its own digest); with `attest` a signed SLSA provenance of the copy. Each is
 * written only when none by our key is there, so a second run writes nothing; in a dry run
 * nothing is written and the outcome says what would be. The work on one digest is done by one
 * image at a time (two tags of one image, a child two indexes share): the tags and the
 * fallback index it rewrites are never written by two fibers at once.
 *
 * Loaded only when a key is given (the composition root imports it dynamically), with the
 * sigstore libraries under it.
 */
import { Clock, Effect, Layer, Option } from "effect"
import type { KeyObject } from "node:crypto"
import type { TransportError } from "../model/Errors.ts"
import { describeLocation, withReference } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import { parseManifest } from "../model/Manifest.ts"
import type { ManifestDescriptor } from "../model/Manifest.ts"
import { IN_TOTO, isIndex } from "../model/MediaTypes.ts"
import { signatureTag } from "../model/Signatures.ts"
import { bundleBytes, keyHint } from "../signing/Bundle.ts"
import { preAuthEncoding } from "../signing/Dsse.ts"
import type { Envelope } from "../signing/Dsse.ts"
import { formatsOf } from "../signing/Formats.ts"
import type { SigningSettings } from "../signing/Formats.ts"
import { provenanceOfStatement, SLSA_PROVENANCE_V1 } from "../signing/Provenance.ts"
import { Signer, SigningFailed } from "../signing/Signer.ts"
import type { SignerShape } from "../signing/Signer.ts"
import { dockerReference, payloadFor, signatureLayer } from "../signing/SimpleSigning.ts"
import { COSIGN_SIGN_PREDICATE, signStatement } from "../signing/Statement.ts"
import type { Statement } from "../signing/Statement.ts"
import { Transport } from "../transport/Transport.ts"
import type { TransportShape } from "../transport/Transport.ts"
import { makeAttest } from "./Attestation.ts"
import { bundlesBy, pushBundle } from "./BundleSignatures.ts"
import { appendLayer, attestationsBy, hasSignatureBy, readTagImage } from "./LegacySignatures.ts"
import { readReferrers } from "./Referrers.ts"
import type { ResolvedImage } from "./Resolve.ts"
import { OurSignatures } from "./Sign.ts"
import type { OursOutcome, SignContext } from "./Sign.ts"
import { failed, FALLBACK_REMEDY, LEGACY_REMEDY, mapErrors } from "./SigningErrors.ts"
import { SyncSettings } from "./SyncSettings.ts"

/** How deep nested indexes are followed for children (an index of indexes is rare; a loop is refused). */
const MAX_DEPTH = 4
/** Children of one index signed at once. */
const CHILD_CONCURRENCY = 4

/** What one format found or did for one digest. */
interface Done {
  /** written now */
  readonly written: boolean
  /** dry run: would be written */
  readonly would: boolean
  /** the manifest holding ours (the `.sig`/`.att` image, or the referrer) */
  readonly digest: string | undefined
}

const nothing: Done = { written: false, would: false, digest: undefined }

// ---- what counts as ours: shared with `verify`

/** True when `digest` carries a cosign signature by `key` in the legacy `.sig` tag. */
export const legacySignatureOf = (transport: TransportShape, image: ImageLocation, digest: string, key: KeyObject) =>
  Effect.flatMap(readTagImage(transport, image, digest, ".sig"), (tag) => hasSignatureBy(transport, tag, digest, key))

/** The referrers holding a bundle signature of `digest` by `key` (cosign v3's sign statement). */
export const bundleSignaturesOf = (transport: TransportShape, image: ImageLocation, digest: string, key: KeyObject) =>
  Effect.flatMap(readReferrers(transport, image, digest), (refs) => bundlesBy(transport, image, refs, digest, key, COSIGN_SIGN_PREDICATE))

/** The provenance statements by `key` whose subject is `digest`: from the legacy `.att` tag and from bundle referrers. */
export const provenanceOf = (
  transport: TransportShape,
  image: ImageLocation,
  digest: string,
  key: KeyObject,
  formats: { readonly legacy: boolean; readonly bundle: boolean }
) =>
  Effect.gen(function*() {
    const legacy = formats.legacy
      ? yield* Effect.flatMap(readTagImage(transport, image, digest, ".att"), (tag) => attestationsBy(transport, tag, digest, key, SLSA_PROVENANCE_V1))
      : []
    const bundles = formats.bundle
      ? (yield* Effect.flatMap(readReferrers(transport, image, digest), (refs) => bundlesBy(transport, image, refs, digest, key, SLSA_PROVENANCE_V1)))
        .map((b) => b.statement)
      : []
    return { legacy, bundle: bundles }
  })

/**
 * Every child manifest of an index in the repository of `image`, nested indexes followed
 * (their children after them); [] for an image manifest. `absentIsEmpty`: a dry run asks about
 * an index that is not there yet.
 */
export const childrenOf = (
  transport: TransportShape,
  image: ImageLocation,
  top: ManifestDescriptor,
  absentIsEmpty = false
): Effect.Effect<ReadonlyArray<ManifestDescriptor>, TransportError> => {
  const walk = (d: ManifestDescriptor, depth: number, seen: Set<string>): Effect.Effect<ReadonlyArray<ManifestDescriptor>, TransportError> =>
    !isIndex(d.mediaType) || depth >= MAX_DEPTH
      ? Effect.succeed([])
      : Effect.gen(function*() {
        const raw = yield* transport.manifest(withReference(image, d.digest)).pipe(
          Effect.map(Option.some),
          Effect.catchTag("ImageNotFound", (e) => (absentIsEmpty ? Effect.succeed(Option.none()) : Effect.fail(e)))
        )
        if (Option.isNone(raw)) return []
        const out: Array<ManifestDescriptor> = []
        for (const c of parseManifest(raw.value.bytes, raw.value.mediaType).manifests) {
          if (seen.has(c.digest)) continue
          seen.add(c.digest)
          const child = { digest: c.digest, mediaType: c.mediaType, size: c.size }
          out.push(child, ...(yield* walk(child, depth + 1, seen)))
        }
        return out
      })
  return Effect.suspend(() => walk(top, 0, new Set([top.digest])))
}

// ---- writing

/** Builds our signatures service. */
export const make = (transport: TransportShape, signer: SignerShape, dryRun: boolean, settings: SigningSettings) => {
  const formats = formatsOf(settings.format)
  const hint = keyHint(signer.publicKey)
  const locks = new Map<string, Effect.Semaphore>()
  const locked = <A, E>(image: ImageLocation, digest: string, eff: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.suspend(() => {
      const key = `${image.endpoint.host}/${image.repository}@${digest}`
      let lock = locks.get(key)
      if (lock === undefined) {
        lock = Effect.unsafeMakeSemaphore(1)
        locks.set(key, lock)
      }
      return lock.withPermits(1)(eff)
    })

  /** A DSSE envelope over `payload`, signed by the key. */
  const envelope = (payload: Uint8Array): Effect.Effect<Envelope, SigningFailed> =>
    Effect.map(signer.sign(preAuthEncoding(IN_TOTO, payload)), (signature) => ({ payloadType: IN_TOTO, payload, signature }))

  const legacySignature = (image: ImageLocation, subject: ManifestDescriptor): Effect.Effect<Done, SigningFailed> =>
    Effect.gen(function*() {
      const tag = yield* readTagImage(transport, image, subject.digest, ".sig")
      const present = Option.getOrUndefined(tag.manifest)?.digest
      if (yield* hasSignatureBy(transport, tag, subject.digest, signer.publicKey)) return { ...nothing, digest: present }
      if (dryRun) return { ...nothing, would: true }
      const payload = payloadFor(dockerReference(image.endpoint.registry, image.repository), subject.digest)
      const layer = signatureLayer(payload, yield* signer.sign(payload))
      return { written: true, would: false, digest: yield* appendLayer(transport, tag, layer, payload) }
    }).pipe(mapErrors(`signature ${describeLocation(withReference(image, signatureTag(subject.digest)))}`, LEGACY_REMEDY))

  const bundleSignature = (image: ImageLocation, subject: ManifestDescriptor): Effect.Effect<Done, SigningFailed> =>
    Effect.gen(function*() {
      const refs = yield* readReferrers(transport, image, subject.digest)
      const found = yield* bundlesBy(transport, image, refs, subject.digest, signer.publicKey, COSIGN_SIGN_PREDICATE)
      if (found.length > 0) return { ...nothing, digest: found[0]!.referrer }
      if (dryRun) return { ...nothing, would: true }
      const bundle = bundleBytes(yield* envelope(signStatement(subject.digest)), hint)
      const createdMillis = yield* Clock.currentTimeMillis
      const digest = yield* pushBundle(transport, image, subject, bundle, { predicateType: COSIGN_SIGN_PREDICATE, createdMillis, referrersApi: refs.api })
      return { written: true, would: false, digest }
    }).pipe(mapErrors(`signature bundle for ${describeLocation(withReference(image, subject.digest))}`, FALLBACK_REMEDY))

  /** Our signatures of one digest in every format asked for. */
  const signDigest = (image: ImageLocation, subject: ManifestDescriptor) =>
    Effect.all({
      legacy: formats.legacy ? legacySignature(image, subject) : Effect.succeed(nothing),
      bundle: formats.bundle ? bundleSignature(image, subject) : Effect.succeed(nothing)
    })

  const attest = makeAttest(transport, signer, dryRun, settings, envelope)

  return (image: ResolvedImage, context: SignContext): Effect.Effect<OursOutcome, SigningFailed> =>
    Effect.gen(function*() {
      const target = image.target
      const top = image.manifest
      // The top digest: signatures, then the attestation, under one lock.
      const [ours, attested] = yield* locked(
        target,
        top.digest,
        Effect.all([signDigest(target, top), settings.attest ? Effect.map(attest(image, context), Option.some) : Effect.succeed(Option.none())])
      )
      const children = settings.recursive
        ? yield* childrenOf(transport, target, top, dryRun).pipe(Effect.mapError(failed(`children of ${describeLocation(withReference(target, top.digest))}`)))
        : []
      const childResults = yield* Effect.forEach(children, (c) => locked(target, c.digest, signDigest(target, c)), { concurrency: CHILD_CONCURRENCY })
      const all = [ours, ...childResults].flatMap((r) => [...(formats.legacy ? [r.legacy] : []), ...(formats.bundle ? [r.bundle] : [])])
      const written = all.some((d) => d.written)
      const would = all.some((d) => d.would)
      const childrenSigned = childResults.filter((r) => r.legacy.written || r.bundle.written).length
      const outcome: OursOutcome = {
        signed: written ? true : would ? false : "already",
        signatureDigest: ours.legacy.digest,
        ...(ours.bundle.digest ? { bundleDigest: ours.bundle.digest } : {}),
        ...(would ? { wouldSign: true } : {}),
        ...(settings.recursive && children.length > 0 ? { childrenSigned } : {}),
        ...(Option.isSome(attested)
          ? {
            attested: attested.value.written ? true : attested.value.would ? false : "already",
            ...(attested.value.legacy ? { attestationDigest: attested.value.legacy } : {}),
            ...(attested.value.bundle ? { attestationBundleDigest: attested.value.bundle } : {}),
            ...(attested.value.would ? { wouldAttest: true } : {})
          } as const
          : {})
      }
      return outcome
    })
}

/** The live service on the run's Transport, settings and Signer. */
export const layer = (settings: SigningSettings) =>
  Layer.effect(
    OurSignatures,
    Effect.gen(function*() {
      const transport = yield* Transport
      const { dryRun } = yield* SyncSettings
      const signer = yield* Signer
      return { sign: make(transport, signer, dryRun, settings) }
    })
  )

/** The source digests a provenance statement names (its resolvedDependencies). */
export const provenanceSources = (statement: Statement): ReadonlyArray<string> => provenanceOfStatement(statement)?.sourceDigests ?? []
