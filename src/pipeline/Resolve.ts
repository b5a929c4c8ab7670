/**
 * Step 1, Resolve: where the source is read from, where it goes, and what it is (digest and
 * media type by HEAD). A pinned digest must be what the registry serves. An index is copied
 * whole; a single-platform manifest only with `amd64Only: true` and a linux/amd64 config.
 */
import { Context, Data, Effect, Layer, Option } from "effect"
import type { Definition, ImageEntry } from "../domain/Definition.ts"
import { blobsOf, formatPlatform, isImageManifest, isIndex, parseManifest } from "../domain/MediaTypes.ts"
import { endpointFor } from "./Endpoints.ts"
import { DigestMismatch, ImageNotFound, Transport, TransportFailure } from "./Transport.ts"
import type { ImageLocation, ManifestDescriptor, TransportError } from "./Transport.ts"

/** An entry with its source and target located and its source manifest identified. */
export interface ResolvedImage {
  readonly entry: ImageEntry
  readonly source: ImageLocation
  readonly target: ImageLocation
  readonly manifest: ManifestDescriptor
  readonly warnings: ReadonlyArray<string>
}

/** The source image (tag or digest) does not exist. */
export class SourceNotFound extends Data.TaggedError("SourceNotFound")<{ readonly source: string; readonly location: string }> {
  override get message() {
    return `source image ${this.source} not found (looked up ${this.location})`
  }
}

/** The source is not something we may copy under the entry's settings. */
export class PlatformMismatch extends Data.TaggedError("PlatformMismatch")<{ readonly source: string; readonly detail: string }> {
  override get message() {
    return `${this.source}: ${this.detail}`
  }
}

/** Where an entry is read from and where it goes (no request). */
export const locate = (entry: ImageEntry, definition: Definition): { readonly source: ImageLocation; readonly target: ImageLocation } => {
  const ref = entry.reference
  return {
    source: {
      endpoint: endpointFor(ref.registry, definition.registries, "source"),
      repository: ref.repository,
      // A digest wins over a tag, as in Docker: `name:tag@sha256:…` is the digest.
      reference: ref.digest ?? ref.tag ?? "latest"
    },
    target: {
      endpoint: endpointFor(entry.target.registry, definition.registries, "target"),
      repository: entry.target.repository,
      reference: entry.target.tag
    }
  }
}

/** Errors of the Resolve step. */
export type ResolveError = SourceNotFound | PlatformMismatch | TransportError

/** The Resolve service. */
export class Resolve extends Context.Tag("syncer/Resolve")<Resolve, {
  /** Locates and identifies one entry (HEAD only). */
  readonly resolve: (entry: ImageEntry, definition: Definition) => Effect.Effect<ResolvedImage, ResolveError>
  /** Bytes of the source image (manifests, configs, layers; each blob once), for `plan`. */
  readonly size: (image: ResolvedImage) => Effect.Effect<number, TransportError>
  /** For single-platform sources: reads the config and checks it is linux/amd64 (done only before a copy). */
  readonly checkPlatform: (image: ResolvedImage) => Effect.Effect<void, ResolveError>
}>() {
  /** The live step, on the Transport. */
  static layer = Layer.effect(
    Resolve,
    Effect.gen(function*() {
      const transport = yield* Transport

      const resolve = (entry: ImageEntry, definition: Definition) =>
        Effect.gen(function*() {
          const ref = entry.reference
          const { source, target } = locate(entry, definition)
          const found = yield* transport.inspect(source)
          if (Option.isNone(found)) {
            return yield* new SourceNotFound({ source: entry.source, location: `${source.endpoint.host}/${source.repository}` })
          }
          const manifest = found.value
          if (ref.digest && manifest.digest !== ref.digest) {
            return yield* new DigestMismatch({ what: entry.source, expected: ref.digest, actual: manifest.digest })
          }
          const warnings: Array<string> = []
          if (isIndex(manifest.mediaType)) {
            if (entry.amd64Only) {
              warnings.push("amd64Only has no effect: the source is a multi-platform index and is copied whole")
            }
          } else if (isImageManifest(manifest.mediaType)) {
            if (!entry.amd64Only) {
              // A config that cannot be read is that error (a digest mismatch, a missing blob), not an unknown platform.
              const platform = yield* platformOf(source, manifest)
              return yield* new PlatformMismatch({
                source: entry.source,
                detail: platform === "linux/amd64"
                  ? "the source is a single-platform image (linux/amd64), not a multi-platform index; add `amd64Only: true` to this entry to sync it"
                  : `the source is a single-platform ${platform} image, not a multi-platform index; only linux/amd64 single-platform images can be synced (with \`amd64Only: true\`)`
              })
            }
          } else {
            return yield* new PlatformMismatch({
              source: entry.source,
              detail: `unsupported manifest media type ${manifest.mediaType || "(none)"}`
            })
          }
          return { entry, source, target, manifest, warnings }
        })

      const platformOf = (source: ImageLocation, manifest: ManifestDescriptor) =>
        Effect.gen(function*() {
          const config = yield* transport.config({ ...source, reference: manifest.digest })
          const json = yield* Effect.try({
            try: () => JSON.parse(new TextDecoder().decode(config)) as { os?: string; architecture?: string; variant?: string },
            catch: () => new TransportFailure({ transport: transport.name, detail: `config of ${manifest.digest} is not JSON` })
          })
          return formatPlatform({ os: json.os ?? "", architecture: json.architecture ?? "", ...(json.variant ? { variant: json.variant } : {}) })
        })

      const checkPlatform = (image: ResolvedImage) =>
        isIndex(image.manifest.mediaType)
          ? Effect.void
          : platformOf(image.source, image.manifest).pipe(
            Effect.flatMap((platform) =>
              platform === "linux/amd64"
                ? Effect.void
                : Effect.fail(
                  new PlatformMismatch({
                    source: image.entry.source,
                    detail: `amd64Only is set but the image is ${platform}, not linux/amd64`
                  })
                )
            )
          )

      const size = (image: ResolvedImage) =>
        Effect.gen(function*() {
          const seen = new Set<string>()
          let total = 0
          const walk = (digest: string): Effect.Effect<void, TransportError> =>
            Effect.gen(function*() {
              const raw = yield* transport.manifest({ ...image.source, reference: digest })
              total += raw.size
              const parsed = parseManifest(raw.bytes, raw.mediaType)
              for (const child of parsed.manifests) yield* walk(child.digest)
              for (const blob of blobsOf(parsed)) {
                if (seen.has(blob.digest)) continue
                seen.add(blob.digest)
                total += blob.size
              }
            })
          yield* walk(image.manifest.digest)
          return total
        })

      return {
        size,
        resolve: (entry, definition) =>
          resolve(entry, definition).pipe(
            Effect.catchTag("ImageNotFound", (e: ImageNotFound) => Effect.fail(new SourceNotFound({ source: entry.source, location: e.image })))
          ),
        checkPlatform
      }
    })
  )
}
