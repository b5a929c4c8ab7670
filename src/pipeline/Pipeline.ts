/**
 * The Pipeline: Resolve → CheckTarget → Compare → Copy → Sign for every entry (ProcessImage.ts),
 * images in flight concurrently. One image's conflict or failure becomes its result and never
 * stops the others. Each image's result is given as it finishes (a written tag was verified
 * when it was written); every tag the run wrote is then read once more when the run's work is
 * done (ReadBack.ts), a second look: a tag another writer replaced meanwhile revises its
 * image's result to a conflict, and the run's results hold that final word.
 */
import { Context, Effect, Layer, Option, Ref } from "effect"
import type { Definition, ImageEntry } from "../definition/Definition.ts"
import { perTarget } from "../definition/Locate.ts"
import type { ImageLocation } from "../model/Location.ts"
import * as Progress from "../model/Progress.ts"
import type { ImageEvent, ProgressEvent } from "../model/Progress.ts"
import type { ImageResult } from "../model/Result.ts"
import { formatTarget } from "../model/Target.ts"
import { noRepositories, Repositories } from "../transport/Repositories.ts"
import { CheckTarget } from "./CheckTarget.ts"
import { Compare } from "./Compare.ts"
import { Copy } from "./Copy.ts"
import { Expand } from "./Expand.ts"
import type { Expanded, Slot } from "./Expand.ts"
import { makeProcessImage } from "./ProcessImage.ts"
import { notReadBack, readBack } from "./ReadBack.ts"
import { Resolve } from "./Resolve.ts"
import { Sign } from "./Sign.ts"
import { SyncSettings } from "./SyncSettings.ts"

/** Sees an image's result as it finishes (`revised` false), and once more (`revised` true) when the end-of-run read-back changes it. */
export type OnResult = (result: ImageResult, revised: boolean) => Effect.Effect<void>

/** One image of a run as it finished: its number (definition order, targets in prefix order), its result, the tag it wrote. */
interface Finished {
  readonly index: number
  readonly result: ImageResult
  readonly written: ImageLocation | undefined
}

/** Each slot with the number of its first image: every (entry, target) pair is one image of the run. */
const numbered = (slots: ReadonlyArray<Slot>): ReadonlyArray<{ readonly slot: Slot; readonly first: number }> =>
  slots.reduce<{ readonly next: number; readonly out: ReadonlyArray<{ readonly slot: Slot; readonly first: number }> }>(
    ({ next, out }, slot) => ({
      next: next + (slot._tag === "Known" ? slot.results.length : slot.entry.targets.length),
      out: [...out, { slot, first: next }]
    }),
    { next: 0, out: [] }
  ).out

/**
 * The Pipeline service: every image of a definition through the five steps; never fails (each
 * image's outcome is its `ImageResult`). Built by `pipelineLayer`.
 *
 * @example
 * ```ts
 * const results = yield* Effect.flatMap(Sync.Pipeline, (pipeline) =>
 *   pipeline.syncAll(definition, (result) => Console.log(Report.formatResult(result))))
 * ```
 */
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
      const checkTarget = yield* CheckTarget
      const settings = yield* SyncSettings
      const expand = yield* Expand
      const { processImage, sourceWork } = makeProcessImage({
        resolve: yield* Resolve,
        checkTarget,
        compare: yield* Compare,
        copy: yield* Copy,
        sign: yield* Sign,
        // Only runs that create repositories on demand provide one (the composition root decides).
        repositories: Option.getOrElse(yield* Effect.serviceOption(Repositories), () => noRepositories),
        settings
      })

      const syncImage = (entry: ImageEntry, definition: Definition): Effect.Effect<ImageResult> =>
        Effect.flatMap(processImage(entry, definition), ({ result, written }) => (written ? readBack(checkTarget, written, result) : Effect.succeed(result)))

      const syncExpanded = (
        { definition, slots }: Expanded,
        onResult?: OnResult,
        onEvent?: (event: ProgressEvent) => void
      ): Effect.Effect<ReadonlyArray<ImageResult>> => {
        const concurrency = settings.concurrency
        const started = (index: number, source: string, target: string) => Effect.sync(() => onEvent?.({ _tag: "ImageStarted", image: index, source, target }))
        const emit = (index: number, r: ImageResult) =>
          Effect.zipRight(onResult ? onResult(r, false) : Effect.void, Effect.sync(() => onEvent?.({ _tag: "ImageFinished", image: index, result: r })))
        const revise = (index: number, r: ImageResult) =>
          Effect.zipRight(onResult ? onResult(r, true) : Effect.void, Effect.sync(() => onEvent?.({ _tag: "ImageRevised", image: index, result: r })))

        /** The images of one slot, one target after the other (a later target copies what the first one already holds). */
        const runSlot = (unconfirmed: Ref.Ref<ReadonlyArray<Finished>>, slot: Slot, first: number): Effect.Effect<ReadonlyArray<Finished>> => {
          if (slot._tag === "Known") {
            return Effect.forEach(slot.results, (known, k) =>
              started(first + k, known.source, known.target).pipe(
                Effect.zipRight(emit(first + k, known)),
                Effect.as<Finished>({ index: first + k, result: known, written: undefined })
              ))
          }
          const entry = slot.entry
          const shared = sourceWork(entry, definition)
          return Effect.forEach(perTarget(entry), (forTarget, k) => {
            const index = first + k
            const run = Effect.gen(function*() {
              yield* started(index, entry.source, formatTarget(forTarget.target))
              const processed = yield* processImage(forTarget, definition, shared)
              // What the run found about the entry itself (a tag a rule also selected) comes first.
              const result = slot.warnings === undefined
                ? processed.result
                : { ...processed.result, warnings: [...slot.warnings, ...processed.result.warnings] }
              const finished: Finished = { index, result, written: processed.written }
              if (finished.written) yield* Ref.update(unconfirmed, (all) => [...all, finished])
              yield* emit(index, result)
              return finished
            })
            return onEvent ? Effect.locally(run, Progress.currentReporter, (event: ImageEvent) => onEvent({ ...event, image: index })) : run
          })
        }

        /** The read-back of the written tags, in image order; a result it changes is given again (revised), one it confirms is not. */
        const readBackAll = (unconfirmed: Ref.Ref<ReadonlyArray<Finished>>, finished: ReadonlyArray<Finished>) =>
          Effect.forEach(finished, ({ index, result, written }) =>
            written === undefined ? Effect.succeed(result) : readBack(checkTarget, written, result).pipe(
              Effect.tap(() => Ref.update(unconfirmed, (all) => all.filter((f) => f.index !== index))),
              Effect.tap((r) => (r === result ? Effect.void : revise(index, r)))
            ), { concurrency })

        return Effect.flatMap(
          Ref.make<ReadonlyArray<Finished>>([]),
          (unconfirmed) =>
            Effect.forEach(numbered(slots), ({ slot, first }) => runSlot(unconfirmed, slot, first), { concurrency }).pipe(
              Effect.flatMap((perSlot) => readBackAll(unconfirmed, perSlot.flat())),
              // Interrupted before the end: what was written stands as reported, and says it was not read back.
              Effect.onInterrupt(() =>
                Effect.flatMap(Ref.get(unconfirmed), (left) =>
                  Effect.forEach(
                    [...left].sort((a, b) => a.index - b.index),
                    ({ index, result }) => revise(index, notReadBack(result)),
                    { discard: true }
                  ))
              )
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
