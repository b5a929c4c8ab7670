/**
 * The copy engine every store-backed transport shares: blobs first (skipped when present,
 * mounted from another repository of the target when this run already put them there, else
 * streamed from source to target and verified on the way), then index children by digest,
 * then the tag after a last look — so a tag never points at incomplete content. Over a network
 * every question costs a round trip, so the engine asks only what it does not know: a blob
 * this run already put in the registry is mounted without asking, a small blob is sent
 * rather than asked about (configs are new with every new manifest), and index children are
 * put without asking (a PUT by digest of what is there changes nothing). A blob many
 * images share is copied once per target registry and run. With several target registries,
 * what one target already holds from this run is read there, not from the source again: each
 * source manifest and blob is read once per run (a later target copies from the first that
 * has it complete), and what the caller already read (a single-platform image's manifest and
 * config, read for the platform check) is written from memory, not read again.
 */
import { Effect } from "effect"
import type { TransportError } from "../model/Errors.ts"
import { withReference } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import { blobsOf, walkTree } from "../model/Manifest.ts"
import type { Descriptor, ManifestDescriptor, RawManifest } from "../model/Manifest.ts"
import * as Progress from "../model/Progress.ts"
import { shareOnce } from "../model/shareOnce.ts"
import type { BlobBody, ImageStore } from "../model/ImageStore.ts"
import { lastLook } from "./TagGuard.ts"
import type { CopyResult } from "./Transport.ts"

/** Blobs up to this size are sent without asking whether the target has them: sending costs about what asking does. */
export const SEND_WITHOUT_ASKING = 256 * 1024

/** Settings of the copy engine. */
export interface CopySettings {
  /** blobs (and index children) copied at once within one image */
  readonly blobConcurrency: number
  /** for messages */
  readonly name: string
}

interface Stats {
  blobsCopied: number
  blobsMounted: number
  blobsSkipped: number
  bytesCopied: number
  manifestsPut: number
}

/** The body with its chunks counted for the progress view. */
const counted = (body: BlobBody, progress: (event: Progress.ImageEvent) => void): BlobBody => ({
  failure: body.failure,
  stream: body.stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform: (chunk, controller) => {
        progress({ _tag: "BytesCopied", bytes: chunk.length })
        controller.enqueue(chunk)
      }
    })
  )
})

/**
 * One blob from `source` to `target`, streamed and verified on the way (the target retries the
 * whole copy with a fresh read; resumes of a broken body are shared by every try), its bytes
 * reported to the progress view.
 */
export const copyOneBlob = (
  source: ImageStore,
  target: ImageStore,
  from: ImageLocation,
  to: ImageLocation,
  blob: { readonly digest: string; readonly size: number }
): Effect.Effect<number, TransportError> =>
  Effect.gen(function*() {
    const progress = yield* Progress.reporterNow
    progress({ _tag: "BlobStarted", digest: blob.digest, size: blob.size })
    const budget = { count: 0 }
    return yield* target.writeBlob(to, blob.digest, blob.size, () =>
      Effect.map(source.openBlob(from, blob.digest, blob.size, budget), (body) => counted(body, progress)))
  })

/** A body from bytes already in memory (read and verified before): a fresh stream for every try. */
const heldBody = (bytes: Uint8Array): BlobBody => ({
  stream: new ReadableStream<Uint8Array>({
    start: (controller) => {
      controller.enqueue(bytes)
      controller.close()
    }
  }),
  failure: () => undefined
})

/** One blob to `target` from bytes this run already read from the source, its bytes reported to the progress view. */
const writeHeldBlob = (target: ImageStore, to: ImageLocation, blob: { readonly digest: string; readonly size: number }, bytes: Uint8Array) =>
  Effect.gen(function*() {
    const progress = yield* Progress.reporterNow
    progress({ _tag: "BlobStarted", digest: blob.digest, size: blob.size })
    return yield* target.writeBlob(to, blob.digest, blob.size, () => Effect.sync(() => counted(heldBody(bytes), progress)))
  })

