/**
 * Export, the connected side of an air-gapped sync: each definition entry's source (read
 * through `registries` mirrors, as the sync does) is copied into an OCI image layout through
 * the export Transport — the whole manifest (index and every child, byte-exact), its blobs,
 * and the upstream signatures of its digest (Upstream.ts). The platform rule is the sync's.
 * Blobs and manifests already in the layout are not read again; an image's ref names enter
 * index.json only once everything they reach is on disk, and a moved tag replaces its ref.
 */
import { Context, Effect, Either, Layer, Option } from "effect"
import type { Definition, ImageEntry } from "../definition/Definition.ts"
import { sourceLocation } from "../definition/Locate.ts"
import { DigestMismatch, SourceNotFound } from "../model/Errors.ts"
import type { PlatformMismatch, TransportError } from "../model/Errors.ts"
import { withReference } from "../model/Location.ts"
import type { Endpoint, ImageLocation } from "../model/Location.ts"
import type { ManifestDescriptor } from "../model/Manifest.ts"
import { singlePlatformProblem, sourceShape } from "../model/Platform.ts"
import type { Platform } from "../model/Platform.ts"
import { refNameOfLocation } from "../layout/LayoutStore.ts"
import { SOURCE_ANNOTATION } from "../layout/OciLayout.ts"
import { noCopy, Transport } from "../transport/Transport.ts"
import type { CopyResult, TransportShape } from "../transport/Transport.ts"
import { Expand } from "./Expand.ts"
import { imageWork } from "./ImageWork.ts"
import { platformOf, readPlatform } from "./Resolve.ts"
import type { PlatformRead } from "./Resolve.ts"
import { TagLists } from "./TagLists.ts"
import type { ListTags } from "./TagLists.ts"
import { makeCarryUpstream } from "./Upstream.ts"
import type { Carried } from "./Upstream.ts"

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
export type ExportError = SourceNotFound | PlatformMismatch | TransportError

/** What exporting one image came to: its result, or the error that stopped it. */
export type ExportOutcome = { readonly entry: ImageEntry; readonly result: ExportedImage } | { readonly entry: ImageEntry; readonly error: string }

/** The side of a location in the layout: the registry's identity names it, there is no host to contact. */
const layoutEndpoint = (registry: string): Endpoint => ({ registry, host: "layout", scheme: "https", skipTlsVerify: false, role: "target" })

/** Where an entry's source goes in the layout: named `registry/repository[:tag][@digest]` as written. */
export const layoutLocation = (entry: ImageEntry): ImageLocation => {
  const ref = entry.reference
  // A tag and a digest together stay in one ref name ("…:1.36@sha256:…"), as Docker writes them.
  // A digest alone is named by itself ("@sha256:…"; see refNameOfLocation).
  const reference = ref.tag !== undefined && ref.digest !== undefined
    ? `${ref.tag}@${ref.digest}`
    : ref.digest !== undefined
    ? `@${ref.digest}`
    : ref.tag ?? "latest"
  return { endpoint: layoutEndpoint(ref.registry), repository: ref.repository, reference }
}

/** How the export names a carried artifact: "sha256-….sig", "sha256-… (referrers)". */
const upstreamLabel = (c: Carried): string => (c.kind === "tag" ? c.tag : c.kind === "refused" ? `${c.artifact} (refused)` : `${c.tag} (referrers)`)

/** The LayoutExport service: one definition entry into the layout behind the export Transport. */
export class LayoutExport extends Context.Tag("syncer/LayoutExport")<LayoutExport, {
  readonly exportImage: (entry: ImageEntry, definition: Definition) => Effect.Effect<ExportedImage, ExportError>
}>() {
  /** The live export on the export Transport. */
  static layer = Layer.effect(
    LayoutExport,
    Effect.zipWith(Transport, TagLists, (transport, tagLists) => ({ exportImage: make(transport, tagLists.of) }))
  )
}

/**
 * The annotations of each ref name an export writes: the entry's `source` as written
 * (`io.image-syncer.source`) — for a signature or referrers tag, that of the first entry of
 * the same repository.
 */
export const sourceAnnotations = (definition: Definition) => {
  const byName = new Map<string, string>()
  const byRepository = new Map<string, string>()
  // A tags rule's images are named after expansion: "repository:tag" is the rule's source plus ":tag".
  const rules = new Map<string, string>()
  for (const entry of definition.images) {
    const top = layoutLocation(entry)
    const repository = `${top.endpoint.registry}/${top.repository}`
    if (entry.tags !== undefined) rules.set(repository, entry.source)
    else byName.set(refNameOfLocation(top), entry.source)
    if (!byRepository.has(repository)) byRepository.set(repository, entry.source)
  }
  const ofRule = (refName: string): string | undefined => {
    const colon = refName.lastIndexOf(":")
    const rule = rules.get(refName.slice(0, colon))
    const tag = refName.slice(colon + 1)
    return rule === undefined || tag.startsWith("sha256-") ? undefined : `${rule}:${tag}`
  }
  return (refName: string): Readonly<Record<string, string>> => {
    const source = byName.get(refName) ?? ofRule(refName) ?? byRepository.get(refName.slice(0, refName.lastIndexOf(":")))
    return source === undefined ? {} : { [SOURCE_ANNOTATION]: source }
  }
}

