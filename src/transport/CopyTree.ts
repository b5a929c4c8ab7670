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
import { Effect, Option } from "effect"
import type { TransportError } from "../model/Errors.ts"
import { withReference } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import { blobsOf, walkTree } from "../model/Manifest.ts"
import type { Descriptor, ManifestDescriptor, RawManifest } from "../model/Manifest.ts"
import { makeMemo } from "../model/Memo.ts"
import type { Memo } from "../model/Memo.ts"
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

/** What making one blob present in one target repository took. */
type BlobOutcome = { readonly _tag: "Copied"; readonly bytes: number } | { readonly _tag: "Mounted" } | { readonly _tag: "Skipped" }

const SKIPPED: BlobOutcome = { _tag: "Skipped" }
const MOUNTED: BlobOutcome = { _tag: "Mounted" }
const copied = (bytes: number): BlobOutcome => ({ _tag: "Copied", bytes })

/** The counts of one image's copy. */
const tally = (blobs: ReadonlyArray<BlobOutcome>, manifestsPut: number): CopyResult => ({
  blobsCopied: blobs.filter((b) => b._tag === "Copied").length,
  blobsMounted: blobs.filter((b) => b._tag === "Mounted").length,
  blobsSkipped: blobs.filter((b) => b._tag === "Skipped").length,
  bytesCopied: blobs.reduce((sum, b) => sum + (b._tag === "Copied" ? b.bytes : 0), 0),
  manifestsPut
})

/**
 * What a copy function learns in its run, all in one place. Work in flight is shared by key and
 * forgotten when it fails (Memo: the next image tries again); a manifest's home is recorded
 * only once it is written, and kept.
 */
interface CopyState {
  /** target host + repository + digest → the blob made present there (siblings wait for it, later images find it done) */
  readonly placed: Memo<BlobOutcome, TransportError>
  /** target host + digest → the repository this run copies (or copied) that blob into */
  readonly blobHomes: Memo<string, TransportError>
  /** digest → where the first copy of that blob out of the source landed */
  readonly landed: Memo<ImageLocation, TransportError>
  /** target host + repository + digest → the one PUT of that manifest there (tags of one digest share it) */
  readonly manifestPuts: Memo<string, TransportError>
  /** digest → a target location (by digest) this run wrote that manifest to */
  readonly manifestHomes: Map<string, ImageLocation>
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
      Effect.map(source.openBlob(from, blob.digest, blob.size, budget), (body) =>
        counted(body, progress)))
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

/** A copy function from `source` to `target` stores; what it learns lives as long as it does (one run). */
export const makeCopy = (source: ImageStore, target: ImageStore, settings: CopySettings) => {
  const state: CopyState = {
    placed: makeMemo(),
    blobHomes: makeMemo(),
    landed: makeMemo(),
    manifestPuts: makeMemo(),
    manifestHomes: new Map()
  }
  const blobs = blobSteps(source, target, state)

  const putOnce = (to: ImageLocation, raw: RawManifest) =>
    state.manifestPuts.get(
      `${to.endpoint.host} ${to.repository} ${raw.digest}`,
      () => target.putManifest(withReference(to, raw.digest), raw.bytes, raw.mediaType)
    )

  const noteHome = (at: ImageLocation, digest: string) => {
    if (!state.manifestHomes.has(digest)) state.manifestHomes.set(digest, withReference(at, digest))
  }

  /** A manifest by digest: from a target that holds it since this run, else (or if that fails) from the source. */
  const readManifest = (from: ImageLocation, digest: string): Effect.Effect<RawManifest, TransportError> => {
    const fromSource = source.getManifest(withReference(from, digest))
    const home = state.manifestHomes.get(digest)
    return home === undefined ? fromSource : target.getManifest(home).pipe(Effect.orElse(() => fromSource))
  }

  /** An index child to walk into; undefined: this run put it there already (or, on disk, it is there). */
  const childToCopy = (from: ImageLocation, to: ImageLocation, d: Descriptor) => {
    const home = state.manifestHomes.get(d.digest)
    if (home?.repository === to.repository && home.endpoint.host === to.endpoint.host) return Effect.succeed(undefined)
    if (target.localLookups !== true) return readManifest(from, d.digest)
    return Effect.flatMap(target.headManifest(withReference(to, d.digest)), (there) => {
      if (there._tag === "None") return readManifest(from, d.digest)
      noteHome(to, d.digest)
      return Effect.succeed(undefined)
    })
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
      const root = given ?? (yield* readManifest(from, manifest.digest))
      // Blobs of every image manifest first (all at once, bounded); the manifests wait for the end.
      const walked = yield* walkTree(root, {
        child: (d) => childToCopy(from, to, d),
        manifest: (raw, parsed, depth) =>
          Effect.map(
            Effect.forEach(blobsOf(parsed), (blob) => blobs.place(from, to, blob, held?.get(blob.digest)), { concurrency: settings.blobConcurrency }),
            (outcomes) => ({ raw, depth, outcomes })
          )
      }, { concurrency: settings.blobConcurrency, who: settings.name })
      // Then child manifests by digest, deepest first (an index of indexes), each level at once.
      const children = walked.filter((m) => m.depth > 0)
      const depths = [...new Set(children.map((m) => m.depth))].sort((a, b) => b - a)
      for (const depth of depths) {
        yield* Effect.forEach(
          children.filter((m) => m.depth === depth),
          ({ raw }) => Effect.tap(putOnce(to, raw), () => Effect.sync(() => noteHome(to, raw.digest))),
          { concurrency: settings.blobConcurrency, discard: true }
        )
      }
      // The tag last, after a last look: another writer may have taken it meanwhile.
      const tagged = (yield* lastLook(target.headManifest, to, root.digest)) === "absent"
      if (tagged) yield* target.putManifest(to, root.bytes, root.mediaType)
      noteHome(to, root.digest)
      return tally(walked.flatMap((m) => m.outcomes), children.length + (tagged ? 1 : 0))
    })

  return copy
}

