/**
 * The Pipeline: Resolve → CheckTarget → Compare → Copy → Sign for every entry, images in
 * flight concurrently (Resolve and CheckTarget side by side: neither needs the other). One
 * image's conflict or failure becomes its result and never stops the others. Each image's
 * result is given as it finishes (a written tag was verified when it was written); every tag
 * the run wrote is then read once more when the run's work is done, a second look: a tag
 * another writer replaced meanwhile revises its image's result to a conflict, and the run's
 * results hold that final word.
 */
import { Cause, Clock, Context, Effect, Either, Layer, Option } from "effect"
import type { Definition, ImageEntry } from "../definition/Definition.ts"
import { locate, perTarget } from "../definition/Locate.ts"
import { TagTaken } from "../model/Errors.ts"
import type { TransportError } from "../model/Errors.ts"
import { describeLocation } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import * as Progress from "../model/Progress.ts"
import type { ImageEvent, ProgressEvent } from "../model/Progress.ts"
import { imageResult } from "../model/Result.ts"
import type { ImageResult, ImageStatus } from "../model/Result.ts"
import { shareOnce } from "../model/shareOnce.ts"
import { formatTarget } from "../model/Target.ts"
import { CheckTarget } from "./CheckTarget.ts"
import { Compare } from "./Compare.ts"
import { Copy } from "./Copy.ts"
import { Expand } from "./Expand.ts"
import type { Expanded, Slot } from "./Expand.ts"
import { Resolve } from "./Resolve.ts"
import type { PlatformRead, ResolvedImage, ResolveError } from "./Resolve.ts"
import { Sign } from "./Sign.ts"
import { noRepositories, Repositories } from "../transport/Repositories.ts"
import { MAX_CONCURRENCY, SyncSettings } from "./SyncSettings.ts"

/** What every target of one entry shares: the source resolved once, its platform checked once, its size measured once. */
interface SourceWork {
  readonly resolve: Effect.Effect<ResolvedImage, ResolveError>
  readonly checkPlatform: (image: ResolvedImage) => Effect.Effect<PlatformRead | undefined, ResolveError>
  readonly size: (image: ResolvedImage) => Effect.Effect<number, TransportError>
}

/** Sees an image's result as it finishes (`revised` false), and once more (`revised` true) when the end-of-run read-back changes it. */
export type OnResult = (result: ImageResult, revised: boolean) => Effect.Effect<void>

/** One image's result before the end-of-run check, and the tag it wrote, if any. */
interface Processed {
  readonly result: ImageResult
  readonly written: ImageLocation | undefined
}

