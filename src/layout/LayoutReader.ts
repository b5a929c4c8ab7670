/**
 * Reading an OCI image layout for import. Opening validates it up front: the marker, a
 * parseable index.json, and every manifest reachable from it present and matching its
 * digest, every blob it names present with the right size. Lookups are by ref name
 * (`registry/repository:tag`) or by manifest digest; blobs are verified when read.
 */
import { Data, Effect, Option, Stream } from "effect"
import { readFile, stat } from "node:fs/promises"
import { join } from "node:path"
import { fileStream, readVerified } from "./LayoutWriter.ts"
import { blobPath, checkLayoutMarker, INDEX_FILE, ioReason, OCI_LAYOUT_FILE, parseLayoutIndex, refNameOfDescriptor } from "./OciLayout.ts"
import { LayoutIoFailed } from "./OciLayout.ts"
import type { LayoutIndex } from "./OciLayout.ts"
import { isSha256Digest, sha256Digest } from "../model/Digest.ts"
import type { DigestMismatch } from "../model/Errors.ts"
import { blobsOf, mediaTypeOrFallback, parseManifest, walkTree } from "../model/Manifest.ts"
import type { Descriptor, ManifestDescriptor, RawManifest } from "../model/Manifest.ts"

/** The directory is not a usable OCI image layout. */
export class LayoutInvalid extends Data.TaggedError("LayoutInvalid")<{ readonly path: string; readonly reason: string }> {
  override get message() {
    return `layout ${this.path}: ${this.reason}`
  }
}

/** A layout open for reading. */
export interface LayoutReader {
  readonly dir: string
  readonly index: LayoutIndex
  /** every ref name in index.json */
  readonly refNames: ReadonlyArray<string>
  /** the manifest named `name` in index.json */
  readonly byRefName: (name: string) => Option.Option<ManifestDescriptor>
  /** a manifest reachable from index.json (top-level or a child), by digest */
  readonly byDigest: (digest: string) => Option.Option<ManifestDescriptor>
  /** true when the blob file exists */
  readonly hasBlob: (digest: string) => Effect.Effect<boolean>
  /** a blob's bytes, verified against its digest */
  readonly readBlob: (digest: string) => Effect.Effect<Uint8Array, LayoutIoFailed | DigestMismatch>
  /** a blob as a stream, for uploads that verify on the way */
  readonly blobStream: (digest: string) => Stream.Stream<Uint8Array, LayoutIoFailed>
}

/** How many problems a LayoutInvalid lists before "…and N more". */
const MAX_LISTED = 3

