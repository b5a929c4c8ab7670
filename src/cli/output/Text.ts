/** Terminal text: escape sequences, colours, and lines cut to a width. Shared by the renderers. */
import type { ImageStatus } from "../../model/Result.ts"

/** The escape character. */
export const ESC = "\u001b"
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
export const oneLine = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ")

/** The colours the views use. */
export type Colour = "green" | "red" | "yellow" | "cyan" | "dim" | "bold"

/** SGR codes of the colours. */
export const SGR: Record<Colour, string> = { green: "32", red: "31", yellow: "33", cyan: "36", dim: "2", bold: "1" }

/** A piece of a tty line, optionally coloured. */
export interface Segment {
  readonly text: string
  readonly colour?: Colour
}

/** The colour of each status. */
export const statusColour: Record<ImageStatus, Colour> = {
  synced: "green",
  present: "dim",
  planned: "cyan",
  conflict: "yellow",
  failed: "red"
}

/** Renders segments, cut to `width` visible characters, coloured when asked. */
export const renderSegments = (segments: ReadonlyArray<Segment>, width: number, color: boolean): string => {
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

/**
 * The text within `width` characters, the middle replaced by "…" when it is longer (both ends
 * say the most); `headShare` of what is kept comes from the start (0.5: as much from each end).
 */
export const shortenMiddle = (text: string, width: number, headShare = 0.5): string => {
  if (text.length <= width) return text
  if (width <= 1) return text.slice(0, Math.max(0, width))
  const head = Math.min(width - 1, Math.max(1, Math.round((width - 1) * headShare)))
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`
}

/**
 * Fits pieces into `width` by shortening the longest ones in the middle, the others kept whole
 * where there is room; `headShares[i]` says how much of piece i is kept from its start, and the
 * pieces in `keep` are never shortened.
 */
export const fitPieces = (
  pieces: ReadonlyArray<string>,
  width: number,
  separator = " ",
  headShares: ReadonlyArray<number> = [],
  keep: ReadonlySet<number> = new Set()
): string => {
  const out = pieces.map((p) => oneLine(p))
  const total = () => out.reduce((n, p) => n + p.length, 0) + separator.length * Math.max(0, out.length - 1)
  // Take a character at a time from the longest piece until the line fits (or nothing is left to take).
  let excess = total() - width
  while (excess > 0) {
    let longest = -1
    for (let i = 0; i < out.length; i++) if (!keep.has(i) && (longest < 0 || out[i]!.length > out[longest]!.length)) longest = i
    if (longest < 0) break
    const piece = out[longest]!
    if (piece.length <= 2) break
    const cut = Math.min(excess, piece.length - 2, Math.max(1, piece.length - Math.floor(piece.length * 0.8)))
    out[longest] = shortenMiddle(piece, piece.length - cut, headShares[longest] ?? 0.5)
    excess = total() - width
  }
  const line = out.join(separator)
  return line.length > width ? line.slice(0, width) : line
}
