/**
 * Step 1, Resolve: where the source is read from, where it goes, and what it is (digest and
 * media type by HEAD). A pinned digest must be what the registry serves. What may be copied
 * is the platform rule of src/model/Platform.ts: an index whole, or with `platforms` the
 * subset of its children in an index of our own (src/model/PlatformSubset.ts; the source
 * index is read for that); a single-platform manifest only with `amd64Only: true` and a
 * linux/amd64 config, or with `platforms` naming its config's platform.
 */
import { Context, Effect, Either, Layer, Option } from "effect"
import { locate } from "../definition/Locate.ts"
import type { Definition, ImageEntry } from "../definition/Definition.ts"
import { DigestMismatch, PlatformMismatch, SourceNotFound, TransportFailure } from "../model/Errors.ts"
import type { TransportError } from "../model/Errors.ts"
import { withReference } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import { blobsOf, readManifest, walkTree } from "../model/Manifest.ts"
import type { ManifestDescriptor, RawManifest } from "../model/Manifest.ts"
import { formatPlatform, readConfigPlatform, singlePlatformProblem, sourceShape } from "../model/Platform.ts"
import type { Platform } from "../model/Platform.ts"
import { subsetIndex } from "../model/PlatformSubset.ts"
import { signatureTag } from "../model/Signatures.ts"
import { Transport } from "../transport/Transport.ts"
import type { TransportShape } from "../transport/Transport.ts"

/** An entry with its source and target located and its source manifest identified. */
export interface ResolvedImage {
  readonly entry: ImageEntry
  readonly source: ImageLocation
  readonly target: ImageLocation
  /** what the target tag holds or will hold */
  readonly manifest: ManifestDescriptor
  /** the index to write in place of the source's (a platform subset); undefined: the source's own */
  readonly root?: RawManifest | undefined
  /** the source's digest (another than manifest's for a platform subset) */
  readonly sourceDigest: string
  /** what the platform check read of a single-platform source: the copy reads neither again (a manifest GET is a pull on Docker Hub) */
  readonly fetched?: PlatformRead | undefined
  readonly warnings: ReadonlyArray<string>
}

/** A single-platform source as the platform check read it: the manifest, its config blob (verified) and the platform it names. */
export interface PlatformRead {
  readonly manifest: RawManifest
  readonly config: { readonly digest: string; readonly bytes: Uint8Array }
  readonly platform: Platform
}

/** Errors of the Resolve step. */
export type ResolveError = SourceNotFound | PlatformMismatch | TransportError

/** A single-platform manifest (by digest) and its config blob as read, with the platform the config names. */
export const readPlatform = (transport: TransportShape, image: ImageLocation, digest: string): Effect.Effect<PlatformRead, TransportError> =>
  Effect.gen(function*() {
    const at = withReference(image, digest)
    const manifest = yield* transport.manifest(at)
    const parsed = yield* readManifest(manifest, transport.name)
    if (!parsed.config) return yield* new TransportFailure({ transport: transport.name, detail: `${digest} has no config` })
    const bytes = yield* transport.blob(at, parsed.config.digest)
    return { manifest, config: { digest: parsed.config.digest, bytes }, platform: readConfigPlatform(bytes) }
  })

/** The platform a single-platform manifest's config names (manifest by digest, then its config blob). */
export const platformOf = (transport: TransportShape, image: ImageLocation, digest: string) =>
  Effect.map(readPlatform(transport, image, digest), (r) => r.platform)

