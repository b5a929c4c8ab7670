/** The summary every view ends with: status counts, bytes moved and duration, as text lines or one JSON object. */
import type { ImageResult } from "../../model/Result.ts"
import { STATUSES } from "../../model/Result.ts"
import { countByStatus, formatSummary } from "../../report/Output.ts"
import { formatBytes, formatDuration } from "../../report/Units.ts"
import { oneLine } from "./Text.ts"

const summaryRows = (results: ReadonlyArray<ImageResult>, durationMs: number): Array<readonly [string, string]> => {
  const counts = countByStatus(results)
  const bytes = results.reduce((sum, r) => sum + r.bytesCopied, 0)
  return [
    ...STATUSES.map((s) => [s, String(counts[s])] as const),
    ["total", String(results.length)] as const,
    ["bytes moved", `${formatBytes(bytes)} (${bytes} bytes)`] as const,
    ["duration", formatDuration(durationMs)] as const
  ]
}

/** The summary table of a run as plain text lines (no control characters), ending with the one-line summary. */
export const summaryTable = (results: ReadonlyArray<ImageResult>, durationMs: number): Array<string> => {
  const rows = summaryRows(results, durationMs)
  const left = Math.max(...rows.map(([k]) => k.length))
  const right = Math.max(...rows.slice(0, STATUSES.length + 1).map(([, v]) => v.length))
  return [
    "Summary",
    ...rows.map(([k, v], i) => `  ${k.padEnd(left)}  ${i <= STATUSES.length ? v.padStart(right) : v}`),
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
