/**
 * What a run shows while it works. Three modes over the same progress events:
 * - `tty`: a live block redrawn in place (cursor up + clear line): per in-flight image its step,
 *   bytes copied / total and rate; overall done / total and ETA. Finished images scroll above it.
 * - `plain`: one stable, grep-friendly line per event, no control characters at all. The line of
 *   a finished image is exactly `formatResult` (Output.ts).
 * - `json`: one JSON object per line per event (`{"event":"ImageFinished",…}` carries the result).
 * In every mode `finish` prints the summary table (a JSON object in json mode).
 * Byte counts arrive per chunk; plain and json coalesce them into one `BytesCopied` record per
 * image, written before that image's next event or on `render()` (a heartbeat).
 */
import { Effect, Schedule } from "effect"
import type { ProgressEvent, Step } from "../model/Progress.ts"
import { countByStatus, formatResult, formatSummary } from "../report/Output.ts"
import { formatBytes, formatDuration } from "../report/Units.ts"
export { formatBytes, formatDuration }
import type { ImageResult, ImageStatus } from "../model/Result.ts"

/** How progress is shown. */
export type OutputMode = "tty" | "plain" | "json"

/** What `--output` accepts: `auto` is `tty` on a terminal and `plain` otherwise. */
export type OutputFlag = "auto" | OutputMode

/** The values of `--output`, for the flag's choices. */
export const outputFlags: ReadonlyArray<OutputFlag> = ["auto", "tty", "plain", "json"]

/**
 * The mode and colour of a run. `auto`: tty on a terminal (unless TERM=dumb), else plain.
 * Colour only in tty mode on a terminal, never when NO_COLOR is set to anything non-empty
 * (no-color.org) or TERM=dumb.
 */
export const resolveOutput = (
  flag: OutputFlag,
  isTTY: boolean,
  env: Readonly<Record<string, string | undefined>>
): { readonly mode: OutputMode; readonly color: boolean } => {
  const dumb = env["TERM"] === "dumb"
  const mode: OutputMode = flag === "auto" ? (isTTY && !dumb ? "tty" : "plain") : flag
  const noColor = env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== ""
  return { mode, color: mode === "tty" && isTTY && !noColor && !dumb }
}

/** Redraws the view every `millis` until interrupted (fork it beside the run, e.g. with `Effect.raceFirst` or `forkScoped`). */
export const renderLoop = (view: ProgressView, millis = 100): Effect.Effect<never> =>
  Effect.sync(() => view.render()).pipe(Effect.repeat(Schedule.spaced(millis)), Effect.zipRight(Effect.never))

/** Options of a view. */
export interface ViewOptions {
  /** ANSI colours (tty only; the CLI passes false under NO_COLOR) */
  readonly color: boolean
  /** images in the run */
  readonly total: number
  /** the clock in milliseconds (tests pass a fake one) */
  readonly now?: () => number
  /** terminal columns; tty lines are cut to fit (default 80) */
  readonly width?: number
}

/** A progress view: feed it events, redraw it on a timer, finish it with the results. */
export interface ProgressView {
  /** Takes one pipeline event. */
  readonly onEvent: (event: ProgressEvent) => void
  /** tty: redraws the live block; plain/json: writes coalesced byte counts that changed since the last call. */
  readonly render: () => void
  /**
   * tty: erases the live block until the next render (call it before writing a log line to a
   * stderr that shares the terminal, so the line does not land inside the block); otherwise a no-op.
   */
  readonly clear: () => void
  /** Clears the live block and prints the summary table (status counts, bytes moved, duration). */
  readonly finish: (results: ReadonlyArray<ImageResult>, durationMs: number) => void
}

// == text helpers

const ESC = "\u001b"
// CSI (colours, cursor movement), OSC (titles, links; ended by BEL or ST), and two-character escapes.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]/g
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/

/** The text without ANSI escape sequences. */
export const stripAnsi = (s: string): string => s.replace(ANSI, "")

