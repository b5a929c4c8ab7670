/**
 * Result lines as the live view shows them: each says what happened to what, at any width from
 * 60 columns up. The status, the source's name and tag (a digest pin as `name@sha256:` and 12
 * hex digits) and the short digest stay whole; what repeats goes first: the target prefix is
 * shown once above the results (`→ 127.0.0.1:37097/external/`, numbered when there are several
 * targets) and each line gives only the path after it — nothing when that is the source as
 * written — then the middle of a very long name. A conflict's or failure's reason follows on
 * indented continuation lines, wrapped at the width and never cut, its digests short. Plain,
 * JSON and report output keep formatResult's full line.
 */
import { Either } from "effect"
import type { ImageResult } from "../../model/Result.ts"
import { parseTargetPrefix } from "../../model/Target.ts"
import { resultParts } from "../../report/Output.ts"
import { shortenDigest } from "../../report/Units.ts"
import { ESC, oneLine, SGR, shortenMiddle, statusColour } from "./Text.ts"

/** How far continuation lines are indented: under the source, after the status. */
export const CONTINUATION_INDENT = 9

// On the terminal a shortened digest says so: "sha256:30244cfd30c2…".
const shortDigest = (digest: string): string => shortenDigest(digest, "…")

// A full digest anywhere in a text.
const DIGEST_IN_TEXT = /\b(sha256|sha512):[0-9a-f]{32,}/g

/** The target prefixes of a run as targets spell them (`registry/repository-prefix/`), in the order given. */
export const normalPrefixes = (prefixes: ReadonlyArray<string>): ReadonlyArray<string> =>
  prefixes.map((p) => Either.match(parseTargetPrefix(p), { onLeft: () => p, onRight: (t) => `${t.registry}/${t.repositoryPrefix}` }))

/** The lines naming the target prefixes once, above the results: `→ prefix`, or `→ [n] prefix` for several. */
export const prefixHeader = (prefixes: ReadonlyArray<string>, width: number): Array<string> =>
  prefixes.flatMap((p, i) => wrap(`→ ${prefixes.length > 1 ? `[${i + 1}] ` : ""}${p}`, width, 2))

/**
 * `text` in lines of at most `width` characters, broken at spaces; a word longer than a line is
 * broken inside (nothing is ever cut); lines after the first are indented by `indent`.
 */
export const wrap = (text: string, width: number, indent = 0): Array<string> => {
  const lines: Array<string> = []
  const pad = " ".repeat(Math.max(0, Math.min(indent, width - 10)))
  let line = ""
  const room = () => Math.max(1, width - (lines.length === 0 ? 0 : pad.length))
  const flush = () => {
    lines.push(lines.length === 0 ? line : `${pad}${line}`)
    line = ""
  }
  for (let word of oneLine(text).split(" ").filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length <= room()) {
      line += ` ${word}`
      continue
    }
    if (line !== "") flush()
    while (word.length > room()) {
      line = word.slice(0, room())
      word = word.slice(line.length)
      flush()
    }
    line = word
  }
  if (line !== "" || lines.length === 0) flush()
  return lines
}

/** The source as a line shows it: a pinned digest cut to its first 12 hex digits. */
export const shownSource = (source: string): string => source.replace(/@(sha256|sha512):([0-9a-f]{12})[0-9a-f]+$/, "@$1:$2")

/** The source's name and what must stay whole after it (":tag", "@sha256:…", or ":tag@sha256:…"). */
const splitName = (source: string): { readonly name: string; readonly suffix: string } => {
  const at = source.indexOf("@")
  const beforeDigest = at >= 0 ? source.slice(0, at) : source
  const colon = beforeDigest.lastIndexOf(":")
  const cut = colon > beforeDigest.lastIndexOf("/") ? colon : at >= 0 ? at : source.length
  return { name: source.slice(0, cut), suffix: source.slice(cut) }
}

/** The name:tag part of a source as written (no digest). */
const withoutDigest = (source: string): string => {
  const at = source.indexOf("@")
  return at >= 0 ? source.slice(0, at) : source
}

/** The tag at the end of a target ("" when it has none, as a failed rule's repository). */
const tagOf = (target: string): string => {
  const colon = target.lastIndexOf(":")
  return colon > target.lastIndexOf("/") ? target.slice(colon + 1) : ""
}