/** A copy function from `source` to `target` stores; its blob bookkeeping lives as long as it does (one run). */
export const makeCopy = (source: ImageStore, target: ImageStore, settings: CopySettings) => {
  // target host + digest → the copy that is (or was) putting it there, and into which repository
  const blobHomes = new Map<string, Effect.Effect<string, TransportError>>()
  // target host + repository + digest → the one effect making that blob present there: siblings
  // wait for it, later images find it done (kept once it succeeded, dropped when it failed)
  const placed = new Map<string, Effect.Effect<void, TransportError>>()
  // digest → the first copy of a blob out of the source, ending with where it landed
  const sourceReads = new Map<string, Effect.Effect<ImageLocation, TransportError>>()
  // digest → a target location (by digest) holding that manifest
  const manifestHomes = new Map<string, ImageLocation>()

  // target host + repository + digest → the one PUT of that manifest there (tags of one digest share it)
  const manifestPuts = new Map<string, Effect.Effect<string, TransportError>>()
  const putOnce = (to: ImageLocation, raw: RawManifest) => {
    const key = `${to.endpoint.host} ${to.repository} ${raw.digest}`
    let put = manifestPuts.get(key)
    if (put === undefined) {
      put = shareOnce(target.putManifest(withReference(to, raw.digest), raw.bytes, raw.mediaType))
      manifestPuts.set(key, put)
      // A failed PUT may be tried again by the next image that needs it.
      const self = put
      put = self.pipe(Effect.tapError(() => Effect.sync(() => manifestPuts.get(key) === self && manifestPuts.delete(key))))
    }
    return put
  }

  const noteHome = (at: ImageLocation, digest: string) => {
    if (!manifestHomes.has(digest)) manifestHomes.set(digest, withReference(at, digest))
  }

  /** A manifest by digest: from a target that holds it since this run, else (or if that fails) from the source. */
  const readManifest = (from: ImageLocation, digest: string): Effect.Effect<RawManifest, TransportError> => {
    const fromSource = source.getManifest(withReference(from, digest))
    const home = manifestHomes.get(digest)
    return home === undefined ? fromSource : target.getManifest(home).pipe(Effect.orElse(() => fromSource))
  }

  /** A blob another target registry got from the source in this run, copied from there; false when there is none (or it failed). */
  const copyFromOtherTarget = (to: ImageLocation, blob: Descriptor, stats: Stats) =>
    Effect.gen(function*() {
      const landed = sourceReads.get(blob.digest)
      if (landed === undefined) return false
      const at = yield* Effect.option(landed)
      if (at._tag === "None" || at.value.endpoint.host === to.endpoint.host) return false
      const bytes = yield* Effect.option(copyOneBlob(target, target, at.value, to, blob))
      if (bytes._tag === "None") return false
      stats.blobsCopied++
      stats.bytesCopied += bytes.value
      return true
    })

  const transfer = (from: ImageLocation, to: ImageLocation, blob: Descriptor, stats: Stats, held: Uint8Array | undefined) =>
    Effect.gen(function*() {
      const bytes = yield* (held === undefined ? copyOneBlob(source, target, from, to, blob) : writeHeldBlob(target, to, blob, held))
      stats.blobsCopied++
      stats.bytesCopied += bytes
      return to.repository
    })

  const ensureBlob = (from: ImageLocation, to: ImageLocation, blob: Descriptor, stats: Stats, held: Uint8Array | undefined) =>
    Effect.gen(function*() {
      const key = `${to.endpoint.host} ${blob.digest}`
      let home = blobHomes.get(key)
      // Asked only when the answer is not known from this run and is worth a round trip.
      if ((home === undefined && (target.localLookups === true || blob.size > SEND_WITHOUT_ASKING)) || (home !== undefined && !target.mountBlob)) {
        if (yield* target.hasBlob(to, blob.digest, blob.size)) {
          stats.blobsSkipped++
          return
        }
        // Another image may have started putting it there while we asked: wait for that one.
        home = blobHomes.get(key)
      }
      if (home) {
        const repository = yield* home.pipe(Effect.option)
        if (repository._tag === "Some" && (repository.value === to.repository || target.sharedBlobs === true)) {
          stats.blobsSkipped++
          return
        }
        if (repository._tag === "Some" && target.mountBlob) {
          const mounted = yield* target.mountBlob(to, blob.digest, repository.value).pipe(
            Effect.catchTags({ Unauthorized: () => Effect.succeed(false), TransportFailure: () => Effect.succeed(false) })
          )
          if (mounted) {
            stats.blobsMounted++
            return
          }
        }
      }
      // Bytes already in memory need no read anywhere; otherwise another target may have them.
      if (held === undefined && (yield* copyFromOtherTarget(to, blob, stats))) return
      // Created and registered without yielding, so a concurrent copy of the same blob waits for this one.
      const memo = shareOnce(transfer(from, to, blob, stats, held))
      if (!home && !blobHomes.has(key)) blobHomes.set(key, memo)
      if (!sourceReads.has(blob.digest)) sourceReads.set(blob.digest, Effect.as(memo, to))
      yield* memo.pipe(Effect.tapError(() => Effect.sync(() => blobHomes.get(key) === memo && blobHomes.delete(key))))
    })

  /** Makes a blob present in the target repository, once, however many children share it. */
  const copyBlob = (from: ImageLocation, to: ImageLocation, blob: Descriptor, stats: Stats, held: Uint8Array | undefined) => {
    const key = `${to.endpoint.host} ${to.repository} ${blob.digest}`
    const running = placed.get(key)
    if (running) return running.pipe(Effect.tap(() => Effect.sync(() => stats.blobsSkipped++)))
    const memo = shareOnce(ensureBlob(from, to, blob, stats, held))
    placed.set(key, memo)
    return memo.pipe(Effect.tapErrorCause(() => Effect.sync(() => placed.get(key) === memo && placed.delete(key))))
  }

  /**
   * The tree of `manifest` from `from` to `to`, the tag (to.reference) last; `given`: the root to
   * write instead of reading the source's; `held`: source blobs already read, by digest.
   */
  const copy = (
    from: ImageLocation,
    to: ImageLocation,
    manifest: ManifestDescriptor,
    given?: RawManifest,
    held?: ReadonlyMap<string, Uint8Array>
  ): Effect.Effect<CopyResult, TransportError> =>
    Effect.gen(function*() {
      const stats: Stats = { blobsCopied: 0, blobsMounted: 0, blobsSkipped: 0, bytesCopied: 0, manifestsPut: 0 }
      const root = given ?? (yield* readManifest(from, manifest.digest))
      // Blobs of every image manifest first (all at once, bounded); the manifests wait for the end.
      const toPut: Array<{ readonly raw: RawManifest; readonly depth: number }> = []
      yield* walkTree(root, {
        // A child this run put there needs nothing; on disk a child already there is skipped too.
        child: (d) => {
          if (manifestHomes.get(d.digest)?.repository === to.repository && manifestHomes.get(d.digest)?.endpoint.host === to.endpoint.host) {
            return Effect.succeed(undefined)
          }
          if (target.localLookups !== true) return readManifest(from, d.digest)
          return Effect.flatMap(target.headManifest(withReference(to, d.digest)), (there) => {
            if (there._tag === "None") return readManifest(from, d.digest)
            noteHome(to, d.digest)
            return Effect.succeed(undefined)
          })
        },
        manifest: (raw, parsed, depth) =>
          Effect.forEach(blobsOf(parsed), (blob) => copyBlob(from, to, blob, stats, held?.get(blob.digest)), {
            concurrency: settings.blobConcurrency,
            discard: true
          }).pipe(Effect.tap(() => Effect.sync(() => void (depth > 0 && toPut.push({ raw, depth })))))
      }, { concurrency: settings.blobConcurrency, who: settings.name })
      // Then child manifests by digest, deepest first (an index of indexes), each level at once.
      const depths = [...new Set(toPut.map((m) => m.depth))].sort((a, b) => b - a)
      for (const depth of depths) {
        yield* Effect.forEach(toPut.filter((m) => m.depth === depth), ({ raw }) =>
          putOnce(to, raw).pipe(
            Effect.tap(() => Effect.sync(() => {
              stats.manifestsPut++
              noteHome(to, raw.digest)
            }))
          ), {
          concurrency: settings.blobConcurrency,
          discard: true
        })
      }
      // The tag last, after a last look: another writer may have taken it meanwhile.
      if ((yield* lastLook(target.headManifest, to, root.digest)) === "absent") {
        yield* target.putManifest(to, root.bytes, root.mediaType)
        stats.manifestsPut++
      }
      noteHome(to, root.digest)
      return stats
    })

  return copy
}