/**
 * Exports every entry (`concurrency` at once), `tags` rules expanded first; each image's error
 * becomes its outcome, and the others go on. `onOutcome` sees each outcome as it comes; all of
 * them come back in definition order.
 */
export const exportAll = (
  definition: Definition,
  concurrency: number,
  onOutcome: (outcome: ExportOutcome) => Effect.Effect<void>
): Effect.Effect<ReadonlyArray<ExportOutcome>, never, LayoutExport | Expand> =>
  Effect.gen(function*() {
    const exporter = yield* LayoutExport
    const { slots } = yield* (yield* Expand).expand(definition)
    return yield* Effect.forEach(slots, (slot) => {
      if (slot._tag === "Known") {
        // a rule that selected nothing (or whose tags could not be listed)
        const known = slot.results[0]!
        const rule = definition.images.find((e) => e.source === known.source)!
        const outcome: ExportOutcome = { entry: rule, error: known.error ?? "no tag selected" }
        return Effect.as(onOutcome(outcome), outcome)
      }
      const entry = slot.entry
      const work = exporter.exportImage(entry, definition).pipe(
        Effect.tap((r) => Effect.forEach(r.warnings, (w) => Effect.logWarning(`${entry.source}: ${w}`))),
        Effect.either,
        Effect.map((r): ExportOutcome => (Either.isRight(r) ? { entry, result: r.right } : { entry, error: r.left.message }))
      )
      return Effect.tap(imageWork(entry.source, work, (error): ExportOutcome => ({ entry, error })), onOutcome)
    }, { concurrency })
  })

const make = (transport: TransportShape, listTags: ListTags) => {
  const carryUpstream = makeCarryUpstream(transport, listTags)
  /** Copies the tree by digest (nothing when the layout holds it: a stored manifest has all it references), then names it. */
  const store = (source: ImageLocation, target: ImageLocation, manifest: ManifestDescriptor, read: PlatformRead | undefined) =>
    Effect.gen(function*() {
      const byDigest = withReference(target, manifest.digest)
      const there = yield* transport.inspect(byDigest)
      // What the platform check read from the source is handed over, not read again.
      const copied: CopyResult = Option.isSome(there)
        ? noCopy()
        : yield* transport.copy(source, byDigest, manifest, read?.manifest, read && new Map([[read.config.digest, read.config.bytes]]))
      const raw = yield* transport.manifest(byDigest)
      yield* transport.putManifest(target, raw.bytes, raw.mediaType)
      return copied
    })

  return (entry: ImageEntry, definition: Definition): Effect.Effect<ExportedImage, ExportError> =>
    Effect.gen(function*() {
      const source = sourceLocation(entry, definition)
      const target = layoutLocation(entry)
      const found = yield* transport.inspect(source).pipe(
        Effect.catchTag("ImageNotFound", () => Effect.succeed(Option.none<ManifestDescriptor>()))
      )
      if (Option.isNone(found)) {
        return yield* new SourceNotFound({ source: entry.source, location: `${source.endpoint.host}/${source.repository}` })
      }
      const manifest = found.value
      if (entry.reference.digest && manifest.digest !== entry.reference.digest) {
        return yield* new DigestMismatch({ what: `${source.repository}@${entry.reference.digest}`, expected: entry.reference.digest, actual: manifest.digest })
      }
      // The sync's platform rule, applied before anything big is downloaded.
      const shape = yield* Either.match(sourceShape(entry, manifest.mediaType, "exported"), { onLeft: Effect.fail, onRight: Effect.succeed })
      let read: PlatformRead | undefined
      if (shape.kind === "single") {
        // The layout may hold the manifest and its config from an earlier export: read them there first.
        const stored = yield* platformOf(transport, withReference(target, manifest.digest), manifest.digest).pipe(
          Effect.map(Option.some),
          Effect.catchTag("ImageNotFound", () => Effect.succeed(Option.none<Platform>()))
        )
        if (Option.isNone(stored)) read = yield* readPlatform(transport, source, manifest.digest)
        const problem = singlePlatformProblem(entry, Option.isSome(stored) ? stored.value : read!.platform)
        if (problem) return yield* problem
      }
      const copied = yield* store(withReference(source, manifest.digest), target, manifest, read)
      const upstream = yield* carryUpstream(source, withReference(target, manifest.digest), manifest.digest, { replace: true })
      const refName = refNameOfLocation(target)
      yield* Effect.logDebug(`${entry.source}: ${copied.blobsCopied} blob(s) downloaded, ${copied.blobsSkipped + copied.blobsMounted} already in the layout`)
      return {
        source: entry.source,
        refName,
        digest: manifest.digest,
        upstream: upstream.map(upstreamLabel),
        warnings: shape.kind === "index" ? shape.warnings : [],
        blobsWritten: copied.blobsCopied,
        blobsPresent: copied.blobsSkipped + copied.blobsMounted
      } satisfies ExportedImage
    })
}
