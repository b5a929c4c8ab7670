/**
 * Progress events of a run, for live views and event streams. The pipeline sets, per image,
 * a reporter in a FiberRef; deep layers (blob uploads) report bytes through it without
 * knowing who listens. The default reporter drops everything.
 */
import { Effect, FiberRef } from "effect"
import type { ImageResult } from "./Result.ts"

/** A pipeline step ("resolve" covers the target check too: both HEADs go out together). */
export type Step = "resolve" | "compare" | "copy" | "sign"

/** One progress event. `image` is the entry's position in the definition. */
export type ProgressEvent =
  | { readonly _tag: "ImageStarted"; readonly image: number; readonly source: string; readonly target: string }
  | { readonly _tag: "StepStarted"; readonly image: number; readonly step: Step }
  | { readonly _tag: "BlobStarted"; readonly image: number; readonly digest: string; readonly size: number }
  | { readonly _tag: "BytesCopied"; readonly image: number; readonly bytes: number }
  | { readonly _tag: "ImageFinished"; readonly image: number; readonly result: ImageResult }
  /**
   * An image's result changed after it finished, by the end-of-run read-back of the tag it
   * wrote: a conflict when another writer replaced the tag, or a warning (the tag could not be
   * read back, or the run was interrupted first). `result` is the final word.
   */
  | { readonly _tag: "ImageRevised"; readonly image: number; readonly result: ImageResult }

/** An event without the image position (added by the per-image reporter). */
export type ImageEvent =
  | { readonly _tag: "StepStarted"; readonly step: Step }
  | { readonly _tag: "BlobStarted"; readonly digest: string; readonly size: number }
  | { readonly _tag: "BytesCopied"; readonly bytes: number }

/** The current image's reporter. */
export const currentReporter: FiberRef.FiberRef<(event: ImageEvent) => void> = FiberRef.unsafeMake<(event: ImageEvent) => void>(() => {})

/** Reports an event for the current image (a no-op when nobody listens). */
export const report = (event: ImageEvent): Effect.Effect<void> => Effect.flatMap(FiberRef.get(currentReporter), (r) => Effect.sync(() => r(event)))

/** The same, for synchronous code paths (stream taps) that already hold the reporter. */
export const reporterNow = FiberRef.get(currentReporter)
