/**
 * The live view on a terminal: a block redrawn in place (cursor up + clear line) with, per
 * image in flight, its step, bytes copied / total and rate, and overall done / total and ETA;
 * finished images scroll above it as result lines (ResultLine.ts: the target prefix named once
 * above them, a conflict's or failure's reason on continuation lines), and a result the
 * end-of-run read-back revises gets one more. Every line fits the terminal's width, and the
 * redraw moves up by the screen rows the last block took at the width it has now, so a resize
 * leaves nothing of an earlier frame behind.
 */
import type { ProgressEvent } from "../../model/Progress.ts"
import type { ImageResult, ImageStatus } from "../../model/Result.ts"
import { formatBytes, formatDuration } from "../../report/Units.ts"
import type { ProgressView, ViewOptions } from "./ProgressView.ts"
import { summaryTable } from "./Summary.ts"
import { normalPrefixes, prefixHeader, resultLines, shownSource } from "./ResultLine.ts"
import { ESC, renderSegments, SGR, shortenMiddle, statusColour, stripAnsi } from "./Text.ts"
import type { Segment } from "./Text.ts"
import { inOrder, makeTracker } from "./Tracker.ts"
import type { InFlight } from "./Tracker.ts"

/** At most this many images get a line of their own; the rest are counted. */
const MAX_IMAGE_LINES = 12

/** The live view, writing through `write` (a terminal). */
export const liveView = (write: (s: string) => void, options: ViewOptions): ProgressView => {
  const now = options.now ?? Date.now
  // One column is left free: a line that fills the last column makes some terminals wrap.
  const widthNow = () => Math.max(20, (typeof options.width === "function" ? options.width() : options.width ?? 80) - 1)
  const color = options.color
  const tracker = makeTracker(now())
  const prefixes = normalPrefixes(options.prefixes ?? [])
  let finished = false
  /** the target prefixes are named once, above the first result */
  let headerShown = false
  /** visible lengths of the block's lines now on screen */
  let blockShown: ReadonlyArray<number> = []

  const rate = (state: InFlight, at: number): string => {
    if (state.copyStartedAt === undefined || state.copied === 0) return ""
    const seconds = (at - state.copyStartedAt) / 1000
    return seconds > 0 ? `${formatBytes(state.copied / seconds)}/s` : ""
  }

  const eta = (at: number): string => {
    const through = tracker.done()
    if (through >= options.total) return "0s"
    if (through === 0) return "--"
    return formatDuration(((at - tracker.startedAt) / through) * (options.total - through))
  }

  const block = (width: number): Array<string> => {
    const at = now()
    const images = inOrder(tracker)
    const lines = images.slice(0, MAX_IMAGE_LINES).map((s) => {
      const segments: Array<Segment> = [{ text: `  ${s.step.padEnd(8)}`, colour: "cyan" }, {
        text: ` ${shortenMiddle(shownSource(s.source), Math.max(10, width - 45))}`
      }]
      if (s.total > 0 || s.copied > 0) segments.push({ text: `  ${formatBytes(s.copied)} / ${formatBytes(s.total)}` })
      const r = rate(s, at)
      if (r !== "") segments.push({ text: `  ${r}`, colour: "dim" })
      return renderSegments(segments, width, color)
    })
    if (images.length > MAX_IMAGE_LINES) {
      lines.push(renderSegments([{ text: `  … and ${images.length - MAX_IMAGE_LINES} more`, colour: "dim" }], width, color))
    }
    const elapsed = at - tracker.startedAt
    const moved = tracker.bytesMoved()
    const problems = tracker.finishedByStatus.conflict + tracker.finishedByStatus.failed
    const overall: Array<Segment> = [
      { text: `${tracker.done()}/${options.total} done`, colour: "bold" },
      ...(problems > 0 ? [{ text: ` (${problems} conflict/failed)`, colour: "red" as const }] : []),
      { text: ` | ${images.length} in flight` },
      { text: ` | ${formatBytes(moved)} moved` },
      ...(elapsed > 0 && moved > 0 ? [{ text: ` at ${formatBytes(moved / (elapsed / 1000))}/s` }] : []),
      { text: ` | ${formatDuration(elapsed)} elapsed | ETA ${eta(at)}` }
    ]
    lines.push(renderSegments(overall, width, color))
    return lines
  }

  /** Moves to the top of the live block and clears it, writes `above` (scrolling lines), then the block (unless cleared for good). */
  const redraw = (above: (width: number) => ReadonlyArray<string>, withBlock: boolean) => {
    const width = widthNow()
    const columns = width + 1
    // The rows the last block takes now: a line longer than a narrowed terminal has wrapped.
    const rows = blockShown.reduce((n, len) => n + Math.max(1, Math.ceil(len / columns)), 0)
    let out = rows > 0 ? `\r${ESC}[${rows}A` : "\r"
    const lines = withBlock ? block(width) : []
    for (const l of [...above(width), ...lines]) out += `${ESC}[2K${l}\n`
    out += `${ESC}[J`
    blockShown = lines.map((l) => stripAnsi(l).length)
    write(out)
  }

  /** A result's lines, the target prefixes named first when it is the first. */
  const showResult = (r: ImageResult) =>
    redraw((width) => {
      const header = headerShown || prefixes.length === 0 ? [] : prefixHeader(prefixes, width)
      headerShown = true
      return [...header, ...resultLines(r, width, color, prefixes)]
    }, true)

  const onEvent = (event: ProgressEvent): void => {
    if (finished) return
    // A revision that keeps the status (a warning) says nothing a line would show.
    const revisedStatus = event._tag === "ImageRevised" && tracker.statusOf(event.image) !== event.result.status
    tracker.apply(event, now())
    if (event._tag === "ImageFinished" || revisedStatus) showResult(event.result)
  }

  return {
    onEvent,
    render: () => {
      if (!finished) redraw(() => [], true)
    },
    clear: () => {
      if (!finished && blockShown.length > 0) redraw(() => [], false)
    },
    finish: (results, durationMs, unfinished) => {
      if (finished) return
      finished = true
      const table = summaryTable(results, durationMs, unfinished)
      const coloured = color
        ? table.map((l) => {
          const match = /^ {2}(synced|present|planned|conflict|failed)( +)(\d+)$/.exec(l)
          if (!match || match[3] === "0") return l
          const s = match[1] as ImageStatus
          return `  ${ESC}[${SGR[statusColour[s]]}m${s}${ESC}[0m${match[2]}${match[3]}`
        })
        : table
      redraw(() => coloured, false)
    }
  }
}
