/**
 * JSON text read without re-serialising it: manifests we add to keep every other byte as it
 * was (a signature manifest's layers, a referrers index's entries), so their digests hold.
 * One scanner: strings are skipped whole (escapes respected), brackets counted.
 */

/** The offset just past the string that starts at `at` (a `"`). */
const stringEnd = (json: string, at: number): number => {
  let i = at + 1
  while (i < json.length && json[i] !== "\"") i += json[i] === "\\" ? 2 : 1
  return i + 1
}

/** The offset of the bracket closing the one at `open`, undefined when the text ends first. */
const closing = (json: string, open: number): number | undefined => {
  let depth = 0
  for (let i = open; i < json.length;) {
    const c = json[i]!
    if (c === "\"") {
      i = stringEnd(json, i)
      continue
    }
    if (c === "[" || c === "{") depth++
    else if (c === "]" || c === "}") {
      depth--
      if (depth === 0) return i
    }
    i++
  }
  return undefined
}

/** Where the top-level array `key` of a JSON object's text stands: its `[` and the matching `]`; undefined when there is none. */
export const topLevelArray = (json: string, key: string): { readonly open: number; readonly close: number } | undefined => {
  let depth = 0
  for (let i = 0; i < json.length;) {
    const c = json[i]!
    if (c === "\"") {
      const start = i
      i = stringEnd(json, i)
      if (depth !== 1 || json.slice(start + 1, i - 1) !== key) continue
      while (i < json.length && json[i] !== "[" && json[i] !== "{" && json[i] !== "\"") i++
      if (json[i] !== "[") return undefined
      const close = closing(json, i)
      return close === undefined ? undefined : { open: i, close }
    }
    if (c === "{" || c === "[") depth++
    else if (c === "}" || c === "]") depth--
    i++
  }
  return undefined
}

/** The raw text of each element of the top-level array `key` in a JSON object (trimmed; none when there is no such array). */
export const rawArrayElements = (json: string, key: string): ReadonlyArray<string> => {
  const array = topLevelArray(json, key)
  if (array === undefined) return []
  const out: Array<string> = []
  let start = array.open + 1
  let depth = 0
  for (let i = start; i < array.close;) {
    const c = json[i]!
    if (c === "\"") {
      i = stringEnd(json, i)
      continue
    }
    if (c === "[" || c === "{") depth++
    else if (c === "]" || c === "}") depth--
    else if (c === "," && depth === 0) {
      out.push(json.slice(start, i))
      start = i + 1
    }
    i++
  }
  out.push(json.slice(start, array.close))
  return out.map((e) => e.trim()).filter((e) => e !== "")
}
