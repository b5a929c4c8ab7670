/**
 * A platform subset of a multi-platform index (`platforms:` in the definition): the children
 * whose platform is listed, in the source's order, with the attestation manifests that refer
 * to them (buildx's `unknown/unknown` children), every other field and annotation of the
 * source index as it was, and an annotation naming the source index's digest. The same source
 * and list give the same bytes — and so the same digest — on every run.
 */
import { Either } from "effect"
import type { Descriptor, RawManifest } from "./Manifest.ts"
import { sha256Digest } from "./Digest.ts"
import { formatPlatform, platformMatches } from "./Platform.ts"
import type { Platform } from "./Platform.ts"

/** The annotation of a subset index that names the index it was cut from. */
export const SOURCE_INDEX_ANNOTATION = "io.image-syncer.source-index"

// buildx: an attestation manifest names the image manifest it belongs to.
const REFERENCE_TYPE = "vnd.docker.reference.type"
const REFERENCE_DIGEST = "vnd.docker.reference.digest"

/** Why no subset can be cut: platforms the index does not have, and what it offers. */
export interface SubsetProblem {
  readonly missing: ReadonlyArray<string>
  readonly offered: ReadonlyArray<string>
}

/** What a subset came to: the index to write (the source's own when nothing is left out), and whether it is a new one. */
export interface Subset {
  readonly index: RawManifest
  /** false when every child was listed: the source index is copied as it is */
  readonly filtered: boolean
}

const isAttestationFor = (d: Descriptor, kept: ReadonlySet<string>): boolean => {
  const refers = d.annotations?.[REFERENCE_DIGEST]
  return refers !== undefined && d.annotations?.[REFERENCE_TYPE] === "attestation-manifest" && kept.has(refers)
}

/** The platforms an index offers, written out (attestation children left out). */
export const offeredPlatforms = (children: ReadonlyArray<Descriptor>): ReadonlyArray<string> =>
  children.filter((d) => d.annotations?.[REFERENCE_TYPE] !== "attestation-manifest").map((d) => (d.platform ? formatPlatform(d.platform) : "unknown/unknown"))

/** Cuts the subset of `source` (an index's exact bytes) that `wanted` lists. */
export const subsetIndex = (source: RawManifest, wanted: ReadonlyArray<Platform>): Either.Either<Subset, SubsetProblem> => {
  const json = JSON.parse(new TextDecoder().decode(source.bytes)) as Record<string, unknown> & {
    manifests?: Array<Descriptor>
    annotations?: Record<string, string>
  }
  const children = json.manifests ?? []
  const missing = wanted.filter((w) => !children.some((d) => platformMatches(w, d.platform))).map(formatPlatform)
  if (missing.length > 0) return Either.left({ missing, offered: offeredPlatforms(children) })
  const images = new Set(children.filter((d) => wanted.some((w) => platformMatches(w, d.platform))).map((d) => d.digest))
  const kept = children.filter((d) => images.has(d.digest) || isAttestationFor(d, images))
  if (kept.length === children.length) return Either.right({ index: source, filtered: false })
  // Key order as in the source; an index cut before (read back from a layout) keeps its first source.
  const annotations = { ...json.annotations, [SOURCE_INDEX_ANNOTATION]: json.annotations?.[SOURCE_INDEX_ANNOTATION] ?? source.digest }
  const bytes = new TextEncoder().encode(JSON.stringify({ ...json, manifests: kept, annotations }))
  return Either.right({
    index: { digest: sha256Digest(bytes), mediaType: source.mediaType, size: bytes.length, bytes },
    filtered: true
  })
}
