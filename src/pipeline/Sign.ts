/**
 * Step 5, Sign: upstream signatures of the source digest travel with a copied image
 * (Upstream.ts); then, with a key, ours: cosign-compatible signatures in the formats the run
 * asks for, of the image's digest (and of its children with `--sign-recursive`), and a signed
 * provenance attestation with `--attest` (OurSignatures.ts, loaded only when a key is given).
 * Each is written only when none by the same key is there; in a dry run nothing is written and
 * the outcome says whether we would sign. Every read and write goes through the Transport.
 */
import { Context, Effect, Layer, Option } from "effect"
import type { TransportError } from "../model/Errors.ts"
import { SigningFailed } from "../signing/Signer.ts"
import { Transport } from "../transport/Transport.ts"
import type { TransportShape } from "../transport/Transport.ts"
import type { ResolvedImage } from "./Resolve.ts"
import { SyncSettings } from "./SyncSettings.ts"
import { TagLists } from "./TagLists.ts"
import type { ListTags } from "./TagLists.ts"
import { carriedLabel, makeCarryUpstream, refusedWarning } from "./Upstream.ts"

/** What signing did for one image. */
export interface SignOutcome {
  /** true: we signed now; "already": a valid signature by our key was there; false: not signed */
  readonly signed: boolean | "already"
  /** digest of the `.sig` manifest that holds our signature */
  readonly signatureDigest: string | undefined
  /** digest of the referrer manifest holding our signature bundle (`--signature-format bundle|both`) */
  readonly bundleDigest?: string
  /** dry run: a signature would be added */
  readonly wouldSign?: boolean
  /** `--sign-recursive` on an index: children signed now */
  readonly childrenSigned?: number
  /** `--attest`: true, attested now; "already": a provenance by our key was there; false: a dry run */
  readonly attested?: boolean | "already"
  /** the `.att` manifest holding our provenance attestation */
  readonly attestationDigest?: string
  /** the referrer manifest holding our provenance attestation bundle */
  readonly attestationBundleDigest?: string
  /** dry run: an attestation would be added */
  readonly wouldAttest?: boolean
  /** upstream signature artifacts copied along ("sha256-….sig", referrers …) */
  readonly carried?: ReadonlyArray<string>
  /** what the image's result should say beside: upstream artifacts the target refused to take */
  readonly warnings?: ReadonlyArray<string>
}

/** Where the image is in its run: for the provenance of a copy. */
export interface SignContext {
  /** the image was copied now (false: it was present already) */
  readonly copied: boolean
  /** when the image's work began (Clock millis) */
  readonly startedMillis?: number
}

/** What our signatures give an image's outcome. */
export type OursOutcome = Omit<SignOutcome, "carried">

/** Our signatures and attestations of one image (src/pipeline/OurSignatures.ts provides it, with a key). */
export class OurSignatures extends Context.Tag("syncer/OurSignatures")<OurSignatures, {
  readonly sign: (image: ResolvedImage, context: SignContext) => Effect.Effect<OursOutcome, SigningFailed>
}>() {}

/** The Sign service. */
export class Sign extends Context.Tag("syncer/Sign")<Sign, {
  /** `copied`: the image was just copied (upstream signatures are carried then); `startedMillis`: when its work began. */
  readonly sign: (image: ResolvedImage, copied: boolean, startedMillis?: number) => Effect.Effect<SignOutcome, SigningFailed>
  /** a key was given: there is a signing step to show (carrying upstream signatures alone is part of the copy) */
  readonly signs: boolean
}>() {
  /** No signer and no carrying: a no-op. */
  static none = Layer.succeed(Sign, {
    sign: () => Effect.succeed({ signed: false, signatureDigest: undefined }),
    signs: false
  })

  /** Carries upstream signatures; ours too when OurSignatures is provided (a key was given). */
  static layer: Layer.Layer<Sign, never, Transport | TagLists | SyncSettings> = Layer.effect(
    Sign,
    Effect.gen(function*() {
      const transport = yield* Transport
      const tagLists = yield* TagLists
      const settings = yield* SyncSettings
      const ours = yield* Effect.serviceOption(OurSignatures)
      return { sign: make(transport, tagLists.of, settings.dryRun, ours), signs: Option.isSome(ours) }
    })
  )
}

const failed = (what: string) => (e: TransportError) => new SigningFailed({ detail: `${what}: ${e.message}` })

const make = (
  transport: TransportShape,
  listTags: ListTags,
  dryRun: boolean,
  ours: Option.Option<{ readonly sign: (image: ResolvedImage, context: SignContext) => Effect.Effect<OursOutcome, SigningFailed> }>
) => {
  const carry = makeCarryUpstream(transport, listTags)
  return (image: ResolvedImage, copied: boolean, startedMillis?: number): Effect.Effect<SignOutcome, SigningFailed> =>
    Effect.gen(function*() {
      // A platform subset is an index of our own: the source's signatures are not over it.
      const upstream = copied && !dryRun && image.root === undefined
        ? yield* carry(image.source, image.target, image.manifest.digest).pipe(Effect.mapError(failed("carrying upstream signatures")))
        : []
      const carried = upstream.flatMap((c) => (c.kind === "refused" ? [] : [carriedLabel(c)]))
      const warnings = upstream.flatMap((c) => (c.kind === "refused" ? [refusedWarning(c)] : []))
      for (const w of warnings) yield* Effect.logWarning(`${image.entry.source}: ${w}`)
      const noted = warnings.length > 0 ? { carried, warnings } : { carried }
      if (Option.isNone(ours)) return { signed: false, signatureDigest: undefined, ...noted }
      const outcome = yield* ours.value.sign(image, { copied, ...(startedMillis !== undefined ? { startedMillis } : {}) })
      return { ...outcome, ...noted }
    })
}
