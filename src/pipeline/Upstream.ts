/**
 * Upstream signatures of a digest travel with the image, byte for byte: cosign's `.sig`,
 * `.att` and `.sbom` tags, and OCI 1.1 referrers (through the referrers API, or the
 * `sha256-<hex>` fallback tag). One rule for the sync (Sign) and the export, both through the
 * Transport; a target without a referrers API gets the fallback index merged. Which of those
 * tags exist is read from the source repository's tag list — one request, kept for the run, in
 * place of a HEAD per tag; a repository whose tags cannot be listed is asked tag by tag.
 */
import { Effect, Option } from "effect"
import type { RegistryError, TransportError } from "../model/Errors.ts"
import { hasCode } from "../oci/RegistryError.ts"
import { withReference } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import { parseManifest } from "../model/Manifest.ts"
import { COSIGN_SUFFIXES, referrersTag, signatureTag } from "../model/Signatures.ts"
import type { TransportShape } from "../transport/Transport.ts"
import { addToFallbackIndex } from "./Referrers.ts"
import { makeTagLists } from "./TagLists.ts"
import type { ListTags } from "./TagLists.ts"

/**
 * One upstream artifact carried — a cosign tag, the referrers fallback tag, or referrers found
 * through the API — or one the target refused to take (an artifact type it does not allow).
 */
export type Carried =
  | { readonly kind: "tag"; readonly tag: string }
  | { readonly kind: "fallback"; readonly tag: string }
  | { readonly kind: "referrers"; readonly tag: string; readonly count: number }
  | { readonly kind: "refused"; readonly artifact: string; readonly registry: string; readonly why: string }

/** How the sync's report names a carried artifact: "sha256-….sig", "referrers (sha256-…)", "referrers (2)". */
export const carriedLabel = (c: Exclude<Carried, { kind: "refused" }>): string =>
  c.kind === "tag" ? c.tag : c.kind === "fallback" ? `referrers (${c.tag})` : `referrers (${c.count})`

/** What the image's result says of an upstream artifact the target would not take. */
export const refusedWarning = (c: Extract<Carried, { kind: "refused" }>): string =>
  `upstream ${c.artifact} not carried: ${c.registry} refused it (${c.why}); the image itself was copied`

/**
 * A target that refuses an upstream artifact for what it is (Quay allows only listed OCI
 * artifact types: MANIFEST_INVALID; registries without the media type: UNSUPPORTED) does not
 * fail the image: the image was the ask. Anything else stays the failure it is.
 */
const refusedArtifact = (artifact: string) => (e: TransportError): Effect.Effect<Carried, TransportError> =>
  e._tag === "RegistryError" && hasCode(e, "MANIFEST_INVALID", "UNSUPPORTED")
    ? Effect.succeed({ kind: "refused", artifact, registry: e.registry, why: refusal(e) })
    : Effect.fail(e)

const refusal = (e: RegistryError): string => [e.codes.join(", "), e.detail].filter((w) => w !== "").join(": ")

/** How upstream artifacts are carried. */
export interface CarryOptions {
  /**
   * false (the sync): a tag the target already has is left alone — target tags are immutable.
   * true (an export's layout): a tag whose upstream content changed is replaced.
   */
  readonly replace: boolean
}

/** The tags a source repository has, when it could be listed; undefined: ask each tag. */
type KnownTags = ReadonlySet<string> | undefined

