/**
 * Digest pins in the definition file: which entries can be pinned, the pinned source text
 * (`name:tag@sha256:…`, the form Docker, Kubernetes and Renovate use), and writing pins into
 * the file's text by replacing only the source scalars — comments, blank lines, key order and
 * quoting stay as they were.
 */
import { Either } from "effect"
import { isScalar, LineCounter, parseDocument, Scalar } from "yaml"
import { hasExplicitTag } from "../model/Reference.ts"
import type { ImageEntry } from "./Definition.ts"

/** What pinning means for one entry. */
export type PinState =
  /** a tag (written, or the implicit `latest`) and no digest: `pin` resolves the tag */
  | { readonly _tag: "Unpinned"; readonly entry: ImageEntry; readonly tag: string }
  /** `name:tag@digest`: the digest is copied, the tag can be checked for drift */
  | { readonly _tag: "Pinned"; readonly entry: ImageEntry; readonly tag: string; readonly digest: string }
  /** `name@digest` with `tag:` for the target: pinned, with no upstream tag to follow */
  | { readonly _tag: "DigestOnly"; readonly entry: ImageEntry }
  /** a `tags` rule: it selects tags at each run, there is nothing to pin */
  | { readonly _tag: "Rule"; readonly entry: ImageEntry }

/** How an entry stands with respect to pinning. */
export const pinState = (entry: ImageEntry): PinState => {
  if (entry.tags !== undefined) return { _tag: "Rule", entry }
  const { tag, digest } = entry.reference
  if (digest === undefined) return { _tag: "Unpinned", entry, tag: tag ?? "latest" }
  return tag === undefined ? { _tag: "DigestOnly", entry } : { _tag: "Pinned", entry, tag, digest }
}

/** The source as written without its digest: "busybox:1.32.0" for "busybox:1.32.0@sha256:…". */
export const sourceWithoutDigest = (source: string): string => {
  const at = source.indexOf("@")
  return at < 0 ? source : source.slice(0, at)
}

/** The pinned form of a source as written: "busybox:1.36" → "busybox:1.36@sha256:…"; an implicit `latest` is written out. */
export const pinnedSource = (source: string, digest: string): string => {
  const named = sourceWithoutDigest(source)
  return `${hasExplicitTag(named) ? named : `${named}:latest`}@${digest}`
}

/** A new source text for the entry at `index` of `images`. */
export interface SourceEdit {
  readonly index: number
  readonly source: string
}

/** Why the file's text could not take an edit. */
export interface EditProblem {
  readonly index: number
  readonly line: number
  readonly message: string
}

// A value of image-reference characters needs no escaping in any quoting style; a block scalar
// ("source: |") is rewritten double-quoted, keeping the line break that ended it.
const render = (node: Scalar, value: string, old: string): string => {
  switch (node.type) {
    case Scalar.PLAIN:
      return value
    case Scalar.QUOTE_SINGLE:
      return `'${value}'`
    case Scalar.QUOTE_DOUBLE:
      return `"${value}"`
    default:
      return `"${value}"${old.match(/\s*$/)?.[0] ?? ""}`
  }
}

/**
 * The text with each edit's source scalar replaced, everything else byte for byte; or what
 * stood in the way (a source written as an alias, say).
 */
export const applySourceEdits = (
  text: string,
  edits: ReadonlyArray<SourceEdit>
): Either.Either<string, ReadonlyArray<EditProblem>> => {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter })
  const problems: Array<EditProblem> = []
  const splices: Array<{ readonly start: number; readonly end: number; readonly text: string }> = []
  for (const edit of edits) {
    const node = doc.getIn(["images", edit.index, "source"], true)
    const entryNode = doc.getIn(["images", edit.index], true) as { range?: [number, number, number] } | undefined
    const line = lineCounter.linePos(entryNode?.range?.[0] ?? 0).line
    if (!isScalar(node) || !node.range || typeof node.value !== "string") {
      problems.push({ index: edit.index, line, message: "its source is not written as a plain or quoted string (an alias?); write it out to pin it" })
      continue
    }
    const [start, end] = node.range
    splices.push({ start, end, text: render(node, edit.source, text.slice(start, end)) })
  }
  if (problems.length > 0) return Either.left(problems)
  let result = text
  for (const s of [...splices].sort((a, b) => b.start - a.start)) result = result.slice(0, s.start) + s.text + result.slice(s.end)
  return Either.right(result)
}
