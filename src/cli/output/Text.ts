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
