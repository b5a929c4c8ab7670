/**
 * JSON lines, for programs: one object per event (`{"event":"ImageFinished",…}` carries the
 * result; `{"event":"ImageRevised",…}` the same fields when the end-of-run read-back changed an
 * image's result), byte counts coalesced per image as in plain output, the summary object last.
 */
import type { ProgressEvent } from "../../model/Progress.ts"
import type { ImageResult } from "../../model/Result.ts"
import { whenApplicable } from "../../report/Output.ts"
import type { ProgressView, ViewOptions } from "./ProgressView.ts"
import { summaryObject } from "./Summary.ts"
import { inOrder, makeTracker } from "./Tracker.ts"
import type { InFlight } from "./Tracker.ts"

/** The fields of a result as a JSON line carries them. */
export const resultFields = (r: ImageResult) => ({
  source: r.source,
  target: r.target,
  digest: r.digest ?? null,
  status: r.status,
  error: r.error ?? null,
  errorType: r.errorType ?? null,
  warnings: r.warnings,
  signed: r.signed,
  signatureDigest: r.signatureDigest ?? null,
  wouldSign: r.wouldSign,
  ...whenApplicable(r),
  carried: r.carried,
  bytesCopied: r.bytesCopied,
  durationMs: r.durationMs
})

/** The JSON-lines view, writing through `write`. */
export const jsonView = (write: (s: string) => void, options: ViewOptions): ProgressView => {
  const now = options.now ?? Date.now
  const tracker = makeTracker(now())
  let finished = false
  const jsonLine = (record: Record<string, unknown>) => write(`${JSON.stringify({ ...record, time: new Date(now()).toISOString() })}\n`)

  const flushBytes = (state: InFlight) => {
    if (state.pending === 0) return
    const bytes = state.pending
    state.pending = 0
    jsonLine({ event: "BytesCopied", image: state.image, source: state.source, bytes, copied: state.copied, total: state.total })
  }

  const onEvent = (event: ProgressEvent): void => {
    if (finished) return
    const state = tracker.apply(event, now())
    if (event._tag === "BytesCopied") return
    if (state) flushBytes(state)
    const source = state?.source ?? (event._tag === "ImageStarted" ? event.source : "?")
    switch (event._tag) {
      case "ImageStarted":
        return jsonLine({ event: event._tag, image: event.image, source: event.source, target: event.target })
      case "StepStarted":
        return jsonLine({ event: event._tag, image: event.image, source, step: event.step })
      case "BlobStarted":
        return jsonLine({ event: event._tag, image: event.image, source, digest: event.digest, size: event.size })
      case "ImageFinished":
      case "ImageRevised":
        return jsonLine({ event: event._tag, image: event.image, ...resultFields(event.result) })
    }
  }

  return {
    onEvent,
    render: () => {
      if (!finished) { for (const state of inOrder(tracker)) flushBytes(state) }
    },
    clear: () => {},
    finish: (results, durationMs, unfinished) => {
      if (finished) return
      finished = true
      jsonLine(summaryObject(results, durationMs, unfinished))
    }
  }
}
