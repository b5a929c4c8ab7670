/**
 * The Pipeline: Resolve → CheckTarget → Compare → Copy → Sign for every entry, images in
 * flight concurrently (Resolve and CheckTarget side by side: neither needs the other). One image's conflict or failure becomes its result and never stops
 * the others.
 */
import { Cause, Context, Effect, Layer } from "effect"
import type { Definition, ImageEntry } from "../domain/Definition.ts"
import { formatTarget } from "../domain/Target.ts"
import { CheckTarget } from "./CheckTarget.ts"
import { Compare } from "./Compare.ts"
import { Copy } from "./Copy.ts"
import { locate, Resolve } from "./Resolve.ts"
import { Sign } from "./Sign.ts"
import { SyncSettings } from "./SyncSettings.ts"
import * as Progress from "./Progress.ts"

import type { ImageEvent, ProgressEvent } from "./Progress.ts"

/** What happened to one image. */
export type ImageStatus = "synced" | "present" | "planned" | "conflict" | "failed"

/** One image's outcome, as printed and written to the report. */
export interface ImageResult {
  /** the entry's `source` as written */
  readonly source: string
  /** "registry/repository:tag" */
  readonly target: string
  /** the source digest (what the target tag holds or will hold), when known */
  readonly digest: string | undefined
  readonly status: ImageStatus
  readonly error: string | undefined
  /** the error's tag, for programs: "TagConflict", "SourceNotFound", … */
  readonly errorType: string | undefined
  readonly warnings: ReadonlyArray<string>
  readonly signed: boolean | "already"
  readonly signatureDigest: string | undefined
  /** dry run: a signature would be added */
  readonly wouldSign: boolean
  /** upstream signature artifacts copied along */
  readonly carried: ReadonlyArray<string>
  readonly bytesCopied: number
  /** `plan` only: bytes of the image (manifests, configs, layers) a copy would bring */
  readonly sizeBytes?: number
  readonly durationMs: number
}

/** The Pipeline service. */
export class Pipeline extends Context.Tag("syncer/Pipeline")<Pipeline, {
  /** Syncs one entry; never fails: errors become the result. */
  readonly syncImage: (entry: ImageEntry, definition: Definition) => Effect.Effect<ImageResult>
  /** Syncs every entry (bounded concurrency); results in definition order; `onResult` sees each as it finishes. */
  readonly syncAll: (
    definition: Definition,
    onResult?: (result: ImageResult) => Effect.Effect<void>,
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

      const syncImage = (entry: ImageEntry, definition: Definition): Effect.Effect<ImageResult> => {
        const started = Date.now()
        const target = formatTarget(entry.target)
        let digest: string | undefined
        let warnings: ReadonlyArray<string> = []
        const result = (
          status: ImageStatus,
          extra: Partial<Pick<ImageResult, "error" | "errorType" | "signed" | "signatureDigest" | "bytesCopied" | "wouldSign" | "carried" | "sizeBytes">> = {}
        ): ImageResult => ({
          source: entry.source,
          target,
          digest,
          status,
          error: extra.error,
          errorType: extra.errorType,
          warnings,
          signed: extra.signed ?? false,
          signatureDigest: extra.signatureDigest,
          wouldSign: extra.wouldSign ?? false,
          carried: extra.carried ?? [],
          bytesCopied: extra.bytesCopied ?? 0,
          ...(extra.sizeBytes !== undefined ? { sizeBytes: extra.sizeBytes } : {}),
          durationMs: Date.now() - started
        })
        const fail = (status: ImageStatus) => (e: { readonly _tag: string; readonly message: string }) =>
          Effect.succeed(result(status, { error: e.message, errorType: e._tag }))

        return Effect.gen(function*() {
          yield* Progress.report({ _tag: "StepStarted", step: "resolve" })
          // The target tag does not depend on the source: both HEADs go out at once. The source's
          // error wins (it is the one to fix first), so the check's waits until Resolve is through.
          const [image, checked] = yield* Effect.all([
            resolve.resolve(entry, definition),
            Effect.either(checkTarget.check(locate(entry, definition)))
          ], { concurrency: 2 })
          digest = image.manifest.digest
          warnings = image.warnings
          for (const w of image.warnings) yield* Effect.logWarning(`${entry.source}: ${w}`)
          const existing = yield* checked
          yield* Progress.report({ _tag: "StepStarted", step: "compare" })
          const decision = yield* compare.compare(image, existing)
          if (decision === "present") {
            yield* Progress.report({ _tag: "StepStarted", step: "sign" })
            // An image that is present but unsigned gets signed (the Sign step writes nothing in a dry run).
            return result("present", yield* sign.sign(image, false))
          }
          yield* resolve.checkPlatform(image)
          if (settings.dryRun) {
            const signed = yield* sign.sign(image, false)
            const sizeBytes = settings.measure ? yield* resolve.size(image) : undefined
            return result("planned", { ...signed, ...(sizeBytes !== undefined ? { sizeBytes } : {}) })
          }
          yield* Progress.report({ _tag: "StepStarted", step: "copy" })
          const copied = yield* copy.copy(image)
          yield* Progress.report({ _tag: "StepStarted", step: "sign" })
          const signed = yield* sign.sign(image, true)
          return result("synced", { ...signed, bytesCopied: copied.bytesCopied })
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
            SigningFailed: fail("failed")
          }),
          // A bug in one image must not take the run down; it is reported like any failure.
          Effect.catchAllDefect((defect) =>
            Effect.succeed(result("failed", { error: `internal error: ${Cause.pretty(Cause.die(defect)).split("\n")[0]}`, errorType: "Defect" }))
          ),
          Effect.annotateLogs("image", entry.source)
        )
      }

      const syncAll = (
        definition: Definition,
        onResult?: (result: ImageResult) => Effect.Effect<void>,
        onEvent?: (event: ProgressEvent) => void
      ) =>
        Effect.forEach(
          definition.images,
          (entry, index) => {
            const run = syncImage(entry, definition).pipe(Effect.tap((r) => (onResult ? onResult(r) : Effect.void)))
            if (!onEvent) return run
            return Effect.sync(() => onEvent({ _tag: "ImageStarted", image: index, source: entry.source, target: formatTarget(entry.target) })).pipe(
              Effect.zipRight(run),
              Effect.tap((result) => Effect.sync(() => onEvent({ _tag: "ImageFinished", image: index, result }))),
              Effect.locally(Progress.currentReporter, (event: ImageEvent) => onEvent({ ...event, image: index }))
            )
          },
          { concurrency: Math.max(1, settings.concurrency) }
        )

      return { syncImage, syncAll }
    })
  )
}
