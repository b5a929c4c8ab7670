/**
 * Step 5, Sign: upstream signatures of the source digest travel with a copied image (cosign
 * `.sig`/`.att`/`.sbom` tags, OCI 1.1 referrers or their fallback tag), byte for byte; then
 * a cosign-compatible signature of ours is appended to the target's `sha256-<hex>.sig` —
 * unless one by the same key already verifies for that digest, in which case nothing is
 * written. In a dry run nothing is written and the outcome says whether we would sign.
 */
import { Context, Data, Effect, Layer, Option } from "effect"
import { isIndex, parseManifest } from "../domain/MediaTypes.ts"
import type { Descriptor } from "../domain/MediaTypes.ts"
import { RegistryClient, sha256Digest, withReference } from "../oci/RegistryClient.ts"
import {
  buildSignatureImage,
  dockerReference,
  layersOf,
  payloadFor,
  signatureLayer,
  signatureTag
} from "../signing/SimpleSigning.ts"
import { layerVerifies } from "../signing/Verify.ts"
import { Signer } from "./Signer.ts"
import { SyncSettings } from "./SyncSettings.ts"
import { Transport } from "./Transport.ts"
import type { TransportError } from "./Transport.ts"
import type { ResolvedImage } from "./Resolve.ts"

/** What signing did for one image. */
export interface SignOutcome {
  /** true: we signed now; "already": a valid signature by our key was there; false: not signed */
  readonly signed: boolean | "already"
  /** digest of the `.sig` manifest that holds our signature */
  readonly signatureDigest: string | undefined
  /** dry run: a signature would be added */
  readonly wouldSign?: boolean
  /** upstream signature artifacts copied along ("sha256-….sig", referrers …) */
  readonly carried?: ReadonlyArray<string>
}

/** Signing failed (key, registry or signer trouble). */
export class SigningFailed extends Data.TaggedError("SigningFailed")<{ readonly detail: string }> {
  override get message() {
    return `signing failed: ${this.detail}`
  }
}

/** The Sign service. */
export class Sign extends Context.Tag("syncer/Sign")<Sign, {
  /** `copied`: the image was just copied (upstream signatures are carried then). */
  readonly sign: (image: ResolvedImage, copied: boolean) => Effect.Effect<SignOutcome, SigningFailed>
}>() {
  /** No signer and no carrying: a no-op. */
  static none = Layer.succeed(Sign, {
    sign: () => Effect.succeed({ signed: false, signatureDigest: undefined })
  })

  /** Carries upstream signatures; signs too when a Signer is provided. */
  static layer = (options: { readonly signer: boolean }) =>
    Layer.effect(
      Sign,
      Effect.gen(function*() {
        const client = yield* RegistryClient
        const transport = yield* Transport
        const settings = yield* SyncSettings
        const signer = options.signer ? Option.some(yield* Signer) : Option.none()
        return { sign: make(client, transport, settings.dryRun, signer) }
      })
    ) as Layer.Layer<Sign, never, RegistryClient | Transport | SyncSettings | Signer>
}

const fail = (what: string) => (e: TransportError) => new SigningFailed({ detail: `${what}: ${e.message}` })