/** Whether the text holds a control character other than "\n" (ESC, CR, TAB, BEL, C1 …). */
export const hasControlChars = (s: string): boolean => CONTROL.test(s)

/** One line of text for plain output: control characters from registries or errors become spaces. */
// eslint-disable-next-line no-control-regex
const oneLine = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ")

type Colour = "green" | "red" | "yellow" | "cyan" | "dim" | "bold"

const SGR: Record<Colour, string> = { green: "32", red: "31", yellow: "33", cyan: "36", dim: "2", bold: "1" }

/** A piece of a tty line, optionally coloured. */
interface Segment {
  readonly text: string
  readonly colour?: Colour
}

const statusColour: Record<ImageStatus, Colour> = {
  synced: "green",
  present: "dim",
  planned: "cyan",
  conflict: "yellow",
  failed: "red"
}

/** Renders segments, cut to `width` visible characters, coloured when asked. */
const renderSegments = (segments: ReadonlyArray<Segment>, width: number, color: boolean): string => {
  let room = Math.max(1, width)
  let out = ""
  for (const segment of segments) {
    if (room <= 0) break
    const text = oneLine(segment.text).slice(0, room)
    room -= text.length
    out += color && segment.colour && text !== "" ? `${ESC}[${SGR[segment.colour]}m${text}${ESC}[0m` : text
  }
  return out
}

// == state

interface InFlight {
  readonly image: number
  readonly source: string
  step: Step | "start"
  copied: number
  /** the sum of the sizes of the blobs started so far */
  total: number
  /** when the copy started: the first blob or the first bytes (the rate counts from here) */
  copyStartedAt: number | undefined
  /** copied bytes not yet written as a plain/json BytesCopied record */
  pending: number
}

const statuses: ReadonlyArray<ImageStatus> = ["synced", "present", "planned", "conflict", "failed"]

/** The summary as lines of plain text (tty adds colour). */
const summaryRows = (results: ReadonlyArray<ImageResult>, durationMs: number): Array<readonly [string, string]> => {
  const counts = countByStatus(results)
  const bytes = results.reduce((sum, r) => sum + r.bytesCopied, 0)
  return [
    ...statuses.map((s) => [s, String(counts[s])] as const),
    ["total", String(results.length)] as const,
    ["bytes moved", `${formatBytes(bytes)} (${bytes} bytes)`] as const,
    ["duration", formatDuration(durationMs)] as const
  ]
}

/** The summary table of a run as plain text lines (no control characters), ending with the one-line summary. */
export const summaryTable = (results: ReadonlyArray<ImageResult>, durationMs: number): Array<string> => {
  const rows = summaryRows(results, durationMs)
  const left = Math.max(...rows.map(([k]) => k.length))
  const right = Math.max(...rows.slice(0, statuses.length + 1).map(([, v]) => v.length))
  return [
    "Summary",
    ...rows.map(([k, v], i) => `  ${k.padEnd(left)}  ${i <= statuses.length ? v.padStart(right) : v}`),
    oneLine(formatSummary(results))
  ]
}

/** The summary as one JSON-able object. */
export const summaryObject = (results: ReadonlyArray<ImageResult>, durationMs: number) => ({
  event: "Summary" as const,
  total: results.length,
  ...countByStatus(results),
  bytesMoved: results.reduce((sum, r) => sum + r.bytesCopied, 0),
  durationMs
})

/** The fields of a result as a JSON line carries them. */
const resultFields = (r: ImageResult) => ({
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
  carried: r.carried,
  bytesCopied: r.bytesCopied,
  durationMs: r.durationMs
})

