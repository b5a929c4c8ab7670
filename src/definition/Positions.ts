/**
 * Positions in the YAML document: from a path of keys (as the schema reports it) to the node,
 * its line and column, the entry it belongs to, and how its value was written.
 */
import { isMap, isScalar, isSeq } from "yaml"
import type { Document, LineCounter, Node, Pair } from "yaml"
import type { DefinitionProblem } from "./Problems.ts"

/** A path of keys and indexes into the document. */
export type Path = ReadonlyArray<PropertyKey>

/** True for a plain object. */
export const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const keyString = (key: unknown): string => (isScalar(key) ? String(key.value) : String(key))

// Finds a map's pair by the key as toJS() would write it (so `5000:` matches "5000").
const findPair = (node: unknown, key: PropertyKey): Pair | undefined =>
  isMap(node) ? (node.items as Array<Pair>).find((p) => keyString(p.key) === String(key)) : undefined

const childNode = (node: unknown, key: PropertyKey): unknown => {
  if (isSeq(node) && typeof key === "number") return node.items[key]
  return findPair(node, key)?.value ?? undefined
}

/** Everything needed to turn a path into a position and an entry label. */
/** The document with what turns a path into a position. */
export interface Located {
  readonly doc: Document.Parsed
  readonly lineCounter: LineCounter
  readonly root: unknown
}

/** The node at a path. */
export const nodeAt = (ctx: Located, path: Path): unknown =>
  path.reduce<unknown>((node, key) => (node === undefined ? undefined : childNode(node, key)), ctx.doc.contents)

const keyNodeAt = (ctx: Located, path: Path): unknown => path.length === 0 ? undefined : findPair(nodeAt(ctx, path.slice(0, -1)), path[path.length - 1]!)?.key

/** The plain value at a path. */
export const valueAt = (root: unknown, path: Path): unknown =>
  path.reduce<unknown>((v, key) => {
    if (Array.isArray(v) && typeof key === "number") return v[key]
    return isRecord(v) ? v[String(key)] : undefined
  }, root)

/** The offset a node starts at. */
export const offsetOf = (node: unknown): number | undefined => {
  const range = (node as Node | undefined)?.range
  return Array.isArray(range) ? range[0] : undefined
}

// The nearest position: the node itself, else its key, else the closest ancestor.
/** The nearest position of a path. */
export const positionOf = (ctx: Located, path: Path, preferKey = false): { readonly line: number; readonly column: number } => {
  const candidates: Array<unknown> = preferKey
    ? [keyNodeAt(ctx, path), nodeAt(ctx, path)]
    : [nodeAt(ctx, path), keyNodeAt(ctx, path)]
  for (let n = path.length - 1; n >= 0; n--) candidates.push(nodeAt(ctx, path.slice(0, n)))
  for (const c of candidates) {
    // An absent value (`tag:`) has an empty range after the colon; its key is the better place.
    if (isScalar(c) && c.value === null && c.source === "") continue
    const offset = offsetOf(c)
    if (offset !== undefined) {
      const { line, col } = ctx.lineCounter.linePos(offset)
      return { line, column: col }
    }
  }
  return { line: 1, column: 1 }
}

const entryLabel = (root: unknown, path: Path): string | undefined => {
  if (path[0] === "images" && typeof path[1] === "number") {
    const source = valueAt(root, ["images", path[1], "source"])
    return typeof source === "string" ? `images[${path[1]}] (${source})` : `images[${path[1]}]`
  }
  if (path[0] === "registries" && path.length >= 2) return `registries[${JSON.stringify(String(path[1]))}]`
  return undefined
}

/** A problem at a path, with its entry label. */
export const problemAt = (ctx: Located, path: Path, message: string, preferKey = false): DefinitionProblem => ({
  ...positionOf(ctx, path, preferKey),
  entry: entryLabel(ctx.root, path),
  message
})

// How a wrong value is shown: numbers as written (YAML turns 1.30 into 1.3).
/** How a wrong value is shown. */
export const describeValue = (ctx: Located, path: Path, value: unknown): string => {
  const node = nodeAt(ctx, path)
  if (value === null || value === undefined) return "nothing"
  if (Array.isArray(value)) return "a list"
  if (isRecord(value)) return "a mapping"
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`
  const written = isScalar(node) && typeof node.source === "string" ? node.source : String(value)
  return `${typeof value === "number" ? "the number" : typeof value} ${written}`
}

/** A scalar as written in the file. */
export const writtenText = (ctx: Located, path: Path, value: unknown): string => {
  const node = nodeAt(ctx, path)
  return isScalar(node) && typeof node.source === "string" && node.source.length > 0 ? node.source : String(value)
}
