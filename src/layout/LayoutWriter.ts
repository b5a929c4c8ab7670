/**
 * Writing an OCI image layout: blobs go to a temp file, are hashed while written, synced and
 * renamed into place only when digest and size match — so a blob file that exists is
 * complete and verified, and an interrupted export resumes by skipping it. index.json is
 * rewritten atomically; an entry with the same ref name is replaced.
 */
import { Effect, Stream } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { createReadStream } from "node:fs"
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises"
import { join } from "node:path"
import {
  blobPath,
  checkLayoutMarker,
  INDEX_FILE,
  ioReason,
  LAYOUT_INDEX_MEDIA_TYPE,
  LayoutIoFailed,
  OCI_LAYOUT_CONTENT,
  OCI_LAYOUT_FILE,
  parseLayoutIndex,
  refNameOfDescriptor
} from "./OciLayout.ts"
import type { LayoutDescriptor, LayoutIndex } from "./OciLayout.ts"
import { isPartial, writeAll, writeFileAtomic as writeFile } from "../model/AtomicFile.ts"
import { shareOnce } from "../model/shareOnce.ts"
import { isSha256Digest, sha256Digest } from "../model/Digest.ts"
import { DigestMismatch } from "../model/Errors.ts"

/** What ensureBlob did. */
export type BlobOutcome = "present" | "written"

/** A layout directory open for writing. */
export interface LayoutWriter {
  readonly dir: string
  /** true when the blob file exists with this size (it was verified when it was written) */
  readonly hasBlob: (digest: string, size: number) => Effect.Effect<boolean>
  /** writes content as `digest`, verifying digest (and size when given) before it becomes visible */
  readonly writeBlob: <E = never>(
    digest: string,
    size: number | undefined,
    content: Uint8Array | Stream.Stream<Uint8Array, E>
  ) => Effect.Effect<number, E | LayoutIoFailed | DigestMismatch>
  /** skips a blob already there; else runs `fetch` once (concurrent callers for one digest share it) and writes it */
  readonly ensureBlob: <E = never>(
    digest: string,
    size: number,
    fetch: Effect.Effect<Uint8Array | Stream.Stream<Uint8Array, E>, E>
  ) => Effect.Effect<BlobOutcome, E | LayoutIoFailed | DigestMismatch>
  /** a blob's bytes, verified against its digest */
  readonly readBlob: (digest: string) => Effect.Effect<Uint8Array, LayoutIoFailed | DigestMismatch>
  /** adds entries to index.json, replacing those with the same ref name; written atomically */
  readonly putRefs: (descriptors: ReadonlyArray<LayoutDescriptor>) => Effect.Effect<void, LayoutIoFailed>
  /** index.json as it is now */
  readonly index: Effect.Effect<LayoutIndex>
}

const io = (path: string) => (error: unknown) => new LayoutIoFailed({ path, detail: ioReason(error) })

const exists = (path: string) => Effect.promise(() => stat(path).then((s) => s, () => undefined))

/** Writes a small file atomically: temp file, fsync, rename. */
const writeFileAtomic = (path: string, text: string) => Effect.tryPromise({ try: () => writeFile(path, text), catch: io(path) })

const renderIndex = (index: LayoutIndex) => `${JSON.stringify(index, null, 2)}\n`

