/**
 * The referrers of a digest in a repository, through the Transport: the registry's referrers
 * API when it has one (`GET /v2/<name>/referrers/<digest>`; a 404 means it has none), else the
 * `sha256-<hex>` fallback index of the referrers tag schema, which clients keep: adding to it
 * is ours to do (src/signing/ReferrersIndex.ts: entries only ever added). One rule for our
 * signatures and for carrying upstream referrers.
 */
import { Effect, Option } from "effect"
import { TransportFailure } from "../model/Errors.ts"
import type { TransportError } from "../model/Errors.ts"
import { describeLocation, withReference } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import type { Descriptor } from "../model/Manifest.ts"
import { OCI_INDEX } from "../model/MediaTypes.ts"
import { referrersTag } from "../model/Signatures.ts"
import { listedReferrers, mergeReferrersIndex } from "../signing/ReferrersIndex.ts"
import type { IndexEntry } from "../signing/ReferrersIndex.ts"
import type { TransportShape } from "../transport/Transport.ts"

/** What refers to a digest, and how the registry keeps that list. */
export interface ReferrersOf {
  /** true: the registry has the referrers API and lists new referrers itself */
  readonly api: boolean
  readonly listed: ReadonlyArray<Descriptor>
}

/** The manifest a tag holds, or None. */
const tagged = (transport: TransportShape, image: ImageLocation) =>
  transport.manifest(image).pipe(
    Effect.map(Option.some),
    Effect.catchTag("ImageNotFound", () => Effect.succeed(Option.none()))
  )

/** The referrers of `digest` in the repository of `image`: from the API, else from the fallback tag (none: an empty list). */
export const readReferrers = (transport: TransportShape, image: ImageLocation, digest: string): Effect.Effect<ReferrersOf, TransportError> =>
  Effect.gen(function*() {
    const api = yield* transport.referrers(image, digest)
    if (Option.isSome(api)) return { api: true, listed: listedReferrers(api.value.bytes) }
    const fallback = yield* tagged(transport, withReference(image, referrersTag(digest)))
    return { api: false, listed: Option.isSome(fallback) ? listedReferrers(fallback.value.bytes) : [] }
  })

/**
 * Adds `entries` to the fallback index of `digest` (read afresh, so entries another writer
 * added a moment ago stay); true when the tag was written. A tag holding something other than
 * an index is left alone and reported.
 */
export const addToFallbackIndex = (
  transport: TransportShape,
  image: ImageLocation,
  digest: string,
  entries: ReadonlyArray<IndexEntry>
): Effect.Effect<boolean, TransportError> =>
  Effect.gen(function*() {
    const at = withReference(image, referrersTag(digest))
    const current = yield* tagged(transport, at)
    const merged = mergeReferrersIndex(Option.isSome(current) ? current.value.bytes : undefined, entries)
    if (merged._tag === "Unchanged") return false
    if (merged._tag === "NotAnIndex") {
      return yield* new TransportFailure({
        transport: transport.name,
        detail: `${describeLocation(at)} holds something other than a referrers index; left alone, the referrer is not listed there`
      })
    }
    yield* transport.putManifest(at, merged.bytes, OCI_INDEX)
    return true
  })
