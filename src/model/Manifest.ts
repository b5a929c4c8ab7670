/**
 * Manifests as bytes and what they reference: descriptors, the parts of a manifest we read
 * (never re-serialised: digests are over the exact bytes), and the one walk of a manifest tree
 * (an index and its children, children first) that copy, export, size and layout checks share.
 */
import { Effect } from "effect"
import { TransportFailure } from "./Errors.ts"
import { OCI_INDEX, OCI_MANIFEST } from "./MediaTypes.ts"
import type { Platform } from "./Platform.ts"

/** A manifest's identity without its bytes. */
export interface ManifestDescriptor {
  readonly digest: string
  readonly mediaType: string
  readonly size: number
}

/** A manifest with its exact bytes. */
export interface RawManifest extends ManifestDescriptor {
  readonly bytes: Uint8Array
}

/** A content descriptor, as found in manifests. */
export interface Descriptor {
  readonly mediaType: string
  readonly digest: string
  readonly size: number
  readonly urls?: ReadonlyArray<string>
  readonly platform?: Platform
  readonly annotations?: Readonly<Record<string, string>>
  readonly artifactType?: string
}

/** What a manifest references, read from its exact bytes. */
export interface ParsedManifest {
  readonly mediaType: string
  /** index children (empty for an image manifest) */
  readonly manifests: ReadonlyArray<Descriptor>
  /** config blob (image manifests only) */
  readonly config: Descriptor | undefined
  /** layer blobs (image manifests only) */
  readonly layers: ReadonlyArray<Descriptor>
  readonly subject: Descriptor | undefined
}

const decoder = new TextDecoder()

/** Reads the references out of manifest bytes; `fallbackMediaType` is the response Content-Type. Throws on invalid JSON. */
export const parseManifest = (bytes: Uint8Array, fallbackMediaType: string): ParsedManifest => {
  const json = JSON.parse(decoder.decode(bytes)) as {
    mediaType?: string
    manifests?: Array<Descriptor>
    config?: Descriptor
    layers?: Array<Descriptor>
    subject?: Descriptor
  }
  const mediaType = json.mediaType ?? fallbackMediaType
  return {
    mediaType,
    manifests: json.manifests ?? [],
    config: json.config,
    layers: json.layers ?? [],
    subject: json.subject
  }
}

/**
 * The media type of manifest bytes: their own `mediaType`, else `fallback` (the response's or
 * descriptor's), else guessed from their shape (OCI allows omitting it: `manifests` makes an
 * index). Throws on invalid JSON.
 */
export const manifestMediaType = (bytes: Uint8Array, fallback = ""): string => {
  const parsed = parseManifest(bytes, fallback)
  if (parsed.mediaType !== "") return parsed.mediaType
  return parsed.manifests.length > 0 ? OCI_INDEX : OCI_MANIFEST
}

/** manifestMediaType, or `fallback` for bytes that are not JSON (a stored manifest whose descriptor names its type). */
export const mediaTypeOrFallback = (bytes: Uint8Array, fallback: string): string => {
  try {
    return manifestMediaType(bytes, fallback)
  } catch {
    return fallback
  }
}

/** parseManifest as an Effect: invalid JSON is a TransportFailure of `who` naming the manifest. */
export const readManifest = (raw: RawManifest, who: string): Effect.Effect<ParsedManifest, TransportFailure> =>
  Effect.try({
    try: () => parseManifest(raw.bytes, raw.mediaType),
    catch: () => new TransportFailure({ transport: who, detail: `manifest ${raw.digest} is not valid JSON` })
  })

/** Non-distributable ("foreign") layers carry `urls` and are not copied between registries. */
export const isDistributable = (d: Descriptor): boolean => !d.mediaType.includes("foreign") && !d.mediaType.includes("nondistributable")

/** Every blob an image manifest needs beside it (config first, then distributable layers). */
export const blobsOf = (m: ParsedManifest): ReadonlyArray<Descriptor> => [
  ...(m.config ? [m.config] : []),
  ...m.layers.filter(isDistributable)
]

/** What a walk of a manifest tree does at each manifest, and what it makes of each (`A`). */
export interface TreeVisitor<E, R, A = void> {
  /**
   * The child manifest of an index to walk into, or undefined to leave it out (it is already
   * where it should be). Read it by digest.
   */
  readonly child: (descriptor: Descriptor) => Effect.Effect<RawManifest | undefined, E, R>
  /** Called once the manifest's children (if any) have been walked; `depth` is 0 for the top one, 1 for its children … */
  readonly manifest: (raw: RawManifest, parsed: ParsedManifest, depth: number) => Effect.Effect<A, E, R>
}

/**
 * Walks `root` and every manifest below it, children first (an index's children concurrently,
 * at most `concurrency` at once), so a visitor that writes can write a manifest only after
 * everything it references. Gives what the visitor made of each manifest walked, children
 * before their index.
 */
export const walkTree = <E, R, A = void>(
  root: RawManifest,
  visitor: TreeVisitor<E, R, A>,
  options: { readonly concurrency: number; readonly who: string }
): Effect.Effect<ReadonlyArray<A>, E | TransportFailure, R> => {
  const visit = (raw: RawManifest, depth: number): Effect.Effect<ReadonlyArray<A>, E | TransportFailure, R> =>
    Effect.gen(function*() {
      const parsed = yield* readManifest(raw, options.who)
      const below = yield* Effect.forEach(
        parsed.manifests,
        (d) => Effect.flatMap(visitor.child(d), (child) => (child === undefined ? Effect.succeed([]) : visit(child, depth + 1))),
        { concurrency: options.concurrency }
      )
      return [...below.flat(), yield* visitor.manifest(raw, parsed, depth)]
    })
  return visit(root, 0)
}
