/**
 * Plain output, for pipes and CI logs: one stable, grep-friendly line per event, no control
 * characters at all. A finished image's line is exactly `formatResult` (report/Output.ts).
 * Byte counts arrive per chunk; they are coalesced into one `bytes` line per image, written
 * before that image's next event or on `render()` (a heartbeat).
 */
import type { ProgressEvent } from "../../model/Progress.ts"
import type { ImageResult } from "../../model/Result.ts"
import { formatResult } from "../../report/Output.ts"
import type { ProgressView, ViewOptions } from "./ProgressView.ts"
import { summaryTable } from "./Summary.ts"
import { oneLine } from "./Text.ts"
import { inOrder, makeTracker } from "./Tracker.ts"
import type { InFlight } from "./Tracker.ts"

/** The plain view, writing through `write`. */
export const plainView = (write: (s: string) => void, options: ViewOptions): ProgressView => {
  const now = options.now ?? Date.now
  const tracker = makeTracker(now())
  let finished = false
  const line = (s: string) => write(`${oneLine(s)}\n`)
  const plainLine = (image: number, kind: string, source: string, detail: string) =>
    line(`[${image + 1}/${options.total}] ${kind} ${source}${detail === "" ? "" : ` ${detail}`}`)

  const flushBytes = (state: InFlight) => {
    if (state.pending === 0) return
    state.pending = 0
    plainLine(state.image, "bytes", state.source, `${state.copied}/${state.total}`)
  }

  const onEvent = (event: ProgressEvent): void => {
    if (finished) return
    const state = tracker.apply(event, now())
    if (event._tag === "BytesCopied") return
    if (state) flushBytes(state)
    const source = state?.source ?? (event._tag === "ImageStarted" ? event.source : "?")
    switch (event._tag) {
      case "ImageStarted":
        return plainLine(event.image, "start", event.source, `-> ${event.target}`)
      case "StepStarted":
        return plainLine(event.image, "step", source, event.step)
      case "BlobStarted":
        return plainLine(event.image, "blob", source, `${event.digest} ${event.size}`)
      case "ImageFinished":
        return line(formatResult(event.result))
    }
  }

  return {
    onEvent,
    render: () => {
      if (!finished) for (const state of inOrder(tracker)) flushBytes(state)
    },
    clear: () => {},
    finish: (results: ReadonlyArray<ImageResult>, durationMs: number) => {
      if (finished) return
      finished = true
      write(`${summaryTable(results, durationMs).join("\n")}\n`)
    }
  }
}
