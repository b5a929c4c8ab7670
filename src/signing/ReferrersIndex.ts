/**
 * The referrers tag schema of distribution-spec v1.1 ("Referrers Tag Schema"): on a registry
 * without the referrers API, the referrers of `sha256:<hex>` are listed in an OCI index tagged
 * `sha256-<hex>` that clients keep up to date. Entries are only ever added: an entry already
 * there stays byte for byte (other tools' referrers, upstream's), a digest already listed is
 * not listed twice. go-containerregistry's `commitSubjectReferrers` does the same (it also
 * re-sorts; we keep the order we found).
 */
import type { Descriptor } from "../model/Manifest.ts"
import { parseManifest } from "../model/Manifest.ts"
import { OCI_INDEX } from "../model/MediaTypes.ts"
import { topLevelArray } from "./JsonText.ts"
import { indexEntryJson } from "./Referrer.ts"

const decoder = new TextDecoder()

/** Position of the `]` closing the top-level array `key` of a JSON object, and whether it is empty; undefined when absent. */
const arrayEnd = (json: string, key: string): { readonly close: number; readonly empty: boolean } | undefined => {
  const array = topLevelArray(json, key)
  return array === undefined ? undefined : { close: array.close, empty: json.slice(array.open + 1, array.close).trim() === "" }
}

/** The descriptors a referrers index lists (an empty list for bytes that are not an index). */
export const listedReferrers = (index: Uint8Array | undefined): ReadonlyArray<Descriptor> => {
  if (index === undefined) return []
  try {
    return parseManifest(index, OCI_INDEX).manifests
  } catch {
    return []
  }
}

/** An entry to add: its digest and its descriptor's JSON text as it goes into the index. */
export interface IndexEntry {
  readonly digest: string
  readonly json: string
}

/** An entry for one of our descriptors (go-containerregistry's key order). */
export const entryOf = (d: Descriptor): IndexEntry => ({ digest: d.digest, json: indexEntryJson(d) })

/** What a merge gives: the new bytes, nothing to add, or a tag that holds something else than an index (left alone). */
export type MergedIndex =
  | { readonly _tag: "Merged"; readonly bytes: Uint8Array }
  | { readonly _tag: "Unchanged" }
  | { readonly _tag: "NotAnIndex" }

/**
 * The fallback index with `add` appended: `existing` (the bytes the tag holds, if any) keeps
 * every byte; only entries whose digest is not yet listed are added.
 */
export const mergeReferrersIndex = (existing: Uint8Array | undefined, add: ReadonlyArray<IndexEntry>): MergedIndex => {
  const text = existing === undefined ? undefined : decoder.decode(existing)
  const end = text === undefined ? undefined : arrayEnd(text, "manifests")
  if (text !== undefined && end === undefined) return { _tag: "NotAnIndex" }
  const listed = new Set(listedReferrers(existing).map((d) => d.digest))
  const missing: Array<IndexEntry> = []
  for (const e of add) {
    if (listed.has(e.digest)) continue
    listed.add(e.digest)
    missing.push(e)
  }
  if (missing.length === 0) return { _tag: "Unchanged" }
  const entries = missing.map((e) => e.json).join(",")
  if (text === undefined || end === undefined) {
    return { _tag: "Merged", bytes: new TextEncoder().encode(`{"schemaVersion":2,"mediaType":${JSON.stringify(OCI_INDEX)},"manifests":[${entries}]}`) }
  }
  return { _tag: "Merged", bytes: new TextEncoder().encode(`${text.slice(0, end.close)}${end.empty ? "" : ","}${entries}${text.slice(end.close)}`) }
}
