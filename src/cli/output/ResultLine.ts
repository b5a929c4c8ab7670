/**
 * A result line as the live view shows it: formatResult's pieces with a short digest, fitted to
 * the terminal so it never wraps (a wrapped line would leave pieces of the block behind when it
 * is redrawn). When the whole line does not fit, the target first drops the repository path it
 * repeats from the source (`eu.gcr.io/acme/mirror/library/…:1.36`: the prefix tells targets
 * apart), an error keeps a fair share of the width (it says what went wrong), and the rest is
 * shortened in the middle.
 */
import type { ImageResult } from "../../model/Result.ts"
import { resultParts } from "../../report/Output.ts"
import { shortenDigest } from "../../report/Units.ts"
import { ESC, fitPieces, SGR, shortenMiddle, statusColour } from "./Text.ts"

// On the terminal a shortened digest says so: "sha256:30244cfd30c2…".
const shortDigest = (digest: string): string => shortenDigest(digest, "…")

/** "name:tag" / "name@digest" → the name; the tag part of a target ("…:1.36"). */
const repositoryOf = (ref: string): string => {
  const at = ref.indexOf("@")
  if (at >= 0) return ref.slice(0, at)
  const colon = ref.lastIndexOf(":")
  return colon > ref.lastIndexOf("/") ? ref.slice(0, colon) : ref
}

/** The target without the repository path it shares with the source: `prefix…:tag`. */
export const compactTarget = (source: string, target: string): string => {
  const sourceRepo = repositoryOf(source)
  const targetRepo = repositoryOf(target)
  let common = 0
  while (common < sourceRepo.length && common < targetRepo.length && sourceRepo[sourceRepo.length - 1 - common] === targetRepo[targetRepo.length - 1 - common]) common++
  // Only whole path segments, and only when it saves something.
  const cut = targetRepo.lastIndexOf("/", targetRepo.length - common)
  if (cut <= 0 || targetRepo.length - cut < 4) return target
  return `${targetRepo.slice(0, cut + 1)}…${target.slice(targetRepo.length)}`
}

/** `r` in at most `width` columns, its status coloured when asked. */
export const fittedResultLine = (r: ImageResult, width: number, color: boolean): string => {
  const p = resultParts(r)
  const status = p.status
  const avail = Math.max(1, width - status.length - 1)
  const digest = shortDigest(p.digest)
  const note = p.note ? [p.note] : []
  // digests inside a message are shown short too (the report and plain output keep them whole)
  // and a message that starts by naming the target again (the line already does) starts after it
  const error = p.error
    ?.replace(`: ${p.target} `, ": ")
    .replace(/\b(sha256|sha512):[0-9a-f]{32,}/g, (d) => shortDigest(d))
  const whole = [p.source, "->", p.target, digest, ...note, ...(error ? [error] : [])].join(" ")
  let rest: string
  if (whole.length <= avail) {
    rest = whole
  } else {
    const target = compactTarget(p.source, p.target)
    const pieces = [p.source, "->", target, digest, ...note]
    // The error gets what the rest can give up: source and target go down to a readable minimum first.
    const headAtLeast = Math.min(p.source.length, 16) + Math.min(target.length, 24) + 2 + digest.length + note.reduce((n, x) => n + x.length + 1, 0) + 3
    const errorShare = error ? Math.min(error.length, Math.max(24, Math.floor(avail * 0.45), avail - headAtLeast - 1)) + 1 : 0
    // the arrow and the short digest stay whole
    const head = fitPieces(pieces, Math.max(1, avail - errorShare), " ", [0.5, 0.5, 0.5, 0.5, ...note.map(() => 0.5)], new Set([1, 3]))
    rest = error ? `${head} ${shortenMiddle(error, Math.max(1, avail - head.length - 1), 0.7)}` : head
  }
  return color ? `${ESC}[${SGR[statusColour[r.status]]}m${status}${ESC}[0m ${rest}` : `${status} ${rest}`
}