/** Copies one tag if the source has it and the target does not (or, replacing, holds other content); what became of it, if anything. */
const carryTag = (
  transport: TransportShape,
  source: ImageLocation,
  target: ImageLocation,
  tag: string,
  options: CarryOptions,
  known: KnownTags,
  kind: "tag" | "fallback"
): Effect.Effect<ReadonlyArray<Carried>, TransportError> =>
  Effect.gen(function*() {
    if (known !== undefined && !known.has(tag)) return []
    const there = yield* transport.inspect(withReference(source, tag))
    if (Option.isNone(there)) return []
    const already = yield* transport.inspect(withReference(target, tag))
    if (Option.isSome(already) && (!options.replace || already.value.digest === there.value.digest)) return []
    if (!options.replace) {
      yield* transport.copy(withReference(source, tag), withReference(target, tag), there.value)
      return [{ kind, tag }]
    }
    // By digest first, then named: the name moves only to content that is all there.
    const byDigest = withReference(target, there.value.digest)
    yield* transport.copy(withReference(source, there.value.digest), byDigest, there.value)
    const raw = yield* transport.manifest(byDigest)
    yield* transport.putManifest(withReference(target, tag), raw.bytes, raw.mediaType)
    return [{ kind, tag }]
  }).pipe(Effect.catchAll((e) => Effect.map(refusedArtifact(kind === "tag" ? tag : `referrers (${tag})`)(e), (c) => [c])))

/** Copies the upstream signatures and referrers of a digest from `source` to `target`. */
export type CarryUpstream = (
  source: ImageLocation,
  target: ImageLocation,
  digest: string,
  options?: CarryOptions
) => Effect.Effect<ReadonlyArray<Carried>, TransportError>

/** A carrier reading which tags exist from `listTags` (the run's TagLists: each repository listed once). */
export const makeCarryUpstream = (transport: TransportShape, listTags: ListTags = makeTagLists(transport)): CarryUpstream => {
  // A listing refused (permissions) or broken is no answer: each tag is asked instead.
  const knownTags = (source: ImageLocation): Effect.Effect<KnownTags> =>
    listTags(source).pipe(
      Effect.map((all): KnownTags => new Set(all)),
      Effect.orElseSucceed((): KnownTags => undefined)
    )
  return (source, target, digest, options = { replace: false }) =>
    Effect.flatMap(knownTags(source), (known) => carryWith(transport, source, target, digest, options, known))
}

/** Copies the upstream signatures and referrers of `digest` from `source` to `target` (a one-off: the tags are listed for this call). */
export const carryUpstream = (
  transport: TransportShape,
  source: ImageLocation,
  target: ImageLocation,
  digest: string,
  options: CarryOptions = { replace: false }
): Effect.Effect<ReadonlyArray<Carried>, TransportError> => makeCarryUpstream(transport)(source, target, digest, options)

const carryWith = (
  transport: TransportShape,
  source: ImageLocation,
  target: ImageLocation,
  digest: string,
  options: CarryOptions,
  known: KnownTags
): Effect.Effect<ReadonlyArray<Carried>, TransportError> =>
  Effect.gen(function*() {
    const tags = yield* Effect.forEach(COSIGN_SUFFIXES, (suffix) => carryTag(transport, source, target, signatureTag(digest, suffix), options, known, "tag"), {
      concurrency: COSIGN_SUFFIXES.length
    })
    const fallback = referrersTag(digest)
    const api = yield* transport.referrers(source, digest)
    if (Option.isNone(api)) return [...tags.flat(), ...(yield* carryTag(transport, source, target, fallback, options, known, "fallback"))]
    const found = parseManifest(api.value.bytes, api.value.mediaType).manifests
    if (found.length === 0) return tags.flat()
    const copies = yield* Effect.forEach(found, (d) =>
      transport.copy(withReference(source, d.digest), withReference(target, d.digest), d).pipe(
        Effect.as(d),
        Effect.catchAll((e) => refusedArtifact(`referrer ${d.artifactType ?? d.mediaType} ${d.digest}`)(e))
      ), { concurrency: 4 })
    const carried = copies.filter((c): c is typeof found[number] => !("kind" in c))
    const refused = copies.filter((c): c is Carried => "kind" in c)
    if (carried.length > 0 && Option.isNone(yield* transport.referrers(target, digest))) {
      yield* addToFallbackIndex(transport, target, digest, carried.map((d) => ({ digest: d.digest, json: JSON.stringify(d) })))
    }
    return [...tags.flat(), ...(carried.length > 0 ? [{ kind: "referrers", tag: fallback, count: carried.length } as const] : []), ...refused]
  })
