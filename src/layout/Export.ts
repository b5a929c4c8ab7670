/**
 * Export, the connected side of an air-gapped sync: each definition entry's source (read
 * through `registries` mirrors, as the sync does) is written into an OCI image layout —
 * the whole manifest (index and every child, byte-exact), its blobs, and the upstream
 * signatures of its digest (cosign `.sig`/`.att`/`.sbom` tags, OCI referrers or their
 * fallback tag). Blobs already in the layout are not downloaded again. An image's ref names
 * enter index.json only once everything they reach is on disk.
 */
import { Context, Effect, Layer, Option } from "effect"
import type { Definition, ImageEntry } from "../domain/Definition.ts"
import { blobsOf, formatPlatform, isImageManifest, isIndex, OCI_INDEX, parseManifest } from "../domain/MediaTypes.ts"
import type { Descriptor } from "../domain/MediaTypes.ts"
import { formatReference } from "../domain/Reference.ts"
import { RegistryClient, sha256Digest, withReference } from "../oci/RegistryClient.ts"
import { endpointFor } from "../pipeline/Endpoints.ts"
import { PlatformMismatch, SourceNotFound } from "../pipeline/Resolve.ts"
import { DigestMismatch, TransportFailure } from "../pipeline/Transport.ts"
import type { ImageLocation, RawManifest, TransportError } from "../pipeline/Transport.ts"
import { signatureTag } from "../signing/SimpleSigning.ts"
import type { LayoutWriter } from "./LayoutWriter.ts"
import { REF_NAME, refNameOf, SOURCE_ANNOTATION } from "./OciLayout.ts"
import type { LayoutDescriptor, LayoutIoFailed } from "./OciLayout.ts"

/** What exporting one entry did. */
export interface ExportedImage {
  /** the entry's `source` as written */
  readonly source: string
  /** the ref name of the image in index.json */
  readonly refName: string
  readonly digest: string
  /** upstream artifacts stored along: "sha256-….sig", "sha256-… (referrers)" */
  readonly upstream: ReadonlyArray<string>
  readonly warnings: ReadonlyArray<string>
  /** blobs (configs, layers) downloaded now */
  readonly blobsWritten: number
  /** blobs that were already in the layout */
  readonly blobsPresent: number
}

/** Errors of exporting one entry. */
export type ExportError = SourceNotFound | PlatformMismatch | TransportError | LayoutIoFailed

/** Settings of the export. */
export interface ExportSettings {
  /** blobs and child manifests fetched at once within one image */
  readonly blobConcurrency: number
}

/** The suffixes of cosign's tags next to a digest. */
const COSIGN_SUFFIXES = [".sig", ".att", ".sbom"] as const

const isDigest = (reference: string) => reference.startsWith("sha256:")

/** The LayoutExport service: one definition entry into a layout. */
export class LayoutExport extends Context.Tag("syncer/LayoutExport")<LayoutExport, {
  readonly exportImage: (entry: ImageEntry, definition: Definition, layout: LayoutWriter) => Effect.Effect<ExportedImage, ExportError>
}>() {
  /** The live export on the RegistryClient (used read-only). */
  static layer = (settings: ExportSettings = { blobConcurrency: 4 }) => Layer.effect(LayoutExport, make(settings))
}

interface Stats {
  written: number
  present: number
}

