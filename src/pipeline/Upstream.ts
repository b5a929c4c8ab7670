/**
 * Upstream signatures of a digest travel with the image, byte for byte: cosign's `.sig`,
 * `.att` and `.sbom` tags, and OCI 1.1 referrers (through the referrers API, or the
 * `sha256-<hex>` fallback tag). One rule for the sync (Sign) and the export, both through the
 * Transport; a target without a referrers API gets the fallback index merged. Which of those
 * tags exist is read from the source repository's tag list — one request, kept for the run, in
 * place of a HEAD per tag; a repository whose tags cannot be listed is asked tag by tag.
 */
import { Effect, Option } from "effect"
import type { TransportError } from "../model/Errors.ts"
import { withReference } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import { parseManifest } from "../model/Manifest.ts"
import { COSIGN_SUFFIXES, referrersTag, signatureTag } from "../model/Signatures.ts"
import type { TransportShape } from "../transport/Transport.ts"
import { addToFallbackIndex } from "./Referrers.ts"
import { makeTagLists } from "./TagLists.ts"
import type { ListTags } from "./TagLists.ts"

/** One upstream artifact carried: a cosign tag, the referrers fallback tag, or referrers found through the API. */
export type Carried =
  | { readonly kind: "tag"; readonly tag: string }
  | { readonly kind: "fallback"; readonly tag: string }
  | { readonly kind: "referrers"; readonly tag: string; readonly count: number }

/** How the sync's report names a carried artifact: "sha256-….sig", "referrers (sha256-…)", "referrers (2)". */
export const carriedLabel = (c: Carried): string =>
  c.kind === "tag" ? c.tag : c.kind === "fallback" ? `referrers (${c.tag})` : `referrers (${c.count})`

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

/** Copies one tag if the source has it and the target does not (or, replacing, holds other content); true when copied. */
const carryTag = (transport: TransportShape, source: ImageLocation, target: ImageLocation, tag: string, options: CarryOptions, known: KnownTags) =>
  Effect.gen(function*() {
    if (known !== undefined && !known.has(tag)) return false
    const there = yield* transport.inspect(withReference(source, tag))
    if (Option.isNone(there)) return false
    const already = yield* transport.inspect(withReference(target, tag))
    if (Option.isSome(already) && (!options.replace || already.value.digest === there.value.digest)) return false
    if (!options.replace) {
      yield* transport.copy(withReference(source, tag), withReference(target, tag), there.value)
      return true
    }
    // By digest first, then named: the name moves only to content that is all there.
    const byDigest = withReference(target, there.value.digest)
    yield* transport.copy(withReference(source, there.value.digest), byDigest, there.value)
    const raw = yield* transport.manifest(byDigest)
    yield* transport.putManifest(withReference(target, tag), raw.bytes, raw.mediaType)
    return true
  })

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
    const tags = yield* Effect.forEach(COSIGN_SUFFIXES, (suffix) => {
      const tag = signatureTag(digest, suffix)
      return Effect.map(carryTag(transport, source, target, tag, options, known), (copied): ReadonlyArray<Carried> => (copied ? [{ kind: "tag", tag }] : []))
    }, { concurrency: COSIGN_SUFFIXES.length })
    const fallback = referrersTag(digest)
    const api = yield* transport.referrers(source, digest)
    if (Option.isNone(api)) {
      const copied = yield* carryTag(transport, source, target, fallback, options, known)
      return [...tags.flat(), ...(copied ? [{ kind: "fallback", tag: fallback } as const] : [])]
    }
    const found = parseManifest(api.value.bytes, api.value.mediaType).manifests
    if (found.length === 0) return tags.flat()
    yield* Effect.forEach(found, (d) => transport.copy(withReference(source, d.digest), withReference(target, d.digest), d), {
      concurrency: 4,
      discard: true
    })
    if (Option.isNone(yield* transport.referrers(target, digest))) {
      yield* addToFallbackIndex(transport, target, digest, found.map((d) => ({ digest: d.digest, json: JSON.stringify(d) })))
    }
    return [...tags.flat(), { kind: "referrers", tag: fallback, count: found.length } as const]
  })