/** The Resolve service. */
export class Resolve extends Context.Tag("syncer/Resolve")<Resolve, {
  /** Locates and identifies one entry (HEAD only). */
  readonly resolve: (entry: ImageEntry, definition: Definition) => Effect.Effect<ResolvedImage, ResolveError>
  /** Bytes of the source image (manifests, configs, layers; each blob once), for `plan`. */
  readonly size: (image: ResolvedImage) => Effect.Effect<number, TransportError>
  /**
   * A pinned entry found in the target under its digest: the image as the target describes it
   * (same digest, same content), with the warnings the source would have given.
   */
  readonly resolvedFromTarget: (
    entry: ImageEntry,
    located: { readonly source: ImageLocation; readonly target: ImageLocation },
    manifest: ManifestDescriptor
  ) => ResolvedImage
  /** For single-platform sources: reads the config and applies the platform rule (done only before a copy); what it read, for the copy. */
  readonly checkPlatform: (image: ResolvedImage) => Effect.Effect<PlatformRead | undefined, ResolveError>
}>() {
  /** The live step, on the Transport. */
  static layer = Layer.effect(
    Resolve,
    Effect.gen(function*() {
      const transport = yield* Transport

      const resolve = (entry: ImageEntry, definition: Definition) =>
        Effect.gen(function*() {
          const { source, target } = locate(entry, definition)
          const found = yield* transport.inspect(source)
          if (Option.isNone(found)) {
            return yield* new SourceNotFound({ source: entry.source, location: `${source.endpoint.host}/${source.repository}` })
          }
          const manifest = found.value
          if (entry.reference.digest && manifest.digest !== entry.reference.digest) {
            return yield* new DigestMismatch({ what: entry.source, expected: entry.reference.digest, actual: manifest.digest })
          }
          const shape = yield* Either.match(sourceShape(entry, manifest.mediaType), { onLeft: Effect.fail, onRight: Effect.succeed })
          if (shape.kind === "single" && !entry.amd64Only && entry.platforms === undefined) {
            // Fails either way; the config makes the message say what the image is. A config that
            // cannot be read is that error (a digest mismatch, a missing blob), not an unknown platform.
            const platform = yield* platformOf(transport, source, manifest.digest)
            const problem = singlePlatformProblem(entry, platform)
            if (problem) return yield* problem
          }
          const resolved: ResolvedImage = {
            entry,
            source,
            target,
            manifest,
            sourceDigest: manifest.digest,
            warnings: shape.kind === "index" ? shape.warnings : []
          }
          return shape.kind === "index" && entry.platforms !== undefined ? yield* subset(resolved, entry.platforms) : resolved
        })

      /** The platform subset of a resolved index: its own index (unless every child is listed), the source's signatures not carried. */
      const subset = (image: ResolvedImage, platforms: NonNullable<ImageEntry["platforms"]>) =>
        Effect.gen(function*() {
          const raw = yield* transport.manifest(withReference(image.source, image.manifest.digest))
          const cut = subsetIndex(raw, platforms)
          if (Either.isLeft(cut)) {
            const { missing, offered } = cut.left
            return yield* new PlatformMismatch({
              source: image.entry.source,
              detail: `the index has no ${missing.join(", ")} (platforms lists ${platforms.map(formatPlatform).join(", ")}; the index offers ${
                offered.join(", ") || "nothing"
              })`
            })
          }
          if (!cut.right.filtered) return image
          const index = cut.right.index
          // Signatures made over the source index do not verify for ours: they stay behind, and the image says so.
          const signed = Option.isSome(yield* transport.inspect(withReference(image.source, signatureTag(image.manifest.digest))))
          const warnings = signed
            ? [
              ...image.warnings,
              `the source index's signatures (over ${image.manifest.digest}) are not carried: they do not verify for the platform subset ${index.digest}`
            ]
            : image.warnings
          return { ...image, manifest: { digest: index.digest, mediaType: index.mediaType, size: index.size }, root: index, warnings }
        })

      const checkPlatform = (image: ResolvedImage) =>
        Effect.gen(function*() {
          if (Either.getOrUndefined(sourceShape(image.entry, image.manifest.mediaType))?.kind !== "single") return undefined
          const read = yield* readPlatform(transport, image.source, image.manifest.digest)
          const problem = singlePlatformProblem(image.entry, read.platform)
          if (problem) return yield* problem
          return read
        })

      const size = (image: ResolvedImage) =>
        Effect.gen(function*() {
          const seen = new Set<string>()
          let total = 0
          const root = image.root ?? image.fetched?.manifest ?? (yield* transport.manifest(withReference(image.source, image.manifest.digest)))
          yield* walkTree(root, {
            child: (d) => transport.manifest(withReference(image.source, d.digest)),
            manifest: (raw, parsed) =>
              Effect.sync(() => {
                total += raw.size
                for (const blob of blobsOf(parsed)) {
                  if (seen.has(blob.digest)) continue
                  seen.add(blob.digest)
                  total += blob.size
                }
              })
          }, { concurrency: 4, who: transport.name })
          return total
        })

      const resolvedFromTarget = (
        entry: ImageEntry,
        located: { readonly source: ImageLocation; readonly target: ImageLocation },
        manifest: ManifestDescriptor
      ): ResolvedImage => {
        const shape = Either.getOrUndefined(sourceShape(entry, manifest.mediaType))
        return { entry, ...located, manifest, sourceDigest: manifest.digest, warnings: shape?.kind === "index" ? shape.warnings : [] }
      }

      return {
        size,
        resolvedFromTarget,
        resolve: (entry, definition) =>
          resolve(entry, definition).pipe(
            Effect.catchTag("ImageNotFound", (e) => Effect.fail(new SourceNotFound({ source: entry.source, location: e.image })))
          ),
        checkPlatform
      }
    })
  )
}