/** How one blob is made present in a target repository: asked, mounted, copied from another target, or copied from the source. */
const blobSteps = (source: ImageStore, target: ImageStore, state: CopyState) => {
  /** A mount from another repository of the target; false when the registry would not. */
  const mount = (to: ImageLocation, digest: string, from: string) =>
    target.mountBlob === undefined
      ? Effect.succeed(false)
      : target.mountBlob(to, digest, from).pipe(
        Effect.catchTags({ Unauthorized: () => Effect.succeed(false), TransportFailure: () => Effect.succeed(false) })
      )

  /** A blob another target registry got from the source in this run, copied from there; undefined when there is none (or it failed). */
  const copyFromOtherTarget = (to: ImageLocation, blob: Descriptor) =>
    Effect.gen(function*() {
      const landed = state.landed.find(blob.digest)
      if (landed === undefined) return undefined
      const at = yield* Effect.option(landed)
      if (Option.isNone(at) || at.value.endpoint.host === to.endpoint.host) return undefined
      const bytes = yield* Effect.option(copyOneBlob(target, target, at.value, to, blob))
      return Option.isNone(bytes) ? undefined : copied(bytes.value)
    })

  const ensure = (from: ImageLocation, to: ImageLocation, blob: Descriptor, held: Uint8Array | undefined) =>
    Effect.gen(function*() {
      const hostKey = `${to.endpoint.host} ${blob.digest}`
      let home = state.blobHomes.find(hostKey)
      // Asked only when the answer is not known from this run and is worth a round trip.
      if ((home === undefined && (target.localLookups === true || blob.size > SEND_WITHOUT_ASKING)) || (home !== undefined && !target.mountBlob)) {
        if (yield* target.hasBlob(to, blob.digest, blob.size)) return SKIPPED
        // Another image may have started putting it there while we asked: wait for that one.
        home = state.blobHomes.find(hostKey)
      }
      if (home !== undefined) {
        const repository = yield* Effect.option(home)
        if (Option.isSome(repository) && (repository.value === to.repository || target.sharedBlobs === true)) return SKIPPED
        if (Option.isSome(repository) && (yield* mount(to, blob.digest, repository.value))) return MOUNTED
      }
      // Bytes already in memory need no read anywhere; otherwise another target may have them.
      const other = held === undefined ? yield* copyFromOtherTarget(to, blob) : undefined
      if (other !== undefined) return other
      const transfer = shareOnce(held === undefined ? copyOneBlob(source, target, from, to, blob) : writeHeldBlob(target, to, blob, held))
      // Registered before it runs, so a concurrent copy of the same blob into this registry waits
      // for this one (and forgets it if it fails), and a later target registry copies from here.
      const run = state.blobHomes.find(hostKey) === undefined ? state.blobHomes.get(hostKey, () => Effect.as(transfer, to.repository)) : transfer
      state.landed.get(blob.digest, () => Effect.as(transfer, to))
      yield* run
      return copied(yield* transfer)
    })

  /** Makes a blob present in the target repository, once, however many children share it (the others count it skipped). */
  const place = (from: ImageLocation, to: ImageLocation, blob: Descriptor, held: Uint8Array | undefined): Effect.Effect<BlobOutcome, TransportError> => {
    const key = `${to.endpoint.host} ${to.repository} ${blob.digest}`
    const first = state.placed.find(key) === undefined
    const placed = state.placed.get(key, () => ensure(from, to, blob, held))
    return first ? placed : Effect.as(placed, SKIPPED)
  }

  return { place }
}
