/**
 * Plain output, for pipes and CI logs, no control characters at all. By default it is quiet:
 * the result lines go to stdout (Sync.ts), and this view writes only, on runs long enough to
 * wonder about, a progress line per `render()` (every 10 s): `[120/2000] 3.40 GiB moved,
 * 42.0 MiB/s, ETA 2m10s`. With `detail` (--debug) it writes one stable, grep-friendly line
 * per event instead; byte counts arrive per chunk and are coalesced into one `bytes` line per
 * image, written before that image's next event or on `render()`.
 */
import type { ProgressEvent } from "../../model/Progress.ts"
import type { ImageResult } from "../../model/Result.ts"
import { formatResult } from "../../report/Output.ts"
import type { ProgressView, ViewOptions } from "./ProgressView.ts"
import { formatBytes, formatDuration } from "../../report/Units.ts"
import { summaryTable } from "./Summary.ts"
import { oneLine } from "./Text.ts"
import { inOrder, makeTracker } from "./Tracker.ts"
import type { InFlight } from "./Tracker.ts"

/** How often a quiet plain run says how far it is (the CLI renders plain views at this interval). */
export const PROGRESS_EVERY_MS = 10_000

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

  /** The progress line: done / total, bytes moved, the rate so far, and the time left at that pace. */
  const progressLine = () => {
    const at = now()
    const elapsed = at - tracker.startedAt
    const done = tracker.done()
    const moved = tracker.bytesMoved()
    const rate = elapsed > 0 ? `, ${formatBytes(moved / (elapsed / 1000))}/s` : ""
    const eta = done > 0 && done < options.total ? `, ETA ${formatDuration((elapsed / done) * (options.total - done))}` : ""
    line(`[${done}/${options.total}] ${formatBytes(moved)} moved${rate}${eta}`)
  }

  const onEvent = (event: ProgressEvent): void => {
    if (finished) return
    // A revision gets a line of its own only when it changes the status (a warning alone is the report's).
    const revisedLine = event._tag === "ImageRevised" && tracker.statusOf(event.image) !== event.result.status
    const state = tracker.apply(event, now())
    if (event._tag === "BytesCopied") return
    if (event._tag === "ImageRevised") {
      if (revisedLine) line(formatResult(event.result))
      return
    }
    // Quiet: only the result line (which Sync.ts sends to stdout itself).
    if (!options.detail) {
      if (event._tag === "ImageFinished") line(formatResult(event.result))
      return
    }
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
      if (finished) return
      if (options.detail) { for (const state of inOrder(tracker)) flushBytes(state) }
      // Quiet runs show progress only once there has been time to wonder (the first render comes at the start).
      else if (now() - tracker.startedAt >= PROGRESS_EVERY_MS) progressLine()
    },
    clear: () => {},
    finish: (results: ReadonlyArray<ImageResult>, durationMs: number, unfinished?: number) => {
      if (finished) return
      finished = true
      // The closing one-line summary is stdout's last line (Sync.ts): it is not said twice.
      write(`${summaryTable(results, durationMs, unfinished).slice(0, -1).join("\n")}\n`)
    }
  }
}