const make = (
  client: RegistryClient["Type"],
  transport: Transport["Type"],
  dryRun: boolean,
  signer: Option.Option<Signer["Type"]>
) => {
  /** Copies one tag if the source has it and the target does not. */
  const carryTag = (image: ResolvedImage, tag: string) =>
    Effect.gen(function*() {
      const there = yield* transport.inspect(withReference(image.source, tag))
      if (Option.isNone(there)) return Option.none<string>()
      const already = yield* transport.inspect(withReference(image.target, tag))
      if (Option.isSome(already)) return Option.none<string>()
      yield* transport.copy(withReference(image.source, tag), withReference(image.target, tag), there.value)
      return Option.some(tag)
    })

  /** OCI 1.1 referrers: through the API, or the `sha256-<hex>` fallback tag. */
  const carryReferrers = (image: ResolvedImage) =>
    Effect.gen(function*() {
      const digest = image.manifest.digest
      // Source reads go through the transport (a layout source has no registry to ask).
      const api = transport.referrers ? yield* transport.referrers(image.source, digest) : Option.none()
      if (Option.isNone(api)) {
        const fallback = yield* carryTag(image, signatureTag(digest, ""))
        return Option.isSome(fallback) ? [`referrers (${fallback.value})`] : []
      }
      const found = parseManifest(api.value.bytes, api.value.mediaType).manifests
      if (found.length === 0) return []
      yield* Effect.forEach(found, (d) =>
        transport.copy(withReference(image.source, d.digest), withReference(image.target, d.digest), d), { concurrency: 4, discard: true })
      const targetApi = yield* client.referrers(image.target, digest)
      if (Option.isNone(targetApi)) yield* mergeFallbackIndex(image, found)
      return [`referrers (${found.length})`]
    })

  /** Adds descriptors to the target's referrers fallback index (the registry has no API). */
  const mergeFallbackIndex = (image: ResolvedImage, add: ReadonlyArray<Descriptor>) =>
    Effect.gen(function*() {
      const tag = signatureTag(image.manifest.digest, "")
      const existing = yield* client.getManifest(withReference(image.target, tag)).pipe(
        Effect.map(Option.some),
        Effect.catchTag("ImageNotFound", () => Effect.succeed(Option.none()))
      )
      const current = Option.isSome(existing) && isIndex(existing.value.mediaType)
        ? parseManifest(existing.value.bytes, existing.value.mediaType).manifests
        : []
      const missing = add.filter((d) => !current.some((c) => c.digest === d.digest))
      if (missing.length === 0) return
      const bytes = new TextEncoder().encode(JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [...current, ...missing]
      }))
      yield* client.putManifest(withReference(image.target, tag), bytes, "application/vnd.oci.image.index.v1+json")
    })

  const carry = (image: ResolvedImage) =>
    Effect.gen(function*() {
      const tags = yield* Effect.forEach(
        [".sig", ".att", ".sbom"],
        (suffix) => carryTag(image, signatureTag(image.manifest.digest, suffix)),
        { concurrency: 3 }
      )
      const referrers = yield* carryReferrers(image)
      return [...tags.flatMap(Option.toArray), ...referrers]
    }).pipe(Effect.mapError(fail("carrying upstream signatures")))

  const signOurs = (image: ResolvedImage, s: Signer["Type"]) =>
    Effect.gen(function*() {
      const digest = image.manifest.digest
      const sigLocation = withReference(image.target, signatureTag(digest))
      const existing = yield* client.getManifest(sigLocation).pipe(
        Effect.map(Option.some),
        Effect.catchTag("ImageNotFound", () => Effect.succeed(Option.none()))
      )
      const layers = Option.isSome(existing) ? layersOf(existing.value.bytes) : []
      for (const layer of layers) {
        if (layer.mediaType !== "application/vnd.dev.cosign.simplesigning.v1+json") continue
        const payload = yield* client.getBlob(image.target, layer.digest)
        if (layerVerifies(layer, payload, digest, s.publicKey)) {
          return { signed: "already" as const, signatureDigest: Option.getOrUndefined(existing)?.digest }
        }
      }
      if (dryRun) return { signed: false, signatureDigest: undefined, wouldSign: true }
      const payload = payloadFor(dockerReference(image.target.endpoint.registry, image.target.repository), digest)
      const signature = yield* s.sign(payload)
      const sigImage = buildSignatureImage([...layers, signatureLayer(payload, signature)])
      yield* client.uploadBlob(image.target, sha256Digest(payload), payload).pipe(
        Effect.unlessEffect(client.hasBlob(image.target, sha256Digest(payload)))
      )
      yield* client.uploadBlob(image.target, sigImage.configDigest, sigImage.config).pipe(
        Effect.unlessEffect(client.hasBlob(image.target, sigImage.configDigest))
      )
      yield* client.putManifest(sigLocation, sigImage.manifest, "application/vnd.oci.image.manifest.v1+json")
      return { signed: true, signatureDigest: sigImage.manifestDigest }
    }).pipe(Effect.catchTags({
      ImageNotFound: (e) => Effect.fail(fail("signature")(e)),
      Unauthorized: (e) => Effect.fail(fail("signature")(e)),
      RegistryUnavailable: (e) => Effect.fail(fail("signature")(e)),
      DigestMismatch: (e) => Effect.fail(fail("signature")(e)),
      TransportFailure: (e) => Effect.fail(fail("signature")(e)),
      TagTaken: (e) => Effect.fail(fail("signature")(e)),
      UnsupportedUrl: (e) => Effect.fail(fail("signature")(e)),
      ResponseTooLarge: (e) => Effect.fail(fail("signature")(e))
    }))

  return (image: ResolvedImage, copied: boolean): Effect.Effect<SignOutcome, SigningFailed> =>
    Effect.gen(function*() {
      const carried = copied && !dryRun ? yield* carry(image) : []
      if (Option.isNone(signer)) return { signed: false, signatureDigest: undefined, carried }
      const outcome: SignOutcome = yield* signOurs(image, signer.value)
      return { ...outcome, carried }
    })
}