/** Code-unit order, not the locale's: the same refs give the same index.json everywhere. */
const compareNames = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** A blob into the layout at `dir`: a temp file, hashed and synced, renamed once its digest (and size) are right. */
const writeBlobFile = <E = never>(dir: string, digest: string, size: number | undefined, content: Uint8Array | Stream.Stream<Uint8Array, E>) =>
  Effect.gen(function*() {
    const path = yield* Effect.try({ try: () => blobPath(dir, digest), catch: (e) => new LayoutIoFailed({ path: dir, detail: String(e) }) })
    const temp = `${path}.partial-${randomBytes(6).toString("hex")}`
    const hash = createHash("sha256")
    let seen = 0
    const write = Effect.acquireUseRelease(
      Effect.tryPromise({ try: () => open(temp, "wx"), catch: io(temp) }).pipe(
        // Whatever happens next, the temp file does not stay behind (after the rename there is none).
        Effect.tap(() => Effect.addFinalizer(() => Effect.promise(() => rm(temp, { force: true }))))
      ),
      (handle) =>
        Effect.gen(function*() {
          const stream = content instanceof Uint8Array ? Stream.make(content) : content
          yield* Stream.runForEach(stream, (chunk) =>
            Effect.tryPromise({
              try: () => {
                hash.update(chunk)
                seen += chunk.length
                return writeAll(handle, chunk)
              },
              catch: io(temp)
            }))
          // Synced before the rename: after a crash, a blob file of the right size has the right bytes.
          yield* Effect.tryPromise({ try: () => handle.datasync(), catch: io(temp) })
        }),
      (handle) => Effect.promise(() => handle.close().catch(() => undefined))
    )
    yield* write
    const actual = `sha256:${hash.digest("hex")}`
    if (actual !== digest || (size !== undefined && seen !== size)) {
      return yield* new DigestMismatch({
        what: `blob written to ${dir}${size !== undefined && seen !== size ? ` (${seen} of ${size} bytes)` : ""}`,
        expected: digest,
        actual
      })
    }
    yield* Effect.tryPromise({ try: () => rename(temp, path), catch: io(path) })
    return seen
  }).pipe(Effect.scoped)

/**
 * Opens (or creates) a layout directory for writing. A missing directory is created; an
 * existing non-empty directory must already be a layout (we never scribble into other data).
 */