/** Opens and validates a layout directory. */
export const openLayout = (dir: string): Effect.Effect<LayoutReader, LayoutInvalid> =>
  Effect.gen(function*() {
    const invalid = (reason: string) => new LayoutInvalid({ path: dir, reason })
    const info = yield* Effect.promise(() => stat(dir).catch(() => undefined))
    if (!info) return yield* invalid("does not exist")
    if (!info.isDirectory()) return yield* invalid("is not a directory")
    const marker = yield* Effect.tryPromise({
      try: () => readFile(join(dir, OCI_LAYOUT_FILE), "utf8"),
      catch: (e) => invalid(`not an OCI image layout: ${OCI_LAYOUT_FILE}: ${ioReason(e)}`)
    })
    const markerProblem = checkLayoutMarker(marker)
    if (markerProblem) return yield* invalid(markerProblem)
    const indexText = yield* Effect.tryPromise({
      try: () => readFile(join(dir, INDEX_FILE), "utf8"),
      catch: (e) => invalid(`${INDEX_FILE}: ${ioReason(e)}`)
    })
    const index = parseLayoutIndex(indexText)
    if (typeof index === "string") return yield* invalid(index)

    // Walk everything index.json reaches; manifests are small, blobs are only stat'ed here.
    const manifests = new Map<string, ManifestDescriptor>()
    const checkedBlobs = new Set<string>()
    const problems: Array<string> = []

    const checkBlob = async (d: Descriptor) => {
      if (checkedBlobs.has(d.digest)) return
      checkedBlobs.add(d.digest)
      if (!isSha256Digest(d.digest)) return void problems.push(`blob ${d.digest}: not a sha256 digest`)
      const s = await stat(blobPath(dir, d.digest)).catch(() => undefined)
      if (!s || !s.isFile()) return void problems.push(`blob ${d.digest} is missing`)
      if (s.size !== d.size) problems.push(`blob ${d.digest} has ${s.size} bytes, expected ${d.size}`)
    }

    /** A manifest from the layout, checked; undefined (and a problem noted) when it cannot be used, or was seen already. */
    const readStored = (d: Descriptor) =>
      Effect.promise(async (): Promise<RawManifest | undefined> => {
        if (manifests.has(d.digest)) return undefined
        if (!isSha256Digest(d.digest)) return void problems.push(`manifest ${d.digest}: not a sha256 digest`)
        let bytes: Uint8Array
        try {
          bytes = new Uint8Array(await readFile(blobPath(dir, d.digest)))
        } catch (e) {
          return void problems.push(`manifest ${d.digest}: ${ioReason(e)}`)
        }
        const actual = sha256Digest(bytes)
        if (actual !== d.digest) return void problems.push(`manifest ${d.digest} is corrupt (its content hashes to ${actual})`)
        const mediaType = mediaTypeOrFallback(bytes, d.mediaType)
        manifests.set(d.digest, { digest: d.digest, mediaType, size: bytes.length })
        try {
          parseManifest(bytes, mediaType)
        } catch {
          return void problems.push(`manifest ${d.digest} is not JSON`)
        }
        return { digest: d.digest, mediaType, size: bytes.length, bytes }
      })

    // Every manifest index.json reaches, through the one tree walk; blobs are only stat'ed.
    yield* Effect.forEach(index.manifests, (d) =>
      Effect.flatMap(readStored(d), (raw) =>
        raw === undefined
          ? Effect.void
          : walkTree(raw, {
            child: readStored,
            manifest: (_raw, parsed) =>
              Effect.promise(async () => {
                for (const blob of blobsOf(parsed)) await checkBlob(blob)
              })
          }, { concurrency: 1, who: "layout" })), { discard: true }).pipe(Effect.orDie)
    if (problems.length > 0) {
      const more = problems.length > MAX_LISTED ? `; and ${problems.length - MAX_LISTED} more` : ""
      return yield* invalid(`${problems.slice(0, MAX_LISTED).join("; ")}${more}`)
    }

    const byName = new Map<string, ManifestDescriptor>()
    for (const d of index.manifests) {
      const name = refNameOfDescriptor(d)
      const known = manifests.get(d.digest)
      if (name !== undefined && known) byName.set(name, known)
    }

    const pathOf = (digest: string) => (isSha256Digest(digest) ? Option.some(blobPath(dir, digest)) : Option.none())
    const notADigest = (digest: string) => new LayoutIoFailed({ path: dir, detail: `not a sha256 digest: ${digest}` })

    return {
      dir,
      index,
      refNames: [...byName.keys()],
      byRefName: (name) => Option.fromNullable(byName.get(name)),
      byDigest: (digest) => Option.fromNullable(manifests.get(digest)),
      hasBlob: (digest) =>
        Option.match(pathOf(digest), {
          onNone: () => Effect.succeed(false),
          onSome: (path) => Effect.promise(() => stat(path).then((s) => s.isFile(), () => false))
        }),
      readBlob: (digest) =>
        Option.match(pathOf(digest), {
          onNone: () => Effect.fail(notADigest(digest)),
          onSome: (path) => readVerified(path, digest)
        }),
      blobStream: (digest) => Option.match(pathOf(digest), { onNone: () => Stream.fail(notADigest(digest)), onSome: fileStream })
    } satisfies LayoutReader
  })