/** The Pipeline service. */
export class Pipeline extends Context.Tag("syncer/Pipeline")<Pipeline, {
  /** Syncs one entry; never fails: errors become the result. */
  readonly syncImage: (entry: ImageEntry, definition: Definition) => Effect.Effect<ImageResult>
  /**
   * Syncs every entry (bounded concurrency), `tags` rules expanded; the final results in
   * definition order. `onResult` sees each image's result as it finishes, and once more
   * (`revised`) when the end-of-run read-back changes it: a conflict for a tag another writer
   * replaced after this run wrote it, or a warning when the tag could not be read back (or the
   * run was interrupted before it was).
   */
  readonly syncAll: (
    definition: Definition,
    onResult?: OnResult,
    onEvent?: (event: ProgressEvent) => void
  ) => Effect.Effect<ReadonlyArray<ImageResult>>
  /** The images of a run: every `tags` rule replaced by the tags it selects (lists tags through the Transport). */
  readonly expand: (definition: Definition) => Effect.Effect<Expanded>
  /** syncAll for a definition already expanded (so the caller knows how many images there are before they start). */
  readonly syncExpanded: (
    expanded: Expanded,
    onResult?: OnResult,
    onEvent?: (event: ProgressEvent) => void
  ) => Effect.Effect<ReadonlyArray<ImageResult>>
}>() {
  /** The pipeline over the five step services. */
  static layer = Layer.effect(
    Pipeline,
    Effect.gen(function*() {
      const resolve = yield* Resolve
      const checkTarget = yield* CheckTarget
      const compare = yield* Compare
      const copy = yield* Copy
      const sign = yield* Sign
      const settings = yield* SyncSettings
      const expand = yield* Expand
      // Only runs that create repositories on demand provide one (the composition root decides).
      const repositories = Option.getOrElse(yield* Effect.serviceOption(Repositories), () => noRepositories)

      /** The work on the source that every target of an entry shares: done once, for the first target that needs it. */
      const sourceWork = (entry: ImageEntry, definition: Definition): SourceWork => {
        // One target (the usual case) shares with nobody: no fiber of its own per image.
        if (entry.targets.length === 1) return { resolve: resolve.resolve(entry, definition), checkPlatform: resolve.checkPlatform, size: resolve.size }
        let platformChecked: Effect.Effect<PlatformRead | undefined, ResolveError> | undefined
        let measured: Effect.Effect<number, TransportError> | undefined
        return {
          resolve: shareOnce(resolve.resolve(entry, definition)),
          checkPlatform: (image) => (platformChecked ??= shareOnce(resolve.checkPlatform(image))),
          size: (image) => (measured ??= shareOnce(resolve.size(image)))
        }
      }

      /** One image to one target through the five steps; a synced result also names the tag it wrote, to confirm. */
      const processImage = (entry: ImageEntry, definition: Definition, shared: SourceWork = sourceWork(entry, definition)): Effect.Effect<Processed> => {
        const target = formatTarget(entry.target)
        let digest: string | undefined
        let sourceDigest: string | undefined
        let warnings: ReadonlyArray<string> = []
        const result = (
          status: ImageStatus,
          extra: Partial<Omit<ImageResult, "source" | "target" | "digest" | "sourceDigest" | "status" | "warnings">> = {}
        ): ImageResult =>
          // durationMs is stamped when the image is done (below), from the Clock
          imageResult({
            source: entry.source,
            target,
            digest,
            ...(sourceDigest !== undefined && sourceDigest !== digest ? { sourceDigest } : {}),
            status,
            warnings,
            ...extra
          })

        const finalResult = (r: ImageResult): Processed => ({ result: r, written: undefined })
        const fail = (status: ImageStatus) => (e: { readonly _tag: string; readonly message: string }) => {
          const hint = settings.hint?.(e)
          return Effect.succeed(finalResult(result(status, { error: hint === undefined ? e.message : `${e.message} (${hint})`, errorType: e._tag })))
        }
        const steps = (started: number) => Effect.gen(function*() {
          yield* Progress.report({ _tag: "StepStarted", step: "resolve" })
          const pinned = entry.reference.digest
          const located = locate(entry, definition)
          // A pinned entry whose target tag already holds its digest needs nothing from the
          // source: the target is asked first, and the source only when there is more to do.
          const early = pinned === undefined ? undefined : yield* checkTarget.check(located)
          if (early !== undefined && Option.isSome(early) && early.value.digest === pinned) {
            const image = resolve.resolvedFromTarget(entry, located, early.value)
            digest = pinned
            warnings = image.warnings
            if (sign.signs) yield* Progress.report({ _tag: "StepStarted", step: "sign" })
            return finalResult(result("present", yield* sign.sign(image, false, started)))
          }
          // Otherwise the target tag does not depend on the source: both HEADs go out at once. The
          // source's error wins (it is the one to fix first), so the check's waits until Resolve is through.
          const [resolved, checked] = yield* Effect.all([
            shared.resolve,
            early === undefined ? Effect.either(checkTarget.check(located)) : Effect.succeed(Either.right(early))
          ], { concurrency: 2 })
          // Resolved once for the entry; this target's location and name.
          const image: ResolvedImage = { ...resolved, entry, target: located.target }
          digest = image.manifest.digest
          sourceDigest = image.sourceDigest
          warnings = image.warnings
          for (const w of image.warnings) yield* Effect.logWarning(`${entry.source}: ${w}`)
          const existing = yield* checked
          yield* Progress.report({ _tag: "StepStarted", step: "compare" })
          const decision = yield* compare.compare(image, existing)
          if (decision === "present") {
            if (sign.signs) yield* Progress.report({ _tag: "StepStarted", step: "sign" })
            // An image that is present but unsigned gets signed (the Sign step writes nothing in a dry run).
            return finalResult(result("present", yield* sign.sign(image, false, started)))
          }
          const fetched = yield* shared.checkPlatform(image)
          if (settings.dryRun) {
            const wouldCreateRepository = yield* repositories.wouldCreate(image.target)
            const signed = yield* sign.sign(image, false, started)
            const sizeBytes = settings.measure ? yield* shared.size(fetched === undefined ? image : { ...image, fetched }) : undefined
            return finalResult(result("planned", { ...signed, ...(sizeBytes !== undefined ? { sizeBytes } : {}), ...(wouldCreateRepository ? { wouldCreateRepository } : {}) }))
          }
          yield* Progress.report({ _tag: "StepStarted", step: "copy" })
          // Before the first write: a registry that does not create repositories on push gets it made (createRepositories).
          const repositoryCreated = yield* repositories.ensure(image.target)
          const copied = yield* copy.copy(fetched === undefined ? image : { ...image, fetched })
          if (sign.signs) yield* Progress.report({ _tag: "StepStarted", step: "sign" })
          const signed = yield* sign.sign(image, true, started)
          return { result: result("synced", { ...signed, bytesCopied: copied.bytesCopied, ...(repositoryCreated ? { repositoryCreated } : {}) }), written: image.target }
        }).pipe(
          Effect.catchTags({
            TagConflict: fail("conflict"),
            TagTaken: fail("conflict"),
            SourceNotFound: fail("failed"),
            PlatformMismatch: fail("failed"),
            DigestMismatch: fail("failed"),
            ImageNotFound: fail("failed"),
            Unauthorized: fail("failed"),
            RegistryUnavailable: fail("failed"),
            TransportFailure: fail("failed"),
            UnsupportedUrl: fail("failed"),
            ResponseTooLarge: fail("failed"),
            RateLimited: fail("failed"),
            RepositoryNotFound: fail("failed"),
            RegistryError: fail("failed"),
            SigningFailed: fail("failed")
          }),
          // A bug in one image must not take the run down; it is reported like any failure.
          Effect.catchAllDefect((defect) =>
            Effect.succeed(finalResult(result("failed", { error: `internal error: ${Cause.pretty(Cause.die(defect)).split("\n")[0]}`, errorType: "Defect" })))
          ),
          Effect.annotateLogs("image", entry.source)
        )
        return Effect.flatMap(Clock.currentTimeMillis, (started) =>
          Effect.flatMap(steps(started), (done) =>
            Effect.map(Clock.currentTimeMillis, (now): Processed => ({ ...done, result: { ...done.result, durationMs: now - started } }))))
      }

      /**
       * The last word on a tag this run wrote: it must still hold our digest. Another writer that
       * replaced it makes the image a conflict; a check that cannot be made leaves it synced, with
       * a warning saying so. The same result when nothing changed.
       */
      const confirm = (written: ImageLocation, r: ImageResult): Effect.Effect<ImageResult> =>
        checkTarget.check({ target: written }).pipe(
          Effect.map((now): ImageResult => {
            const found = Option.match(now, { onNone: () => "(nothing)", onSome: (d) => d.digest })
            if (found === r.digest) return r
            const e = new TagTaken({ target: describeLocation(written), expected: r.digest ?? "", found, when: "replaced" })
            return { ...r, status: "conflict", error: e.message, errorType: e._tag }
          }),
          Effect.catchAll((e) => {
            const warning = `the tag could not be read back at the end of the run: ${e.message}`
            return Effect.as(Effect.logWarning(`${r.source}: ${warning}`), { ...r, warnings: [...r.warnings, warning] })
          })
        )

      const syncImage = (entry: ImageEntry, definition: Definition): Effect.Effect<ImageResult> =>
        Effect.flatMap(processImage(entry, definition), ({ result, written }) => (written ? confirm(written, result) : Effect.succeed(result)))

      const syncExpanded = (
        { definition, slots }: Expanded,
        onResult?: OnResult,
        onEvent?: (event: ProgressEvent) => void
      ): Effect.Effect<ReadonlyArray<ImageResult>> => {
        const concurrency = Math.min(MAX_CONCURRENCY, Math.max(1, Math.floor(settings.concurrency)))
        const emit = (index: number, r: ImageResult) =>
          Effect.zipRight(
            onResult ? onResult(r, false) : Effect.void,
            Effect.sync(() => onEvent?.({ _tag: "ImageFinished", image: index, result: r }))
          )
        const revise = (index: number, r: ImageResult) =>
          Effect.zipRight(
            Effect.sync(() => {
              results[index] = r
            }),
            Effect.zipRight(onResult ? onResult(r, true) : Effect.void, Effect.sync(() => onEvent?.({ _tag: "ImageRevised", image: index, result: r })))
          )
        // Written tags get a second look at the end (their results are out already), in image order.
        const toConfirm = new Map<number, { readonly written: ImageLocation; readonly result: ImageResult }>()
        // Every (entry, target) pair is one image of the run, numbered in definition order, targets in prefix order.
        const firsts: Array<number> = []
        let count = 0
        for (const slot of slots) {
          firsts.push(count)
          count += slot._tag === "Known" ? slot.results.length : slot.entry.targets.length
        }
        const results: Array<ImageResult | undefined> = new Array(count)
        const one = (slot: Slot, n: number) => {
          const first = firsts[n]!
          if (slot._tag === "Known") {
            return Effect.forEach(slot.results, (known, k) =>
              Effect.sync(() => {
                results[first + k] = known
                onEvent?.({ _tag: "ImageStarted", image: first + k, source: known.source, target: known.target })
              }).pipe(Effect.zipRight(emit(first + k, known))), { discard: true })
          }
          const entry = slot.entry
          const shared = sourceWork(entry, definition)
          // One target after the other: a later target copies what the first one already holds.
          return Effect.forEach(perTarget(entry), (forTarget, k) => {
            const index = first + k
            const run = Effect.gen(function*() {
              if (onEvent) onEvent({ _tag: "ImageStarted", image: index, source: entry.source, target: formatTarget(forTarget.target) })
              const processed = yield* processImage(forTarget, definition, shared)
              const written = processed.written
              // What the run found about the entry itself (a tag a rule also selected) comes first.
              const result = slot.warnings === undefined
                ? processed.result
                : { ...processed.result, warnings: [...slot.warnings, ...processed.result.warnings] }
              results[index] = result
              if (written) toConfirm.set(index, { written, result })
              yield* emit(index, result)
            })
            return onEvent ? Effect.locally(run, Progress.currentReporter, (event: ImageEvent) => onEvent({ ...event, image: index })) : run
          }, { discard: true })
        }
        // A result the read-back changes is given again (revised); one it confirms is not.
        const confirmAll = Effect.suspend(() =>
          Effect.forEach(
            [...toConfirm.keys()].sort((a, b) => a - b),
            (index) => {
              const { written, result } = toConfirm.get(index)!
              return Effect.flatMap(confirm(written, result), (r) =>
                Effect.zipRight(
                  Effect.sync(() => toConfirm.delete(index)),
                  r === result ? Effect.void : revise(index, r)
                ))
            },
            { concurrency, discard: true }
          )
        )
        return Effect.gen(function*() {
          yield* Effect.forEach(slots, one, { concurrency, discard: true })
          yield* confirmAll
          return results.filter((r): r is ImageResult => r !== undefined)
        }).pipe(
          // Interrupted before the end: what was written stands as reported, and says it was not read back.
          Effect.onInterrupt(() =>
            Effect.forEach([...toConfirm].sort(([a], [b]) => a - b), ([index, { result }]) =>
              revise(index, { ...result, warnings: [...result.warnings, "not read back at the end: the run was interrupted"] }), { discard: true })
          )
        )
      }

      const syncAll = (
        definition: Definition,
        onResult?: OnResult,
        onEvent?: (event: ProgressEvent) => void
      ) => Effect.flatMap(expand.expand(definition), (expanded) => syncExpanded(expanded, onResult, onEvent))

      return { syncImage, syncAll, syncExpanded, expand: expand.expand }
    })
  )
}