export const openWriter = (dir: string): Effect.Effect<LayoutWriter, LayoutIoFailed> =>
  Effect.gen(function*() {
    const info = yield* exists(dir)
    if (info && !info.isDirectory()) return yield* new LayoutIoFailed({ path: dir, detail: "exists and is not a directory" })
    const markerPath = join(dir, OCI_LAYOUT_FILE)
    const indexPath = join(dir, INDEX_FILE)
    const marker = yield* Effect.promise(() => readFile(markerPath, "utf8").catch(() => undefined))
    if (marker === undefined) {
      const entries = info ? yield* Effect.tryPromise({ try: () => readdir(dir), catch: io(dir) }) : []
      if (entries.length > 0) {
        return yield* new LayoutIoFailed({ path: dir, detail: "is not empty and not an OCI image layout (no oci-layout file); refusing to write into it" })
      }
      yield* Effect.tryPromise({ try: () => mkdir(join(dir, "blobs", "sha256"), { recursive: true }), catch: io(dir) })
      yield* writeFileAtomic(markerPath, OCI_LAYOUT_CONTENT)
    } else {
      const problem = checkLayoutMarker(marker)
      if (problem) return yield* new LayoutIoFailed({ path: markerPath, detail: problem })
      yield* Effect.tryPromise({ try: () => mkdir(join(dir, "blobs", "sha256"), { recursive: true }), catch: io(dir) })
    }
    const indexText = yield* Effect.promise(() => readFile(indexPath, "utf8").catch(() => undefined))
    let current: LayoutIndex = { schemaVersion: 2, mediaType: LAYOUT_INDEX_MEDIA_TYPE, manifests: [] }
    if (indexText !== undefined) {
      const parsed = parseLayoutIndex(indexText)
      if (typeof parsed === "string") return yield* new LayoutIoFailed({ path: indexPath, detail: parsed })
      current = parsed
    } else {
      yield* writeFileAtomic(indexPath, renderIndex(current))
    }
    // Temp files of an interrupted run are never valid blobs: clear them.
    const blobsDir = join(dir, "blobs", "sha256")
    const leftovers = (yield* Effect.tryPromise({ try: () => readdir(blobsDir), catch: io(blobsDir) })).filter(isPartial)
    yield* Effect.forEach(leftovers, (name) => Effect.promise(() => rm(join(blobsDir, name), { force: true })), { discard: true })

    const indexLock = yield* Effect.makeSemaphore(1)
    const inFlight = new Map<string, Effect.Effect<BlobOutcome, unknown>>()

    const hasBlob = (digest: string, size: number) =>
      isSha256Digest(digest)
        ? exists(blobPath(dir, digest)).pipe(Effect.map((s) => s !== undefined && s.isFile() && s.size === size))
        : Effect.succeed(false)

    const writeBlob = <E = never>(digest: string, size: number | undefined, content: Uint8Array | Stream.Stream<Uint8Array, E>) =>
      writeBlobFile(dir, digest, size, content)

    const ensureBlob = <E = never>(digest: string, size: number, fetch: Effect.Effect<Uint8Array | Stream.Stream<Uint8Array, E>, E>) =>
      Effect.suspend(() => {
        const running = inFlight.get(digest) as Effect.Effect<BlobOutcome, E | LayoutIoFailed | DigestMismatch> | undefined
        if (running) return running
        const once = Effect.gen(function*() {
          if (yield* hasBlob(digest, size)) return "present" as const
          const content = yield* fetch
          yield* writeBlob(digest, size, content)
          return "written" as const
        })
        // Created and registered without yielding, so a concurrent caller for the same digest waits for this one.
        const memo = shareOnce(once)
        inFlight.set(digest, memo)
        return memo.pipe(Effect.ensuring(Effect.sync(() => inFlight.get(digest) === memo && inFlight.delete(digest))))
      })

    const readBlob = (digest: string) =>
      Effect.gen(function*() {
        const path = yield* Effect.try({ try: () => blobPath(dir, digest), catch: (e) => new LayoutIoFailed({ path: dir, detail: String(e) }) })
        return yield* readVerified(path, digest)
      })

    const putRefs = (descriptors: ReadonlyArray<LayoutDescriptor>) =>
      indexLock.withPermits(1)(
        Effect.gen(function*() {
          const names = new Set(descriptors.map(refNameOfDescriptor).filter((n): n is string => n !== undefined))
          const kept = current.manifests.filter((d) => {
            const name = refNameOfDescriptor(d)
            return name === undefined || !names.has(name)
          })
          // Sorted by ref name, so the same content always gives the same index.json.
          const manifests = [...kept, ...descriptors].sort((a, b) => compareNames(refNameOfDescriptor(a) ?? "", refNameOfDescriptor(b) ?? ""))
          const next: LayoutIndex = { ...current, schemaVersion: 2, mediaType: current.mediaType ?? LAYOUT_INDEX_MEDIA_TYPE, manifests }
          yield* writeFileAtomic(indexPath, renderIndex(next))
          current = next
        })
      )

    return {
      dir,
      hasBlob,
      writeBlob,
      ensureBlob,
      readBlob,
      putRefs,
      index: Effect.sync(() => current)
    } satisfies LayoutWriter
  })

/** Reads a file and checks it hashes to `digest`. */
export const readVerified = (path: string, digest: string): Effect.Effect<Uint8Array, LayoutIoFailed | DigestMismatch> =>
  Effect.gen(function*() {
    const bytes = new Uint8Array(yield* Effect.tryPromise({ try: () => readFile(path), catch: io(path) }))
    const actual = sha256Digest(bytes)
    if (actual !== digest) return yield* new DigestMismatch({ what: path, expected: digest, actual })
    return bytes
  })

/** A file as a stream of chunks (read lazily, when the stream runs). */
export const fileStream = (path: string): Stream.Stream<Uint8Array, LayoutIoFailed> =>
  Stream.suspend(() => Stream.fromAsyncIterable(createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>, io(path))).pipe(
    Stream.map((chunk) => new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
  )
