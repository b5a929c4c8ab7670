/**
 * A result line as the live view shows it: formatResult's pieces with a short digest, the
 * source, target and error shortened in the middle so the line fits the terminal and never
 * wraps (a wrapped line would leave pieces of the block behind when it is redrawn).
 */
import type { ImageResult } from "../../model/Result.ts"
import { resultParts } from "../../report/Output.ts"
import { ESC, fitPieces, SGR, shortDigest, statusColour } from "./Text.ts"

/** `r` in at most `width` columns, its status coloured when asked. */
export const fittedResultLine = (r: ImageResult, width: number, color: boolean): string => {
  const p = resultParts(r)
  const status = p.status
  // A target's start is the prefix every line shares: its end (repository and tag) is kept first.
  const note = p.note ? [p.note] : []
  const rest = fitPieces(
    [p.source, "->", p.target, shortDigest(p.digest), ...note, ...(p.error ? [p.error] : [])],
    Math.max(1, width - status.length - 1),
    " ",
    [0.5, 0.5, 0.25, 0.5, ...note.map(() => 0.5), 0.7]
  )
  return color ? `${ESC}[${SGR[statusColour[r.status]]}m${status}${ESC}[0m ${rest}` : `${status} ${rest}`
}
