/** The summary every view ends with: status counts, bytes moved and duration, as text lines or one JSON object. */
import type { ImageResult } from "../../model/Result.ts"
import { STATUSES } from "../../model/Result.ts"
import { countByStatus, formatSummary } from "../../report/Output.ts"
import { formatBytes, formatDuration } from "../../report/Units.ts"
import { oneLine } from "./Text.ts"

const summaryRows = (results: ReadonlyArray<ImageResult>, durationMs: number, unfinished: number | undefined): Array<readonly [string, string]> => {
  const counts = countByStatus(results)
  const bytes = results.reduce((sum, r) => sum + r.bytesCopied, 0)
  return [
    ...STATUSES.map((s) => [s, String(counts[s])] as const),
    ...(unfinished === undefined ? [] : [["unfinished", String(unfinished)] as const]),
    ["total", String(results.length + (unfinished ?? 0))] as const,
    ["bytes moved", `${formatBytes(bytes)} (${bytes} bytes)`] as const,
    ["duration", formatDuration(durationMs)] as const
  ]
}

/**
 * The summary table of a run as plain text lines (no control characters), ending with the
 * one-line summary; an interrupted run (`unfinished` given) counts the images it did not finish.
 */
export const summaryTable = (results: ReadonlyArray<ImageResult>, durationMs: number, unfinished?: number): Array<string> => {
  const rows = summaryRows(results, durationMs, unfinished)
  const counted = STATUSES.length + (unfinished === undefined ? 1 : 2)
  const left = Math.max(...rows.map(([k]) => k.length))
  const right = Math.max(...rows.slice(0, counted).map(([, v]) => v.length))
  return [
    "Summary",
    ...rows.map(([k, v], i) => `  ${k.padEnd(left)}  ${i < counted ? v.padStart(right) : v}`),
    oneLine(formatSummary(results, unfinished))
  ]
}

/** The summary as one JSON-able object (an interrupted run: `interrupted`, `unfinished`, and the total counting them). */
export const summaryObject = (results: ReadonlyArray<ImageResult>, durationMs: number, unfinished?: number) => ({
  event: "Summary" as const,
  total: results.length + (unfinished ?? 0),
  ...countByStatus(results),
  ...(unfinished === undefined ? {} : { unfinished, interrupted: true }),
  bytesMoved: results.reduce((sum, r) => sum + r.bytesCopied, 0),
  durationMs
})