const make = (settings: ExportSettings) =>
  Effect.gen(function*() {
    const client = yield* RegistryClient

    const parse = (raw: RawManifest) =>
      Effect.try({
        try: () => parseManifest(raw.bytes, raw.mediaType),
        catch: () => new TransportFailure({ transport: "export", detail: `manifest ${raw.digest} is not valid JSON` })
      })

    /** A manifest by digest: from the layout when it is there (verified), else from the registry (verified). */
    const manifestByDigest = (layout: LayoutWriter, location: ImageLocation, d: { readonly digest: string; readonly mediaType: string; readonly size?: number }) =>
      Effect.gen(function*() {
        if (d.size !== undefined && (yield* layout.hasBlob(d.digest, d.size))) {
          const bytes = yield* layout.readBlob(d.digest)
          return { digest: d.digest, mediaType: parseManifest(bytes, d.mediaType).mediaType, size: bytes.length, bytes } satisfies RawManifest
        }
        return yield* client.getManifest(withReference(location, d.digest))
      })

    /**
     * The manifest at `location` (tag or digest); None when the registry has none. A tag is
     * HEADed, then read by digest — from the layout if an earlier export stored it.
     */
    const resolveManifest = (layout: LayoutWriter, location: ImageLocation) =>
      Effect.gen(function*() {
        const head = yield* client.headManifest(location)
        if (Option.isNone(head)) return Option.none<RawManifest>()
        if (isDigest(location.reference) && head.value.digest !== location.reference) {
          return yield* new DigestMismatch({ what: `${location.repository}@${location.reference}`, expected: location.reference, actual: head.value.digest })
        }
        return Option.some(yield* manifestByDigest(layout, location, head.value))
      })

    /** Writes a manifest, everything it references, and its own bytes into the layout. */
    const saveTree = (layout: LayoutWriter, location: ImageLocation, raw: RawManifest, stats: Stats): Effect.Effect<void, ExportError> =>
      Effect.gen(function*() {
        const parsed = yield* parse(raw)
        if (isIndex(raw.mediaType)) {
          yield* Effect.forEach(parsed.manifests, (child) =>
            manifestByDigest(layout, location, child).pipe(Effect.flatMap((m) => saveTree(layout, location, m, stats))), {
            concurrency: settings.blobConcurrency,
            discard: true
          })
        } else {
          yield* Effect.forEach(blobsOf(parsed), (blob) => saveBlob(layout, location, blob, stats), {
            concurrency: settings.blobConcurrency,
            discard: true
          })
        }
        yield* layout.ensureBlob(raw.digest, raw.size, Effect.succeed(raw.bytes))
      })

    const saveBlob = (layout: LayoutWriter, location: ImageLocation, blob: Descriptor, stats: Stats) =>
      layout.ensureBlob(blob.digest, blob.size, Effect.succeed(client.blobStream(location, blob.digest, blob.size))).pipe(
        Effect.tap((outcome) => Effect.sync(() => void (outcome === "written" ? stats.written++ : stats.present++)))
      )

    /** Resolve's platform rules, applied before anything big is downloaded. */
    const checkPlatform = (layout: LayoutWriter, entry: ImageEntry, location: ImageLocation, raw: RawManifest, stats: Stats) =>
      Effect.gen(function*() {
        if (isIndex(raw.mediaType)) {
          return entry.amd64Only ? ["amd64Only has no effect: the source is a multi-platform index and is exported whole"] : []
        }
        if (!isImageManifest(raw.mediaType)) {
          return yield* new PlatformMismatch({ source: entry.source, detail: `unsupported manifest media type ${raw.mediaType || "(none)"}` })
        }
        const config = (yield* parse(raw)).config
        if (!config) return yield* new TransportFailure({ transport: "export", detail: `${raw.digest} has no config` })
        yield* saveBlob(layout, location, config, stats)
        const json = yield* layout.readBlob(config.digest).pipe(
          Effect.map((bytes) => {
            try {
              return JSON.parse(new TextDecoder().decode(bytes)) as { os?: string; architecture?: string; variant?: string }
            } catch {
              return {}
            }
          })
        )
        const platform = formatPlatform({ os: json.os ?? "", architecture: json.architecture ?? "", ...(json.variant ? { variant: json.variant } : {}) })
        if (!entry.amd64Only) {
          return yield* new PlatformMismatch({
            source: entry.source,
            detail: platform === "linux/amd64"
              ? "the source is a single-platform image (linux/amd64), not a multi-platform index; add `amd64Only: true` to this entry to sync it"
              : `the source is a single-platform ${platform} image, not a multi-platform index; only linux/amd64 single-platform images can be synced (with \`amd64Only: true\`)`
          })
        }
        if (platform !== "linux/amd64") {
          return yield* new PlatformMismatch({ source: entry.source, detail: `amd64Only is set but the image is ${platform}, not linux/amd64` })
        }
        return []
      })

    /** Upstream signatures of `digest`: cosign tags, then referrers (API, else the fallback tag). */
    const upstreamOf = (layout: LayoutWriter, location: ImageLocation, digest: string, stats: Stats) =>
      Effect.gen(function*() {
        const found: Array<{ readonly tag: string; readonly raw: RawManifest; readonly label: string }> = []
        const byTag = (tag: string, label: string) =>
          Effect.gen(function*() {
            const raw = yield* resolveManifest(layout, withReference(location, tag))
            if (Option.isNone(raw)) return
            yield* saveTree(layout, location, raw.value, stats)
            found.push({ tag, raw: raw.value, label })
          })
        for (const suffix of COSIGN_SUFFIXES) yield* byTag(signatureTag(digest, suffix), signatureTag(digest, suffix))
        const fallbackTag = signatureTag(digest, "")
        const api = yield* client.referrers(location, digest)
        if (Option.isNone(api)) {
          yield* byTag(fallbackTag, `${fallbackTag} (referrers)`)
        } else {
          const referrers = (yield* parse(api.value)).manifests
          if (referrers.length > 0) {
            yield* Effect.forEach(referrers, (d) =>
              manifestByDigest(layout, location, d).pipe(Effect.flatMap((m) => saveTree(layout, location, m, stats))), {
              concurrency: settings.blobConcurrency,
              discard: true
            })
            // Stored as the fallback index, which the import side carries through the transport like any tag.
            const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: referrers }))
            const raw: RawManifest = { digest: sha256Digest(bytes), mediaType: OCI_INDEX, size: bytes.length, bytes }
            yield* layout.ensureBlob(raw.digest, raw.size, Effect.succeed(bytes))
            found.push({ tag: fallbackTag, raw, label: `${fallbackTag} (referrers)` })
          }
        }
        return found
      })

    const exportImage = (entry: ImageEntry, definition: Definition, layout: LayoutWriter) =>
      Effect.gen(function*() {
        const ref = entry.reference
        const location: ImageLocation = {
          endpoint: endpointFor(ref.registry, definition.registries, "source"),
          repository: ref.repository,
          // A digest wins over a tag, as in Resolve.
          reference: ref.digest ?? ref.tag ?? "latest"
        }
        const stats: Stats = { written: 0, present: 0 }
        const top = yield* resolveManifest(layout, location).pipe(
          Effect.catchTag("ImageNotFound", () => Effect.succeed(Option.none<RawManifest>()))
        )
        if (Option.isNone(top)) {
          return yield* new SourceNotFound({ source: entry.source, location: `${location.endpoint.host}/${location.repository}` })
        }
        const raw = top.value
        const warnings = yield* checkPlatform(layout, entry, location, raw, stats)
        yield* saveTree(layout, location, raw, stats)
        const upstream = yield* upstreamOf(layout, location, raw.digest, stats)

        const refName = formatReference(ref)
        const repository = `${ref.registry}/${ref.repository}`
        const descriptor = (m: RawManifest, name: string): LayoutDescriptor => ({
          mediaType: m.mediaType,
          digest: m.digest,
          size: m.size,
          annotations: { [REF_NAME]: name, [SOURCE_ANNOTATION]: entry.source }
        })
        // Last: a ref name never points at content that is not all on disk.
        yield* layout.putRefs([
          descriptor(raw, refName),
          ...upstream.map((u) => descriptor(u.raw, refNameOf(ref.registry, ref.repository, u.tag)))
        ])
        yield* Effect.logDebug(`${entry.source}: ${stats.written} blob(s) downloaded, ${stats.present} already in the layout (${repository})`)
        return {
          source: entry.source,
          refName,
          digest: raw.digest,
          upstream: upstream.map((u) => u.label),
          warnings,
          blobsWritten: stats.written,
          blobsPresent: stats.present
        } satisfies ExportedImage
      })

    return { exportImage }
  })