/** Makes a view that writes through `write` (the CLI passes stdout). */
export const makeView = (mode: OutputMode, write: (s: string) => void, options: ViewOptions): ProgressView => {
  const now = options.now ?? Date.now
  const width = Math.max(20, (options.width ?? 80) - 1)
  const color = mode === "tty" && options.color
  const startedAt = now()
  const inFlight = new Map<number, InFlight>()
  const finishedByStatus: Record<ImageStatus, number> = { synced: 0, present: 0, planned: 0, conflict: 0, failed: 0 }
  let done = 0
  let bytesMoved = 0
  let finished = false
  /** lines of the live block now on screen (tty) */
  let blockLines = 0

  const position = (image: number) => `[${image + 1}/${options.total}]`

  // == plain and json records

  const line = (s: string) => write(`${s}\n`)

  const plainLine = (image: number, kind: string, source: string, detail: string) =>
    line(oneLine(`${position(image)} ${kind} ${source}${detail === "" ? "" : ` ${detail}`}`))

  const jsonLine = (record: Record<string, unknown>) => line(JSON.stringify({ ...record, time: new Date(now()).toISOString() }))

  /** Writes the coalesced byte count of one image, if any bytes moved since the last record. */
  const flushBytes = (state: InFlight) => {
    if (state.pending === 0) return
    const bytes = state.pending
    state.pending = 0
    if (mode === "plain") plainLine(state.image, "bytes", state.source, `${state.copied}/${state.total}`)
    else if (mode === "json") {
      jsonLine({ event: "BytesCopied", image: state.image, source: state.source, bytes, copied: state.copied, total: state.total })
    }
  }

  const record = (event: ProgressEvent, state: InFlight | undefined) => {
    if (state) flushBytes(state)
    const source = state?.source ?? (event._tag === "ImageStarted" ? event.source : "?")
    if (mode === "plain") {
      switch (event._tag) {
        case "ImageStarted":
          return plainLine(event.image, "start", event.source, `-> ${event.target}`)
        case "StepStarted":
          return plainLine(event.image, "step", source, event.step)
        case "BlobStarted":
          return plainLine(event.image, "blob", source, `${event.digest} ${event.size}`)
        case "BytesCopied":
          return
        case "ImageFinished":
          return line(oneLine(formatResult(event.result)))
      }
    }
    switch (event._tag) {
      case "ImageStarted":
        return jsonLine({ event: event._tag, image: event.image, source: event.source, target: event.target })
      case "StepStarted":
        return jsonLine({ event: event._tag, image: event.image, source, step: event.step })
      case "BlobStarted":
        return jsonLine({ event: event._tag, image: event.image, source, digest: event.digest, size: event.size })
      case "BytesCopied":
        return
      case "ImageFinished":
        return jsonLine({ event: event._tag, image: event.image, ...resultFields(event.result) })
    }
  }

  // == tty block

  const rate = (state: InFlight, at: number): string => {
    if (state.copyStartedAt === undefined || state.copied === 0) return ""
    const seconds = (at - state.copyStartedAt) / 1000
    return seconds > 0 ? `${formatBytes(state.copied / seconds)}/s` : ""
  }

  /** Images whose work is done and whose written tag waits for the end-of-run check. */
  const confirming = () => [...inFlight.values()].filter((s) => s.step === "confirm").length

  const eta = (at: number, waiting: number): string => {
    const through = done + waiting
    if (through >= options.total) return "0s"
    if (through === 0) return "--"
    return formatDuration(((at - startedAt) / through) * (options.total - through))
  }

  const MAX_IMAGE_LINES = 12

  const block = (): Array<string> => {
    const at = now()
    const waiting = confirming()
    const images = [...inFlight.values()].filter((s) => s.step !== "confirm").sort((a, b) => a.image - b.image)
    const lines = images.slice(0, MAX_IMAGE_LINES).map((s) => {
      const segments: Array<Segment> = [
        { text: `  ${s.step.padEnd(8)}`, colour: "cyan" },
        { text: ` ${s.source}` }
      ]
      if (s.total > 0 || s.copied > 0) segments.push({ text: `  ${formatBytes(s.copied)} / ${formatBytes(s.total)}` })
      const r = rate(s, at)
      if (r !== "") segments.push({ text: `  ${r}`, colour: "dim" })
      return renderSegments(segments, width, color)
    })
    if (images.length > MAX_IMAGE_LINES) {
      lines.push(renderSegments([{ text: `  … and ${images.length - MAX_IMAGE_LINES} more`, colour: "dim" }], width, color))
    }
    const elapsed = at - startedAt
    const problems = finishedByStatus.conflict + finishedByStatus.failed
    const overall: Array<Segment> = [
      { text: `${done}/${options.total} done`, colour: "bold" },
      ...(problems > 0 ? [{ text: ` (${problems} conflict/failed)`, colour: "red" as const }] : []),
      { text: ` | ${images.length} in flight` },
      ...(waiting > 0 ? [{ text: ` | ${waiting} written, read back at the end`, colour: "dim" as const }] : []),
      { text: ` | ${formatBytes(bytesMoved)} moved` },
      ...(elapsed > 0 && bytesMoved > 0 ? [{ text: ` at ${formatBytes(bytesMoved / (elapsed / 1000))}/s` }] : []),
      { text: ` | ${formatDuration(elapsed)} elapsed | ETA ${eta(at, waiting)}` }
    ]
    lines.push(renderSegments(overall, width, color))
    return lines
  }

  /** Moves to the top of the live block and clears it, writes `above` (scrolling lines), then the block (unless cleared for good). */
  const redraw = (above: ReadonlyArray<string>, withBlock: boolean) => {
    let out = blockLines > 0 ? `\r${ESC}[${blockLines}A` : "\r"
    const lines = withBlock ? block() : []
    for (const l of [...above, ...lines]) out += `${ESC}[2K${l}\n`
    out += `${ESC}[J`
    blockLines = lines.length
    write(out)
  }

  const ttyResult = (r: ImageResult): string => {
    const text = oneLine(formatResult(r))
    if (!color) return text
    const status = r.status.padEnd(8)
    return `${ESC}[${SGR[statusColour[r.status]]}m${status}${ESC}[0m${text.slice(status.length)}`
  }

  // == the view

  const onEvent = (event: ProgressEvent): void => {
    if (finished) return
    const at = now()
    let state = inFlight.get(event.image)
    switch (event._tag) {
      case "ImageStarted":
        state = {
          image: event.image,
          source: event.source,
          step: "start",
          copied: 0,
          total: 0,
          copyStartedAt: undefined,
          pending: 0
        }
        inFlight.set(event.image, state)
        break
      case "StepStarted":
        if (state) state.step = event.step
        break
      case "BlobStarted":
        if (state) {
          state.total += event.size
          state.copyStartedAt ??= at
        }
        break
      case "BytesCopied":
        bytesMoved += event.bytes
        if (state) {
          state.copied += event.bytes
          state.pending += event.bytes
          state.copyStartedAt ??= at
        }
        return
      case "ImageFinished":
        inFlight.delete(event.image)
        done++
        finishedByStatus[event.result.status]++
        break
    }
    if (mode === "tty") {
      if (event._tag === "ImageFinished") redraw([ttyResult(event.result)], true)
    } else {
      record(event, state)
    }
  }

  const render = (): void => {
    if (finished) return
    if (mode === "tty") return redraw([], true)
    for (const state of [...inFlight.values()].sort((a, b) => a.image - b.image)) flushBytes(state)
  }

  const clear = (): void => {
    if (mode === "tty" && !finished && blockLines > 0) redraw([], false)
  }

  const finish = (results: ReadonlyArray<ImageResult>, durationMs: number): void => {
    if (finished) return
    finished = true
    if (mode === "json") return jsonLine(summaryObject(results, durationMs))
    const table = summaryTable(results, durationMs)
    if (mode === "plain") return write(`${table.join("\n")}\n`)
    const coloured = color
      ? table.map((l) => {
        const match = /^ {2}(synced|present|planned|conflict|failed)( +)(\d+)$/.exec(l)
        if (!match || match[3] === "0") return l
        const s = match[1] as ImageStatus
        return `  ${ESC}[${SGR[statusColour[s]]}m${s}${ESC}[0m${match[2]}${match[3]}`
      })
      : table
    redraw(coloured, false)
  }

  return { onEvent, render, clear, finish }
}