/** Where a result went, as its line shows it: the prefix's number (several targets) and the path after the prefix. */
const placeOf = (r: ImageResult, prefixes: ReadonlyArray<string>): { readonly label: string; readonly rest: string } => {
  let best = -1
  for (let i = 0; i < prefixes.length; i++) {
    if (r.target.startsWith(prefixes[i]!) && (best < 0 || prefixes[i]!.length > prefixes[best]!.length)) best = i
  }
  if (best < 0) return { label: "", rest: r.target }
  const rest = r.target.slice(prefixes[best]!.length)
  return { label: prefixes.length > 1 ? `[${best + 1}]` : "", rest: rest === withoutDigest(r.source) ? "" : rest }
}

/** The reason of a conflict or failure as its continuation lines say it: without the target the line names, digests short. */
const reasonOf = (r: ImageResult): string | undefined => {
  if (!r.error) return undefined
  const message = oneLine(r.error).trim()
  const after = message.startsWith(`${r.target} `) ? message.slice(r.target.length + 1) : message
  return after.replace(DIGEST_IN_TEXT, (d) => shortDigest(d))
}

/**
 * The result's lines at `width` columns: the result line, then continuation lines (the target's
 * path when it does not fit beside the source, the reason of a conflict or failure).
 * `prefixes` (normalPrefixes of the run's) are those prefixHeader showed above the results.
 */
export const resultLines = (r: ImageResult, width: number, color: boolean, prefixes: ReadonlyArray<string> = []): Array<string> => {
  const p = resultParts(r)
  const status = p.status
  const source = shownSource(r.source)
  const note = p.note ? ` ${p.note}` : ""
  const { label, rest } = placeOf(r, prefixes)
  const room = Math.max(1, width - status.length - 1)
  const arrow = (shown: string) => {
    const to = [label, shown].filter((x) => x !== "").join(" ")
    return to === "" ? "" : ` -> ${to}`
  }
  let target = arrow(rest)
  let shown = source
  let digest = ` ${r.digest === undefined ? "-" : shortDigest(r.digest)}`
  let withNote = true
  /** the target's path, moved under the line when even its tag does not fit beside the source */
  let moved: string | undefined
  const body = () => `${shown}${target}${digest}${withNote ? note : ""}`

  // What repeats gives way first: a digest pin already says the digest the line ends with.
  if (body().length > room && r.digest !== undefined && r.source.endsWith(`@${r.digest}`)) digest = ""
  // The path after the prefix repeats the source's name: it is cut from its start, keeping its
  // tag (nothing of it when the tag is the source's too).
  if (body().length > room && rest !== "") {
    const tag = tagOf(rest)
    const minimal = tag !== "" && tag !== tagOf(withoutDigest(r.source)) ? `…:${tag}` : ""
    target = arrow(minimal)
    const spare = room - body().length
    if (spare > 0 && minimal !== "") {
      // as much of its end as fits, from a path boundary when there is one
      const end = rest.slice(rest.length - Math.min(rest.length - 1, minimal.length - 1 + spare))
      const slash = end.indexOf("/")
      target = arrow(`…${slash > 0 ? end.slice(slash) : end}`)
    }
  }
  // The target's path on a line of its own rather than cut further (the line keeps the target's number).
  if (body().length > room && target !== arrow("")) {
    moved = `-> ${[label, rest].filter((x) => x !== "").join(" ")}`
    target = arrow("")
  }
  // Then the signing note (the report has it), then the middle of the name; its tag (or digest pin) stays whole.
  if (body().length > room) withNote = false
  if (body().length > room) {
    const { name, suffix } = splitName(source)
    shown = `${shortenMiddle(name, Math.max(8, name.length - (body().length - room)))}${suffix}`
  }
  const line = body().slice(0, room)

  const head = color ? `${ESC}[${SGR[statusColour[r.status]]}m${status}${ESC}[0m ${line}` : `${status} ${line}`
  const reason = reasonOf(r)
  const indent = Math.min(CONTINUATION_INDENT, Math.max(2, width - 40))
  const under = [...(moved === undefined ? [] : wrap(moved, width - indent, 3)), ...(reason === undefined ? [] : wrap(reason, width - indent))]
  return [head, ...under.map((l) => `${" ".repeat(indent)}${l}`)]
}
