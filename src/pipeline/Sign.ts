/**
 * Step 5, Sign: upstream signatures of the source digest travel with a copied image
 * (Upstream.ts); then a cosign-compatible signature of ours is appended to the target's
 * `sha256-<hex>.sig` — unless one by the same key already verifies for that digest, in which
 * case nothing is written. In a dry run nothing is written and the outcome says whether we
 * would sign. Every read and write goes through the Transport.
 */
import { Context, Effect, Layer, Option } from "effect"
import { sha256Digest } from "../model/Digest.ts"
import type { TransportError } from "../model/Errors.ts"
import { withReference } from "../model/Location.ts"
import { OCI_MANIFEST, SIMPLE_SIGNING } from "../model/MediaTypes.ts"
import { signatureTag } from "../model/Signatures.ts"
import { Signer, SigningFailed } from "../signing/Signer.ts"
import type { SignerShape } from "../signing/Signer.ts"
import { buildSignatureImage, dockerReference, layersOf, payloadFor, signatureLayer } from "../signing/SimpleSigning.ts"
import { layerVerifies } from "../signing/Verify.ts"
import { Transport } from "../transport/Transport.ts"
import type { TransportShape } from "../transport/Transport.ts"
import type { ResolvedImage } from "./Resolve.ts"
import { SyncSettings } from "./SyncSettings.ts"
import { TagLists } from "./TagLists.ts"
import type { ListTags } from "./TagLists.ts"
import { carriedLabel, makeCarryUpstream } from "./Upstream.ts"

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

/** The Sign service. */
export class Sign extends Context.Tag("syncer/Sign")<Sign, {
  /** `copied`: the image was just copied (upstream signatures are carried then). */
  readonly sign: (image: ResolvedImage, copied: boolean) => Effect.Effect<SignOutcome, SigningFailed>
  /** a key was given: there is a signing step to show (carrying upstream signatures alone is part of the copy) */
  readonly signs: boolean
}>() {
  /** No signer and no carrying: a no-op. */
  static none = Layer.succeed(Sign, {
    sign: () => Effect.succeed({ signed: false, signatureDigest: undefined }),
    signs: false
  })

  /** Carries upstream signatures; signs too when a Signer is provided. */
  static layer = (options: { readonly signer: boolean }) =>
    Layer.effect(
      Sign,
      Effect.gen(function*() {
        const transport = yield* Transport
        const tagLists = yield* TagLists
        const settings = yield* SyncSettings
        const signer = options.signer ? Option.some(yield* Signer) : Option.none()
        return { sign: make(transport, tagLists.of, settings.dryRun, signer), signs: Option.isSome(signer) }
      })
    ) as Layer.Layer<Sign, never, Transport | TagLists | SyncSettings | Signer>
}

const failed = (what: string) => (e: TransportError) => new SigningFailed({ detail: `${what}: ${e.message}` })

const make = (transport: TransportShape, listTags: ListTags, dryRun: boolean, signer: Option.Option<SignerShape>) => {
  const carry = makeCarryUpstream(transport, listTags)
  const signOurs = (image: ResolvedImage, s: SignerShape) =>
    Effect.gen(function*() {
      const digest = image.manifest.digest
      const sigLocation = withReference(image.target, signatureTag(digest))
      const existing = yield* transport.manifest(sigLocation).pipe(
        Effect.map(Option.some),
        Effect.catchTag("ImageNotFound", () => Effect.succeed(Option.none()))
      )
      const layers = Option.isSome(existing) ? layersOf(existing.value.bytes) : []
      for (const layer of layers) {
        if (layer.mediaType !== SIMPLE_SIGNING) continue
        const payload = yield* transport.blob(image.target, layer.digest)
        if (layerVerifies(layer, payload, digest, s.publicKey)) {
          return { signed: "already" as const, signatureDigest: Option.getOrUndefined(existing)?.digest }
        }
      }
      if (dryRun) return { signed: false, signatureDigest: undefined, wouldSign: true }
      const payload = payloadFor(dockerReference(image.target.endpoint.registry, image.target.repository), digest)
      const signature = yield* s.sign(payload)
      const sigImage = buildSignatureImage([...layers, signatureLayer(payload, signature)])
      yield* transport.putBlob(image.target, sha256Digest(payload), payload)
      yield* transport.putBlob(image.target, sigImage.configDigest, sigImage.config)
      yield* transport.putManifest(sigLocation, sigImage.manifest, OCI_MANIFEST)
      return { signed: true, signatureDigest: sigImage.manifestDigest }
    }).pipe(Effect.catchIf((e): e is TransportError => e._tag !== "SigningFailed", (e) => Effect.fail(failed("signature")(e))))

  return (image: ResolvedImage, copied: boolean): Effect.Effect<SignOutcome, SigningFailed> =>
    Effect.gen(function*() {
      // A platform subset is an index of our own: the source's signatures are not over it.
      const carried = copied && !dryRun && image.root === undefined
        ? (yield* carry(image.source, image.target, image.manifest.digest).pipe(
          Effect.mapError(failed("carrying upstream signatures"))
        )).map(carriedLabel)
        : []
      if (Option.isNone(signer)) return { signed: false, signatureDigest: undefined, carried }
      const outcome: SignOutcome = yield* signOurs(image, signer.value)
      return { ...outcome, carried }
    })
}
