/**
 * The `oci` transport (default): talks the distribution API directly. Blobs first (skip
 * present ones, mount from another repository of the target registry, else stream and
 * verify), then child manifests by digest, then the tag — so a tag never points at
 * incomplete content. A blob shared by many images is uploaded once per run and mounted
 * everywhere else.
 */
import { Effect, Layer, Option } from "effect"
import { RegistryClient, withReference } from "../../src/oci/RegistryClient.ts"
import { shareOnce } from "../../src/oci/shareOnce.ts"
import { blobsOf, isIndex, parseManifest } from "../../src/domain/MediaTypes.ts"
import type { Descriptor } from "../../src/domain/MediaTypes.ts"
import { describeLocation, TagTaken, Transport, TransportFailure } from "../../src/pipeline/Transport.ts"
import type { CopyResult, ImageLocation, ManifestDescriptor, TransportError } from "../../src/pipeline/Transport.ts"

/** Settings of the oci transport. */
export interface OciTransportSettings {
  /** blobs copied at once within one image */
  readonly blobConcurrency: number
}

interface MutableStats {
  blobsCopied: number
  blobsMounted: number
  blobsSkipped: number
  bytesCopied: number
  manifestsPut: number
}

/** Builds the oci Transport from a RegistryClient. */
export const make = (settings: OciTransportSettings = { blobConcurrency: 4 }) =>
  Effect.gen(function*() {
    const client = yield* RegistryClient
    // target host + digest → the copy that is (or was) putting it there, and into which repository
    const blobHomes = new Map<string, Effect.Effect<string, TransportError>>()

    // target host + repository + digest → the one effect making that blob present there (siblings wait)
    const inFlight = new Map<string, Effect.Effect<void, TransportError>>()

    const ensureBlob = (source: ImageLocation, target: ImageLocation, blob: Descriptor, stats: MutableStats) =>
      Effect.gen(function*() {
        if (yield* client.hasBlob(target, blob.digest)) {
          stats.blobsSkipped++
          return
        }
        const key = `${target.endpoint.host} ${blob.digest}`
        const home = blobHomes.get(key)
        if (home) {
          const repo = yield* home.pipe(Effect.option)
          if (Option.isSome(repo) && repo.value !== target.repository) {
            const mounted = yield* client.mountBlob(target, blob.digest, repo.value).pipe(
              Effect.catchTags({ Unauthorized: () => Effect.succeed(false), TransportFailure: () => Effect.succeed(false) })
            )
            if (mounted) {
              stats.blobsMounted++
              return
            }
          } else if (Option.isSome(repo)) {
            stats.blobsSkipped++
            return
          }
        }
        const upload = client.copyBlob(source, target, blob.digest, blob.size).pipe(
          Effect.tap((n) =>
            Effect.sync(() => {
              stats.blobsCopied++
              stats.bytesCopied += n
            })
          ),
          Effect.as(target.repository)
        )
        // Created and registered without yielding, so a concurrent copy of the same blob waits for this one.
        const memo = shareOnce(upload)
        if (!home && !blobHomes.has(key)) blobHomes.set(key, memo)
        yield* memo.pipe(Effect.tapError(() => Effect.sync(() => blobHomes.get(key) === memo && blobHomes.delete(key))))
      })

    /** Makes a blob present in the target repository, once, however many children share it. */
    const copyBlob = (source: ImageLocation, target: ImageLocation, blob: Descriptor, stats: MutableStats) => {
      const key = `${target.endpoint.host} ${target.repository} ${blob.digest}`
      const running = inFlight.get(key)
      if (running) return running.pipe(Effect.tap(() => Effect.sync(() => stats.blobsSkipped++)))
      const memo = shareOnce(ensureBlob(source, target, blob, stats))
      inFlight.set(key, memo)
      return memo.pipe(Effect.ensuring(Effect.sync(() => inFlight.get(key) === memo && inFlight.delete(key))))
    }

    /** Copies one manifest (and what it references) so that it exists in the target by digest. */
    const copyManifest = (
      source: ImageLocation,
      target: ImageLocation,
      descriptor: { readonly digest: string },
      stats: MutableStats,
      tag: string | undefined
    ): Effect.Effect<void, TransportError> =>
      Effect.gen(function*() {
        if (tag === undefined) {
          // A child that is already there (shared between tags) needs nothing.
          const there = yield* client.headManifest(withReference(target, descriptor.digest))
          if (Option.isSome(there)) return
        }
        const raw = yield* client.getManifest(withReference(source, descriptor.digest))
        const parsed = yield* Effect.try({
          try: () => parseManifest(raw.bytes, raw.mediaType),
          catch: () => new TransportFailure({ transport: "oci", detail: `manifest ${raw.digest} is not valid JSON` })
        })
        if (isIndex(raw.mediaType)) {
          yield* Effect.forEach(parsed.manifests, (child) => copyManifest(source, target, child, stats, undefined), {
            concurrency: settings.blobConcurrency,
            discard: true
          })
        } else {
          yield* Effect.forEach(blobsOf(parsed), (blob) => copyBlob(source, target, blob, stats), {
            concurrency: settings.blobConcurrency,
            discard: true
          })
        }
        if (tag !== undefined) {
          // Last look before the tag is written: another syncer may have taken it meanwhile.
          const now = yield* client.headManifest(target)
          if (Option.isSome(now) && now.value.digest !== raw.digest) {
            return yield* new TagTaken({ target: describeLocation(target), expected: raw.digest, found: now.value.digest })
          }
          if (Option.isSome(now)) return
        }
        yield* client.putManifest(withReference(target, tag ?? raw.digest), raw.bytes, raw.mediaType)
        stats.manifestsPut++
      })

    const copy = (source: ImageLocation, target: ImageLocation, manifest: ManifestDescriptor) =>
      Effect.gen(function*() {
        const stats: MutableStats = { blobsCopied: 0, blobsMounted: 0, blobsSkipped: 0, bytesCopied: 0, manifestsPut: 0 }
        yield* copyManifest(source, target, manifest, stats, target.reference)
        return stats as CopyResult
      })

    return Transport.of({
      name: "oci",
      inspect: client.headManifest,
      manifest: client.getManifest,
      config: (image) =>
        Effect.gen(function*() {
          const raw = yield* client.getManifest(image)
          const parsed = parseManifest(raw.bytes, raw.mediaType)
          if (!parsed.config) {
            return yield* new TransportFailure({ transport: "oci", detail: `${raw.digest} has no config` })
          }
          return yield* client.getBlob(image, parsed.config.digest)
        }),
      referrers: client.referrers,
      copy
    })
  })

/** The oci transport layer; needs a RegistryClient. */
export const layer = (settings?: OciTransportSettings) => Layer.effect(Transport, make(settings))
