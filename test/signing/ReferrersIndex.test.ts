/** The referrers fallback index: entries only added, existing bytes kept, digests never listed twice. */
import { describe, expect, test } from "bun:test"
import { entryOf, listedReferrers, mergeReferrersIndex } from "../../src/signing/ReferrersIndex.ts"

const enc = (s: string) => new TextEncoder().encode(s)
const dec = (b: Uint8Array) => new TextDecoder().decode(b)
const d = (n: string) => `sha256:${n.repeat(64)}`
const ours = {
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  size: 900,
  digest: d("a"),
  annotations: { k: "v" },
  artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json"
}

describe("ReferrersIndex", () => {
  test("no index yet: a new OCI index listing the entry with artifactType and annotations", () => {
    const merged = mergeReferrersIndex(undefined, [entryOf(ours)])
    expect(merged._tag).toBe("Merged")
    const bytes = (merged as { bytes: Uint8Array }).bytes
    expect(dec(bytes)).toBe(
      `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":900,"digest":"${
        d("a")
      }","annotations":{"k":"v"},"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}]}`
    )
    expect(listedReferrers(bytes).map((x) => x.digest)).toEqual([d("a")])
  })

  test("an index someone else wrote (pretty-printed, extra fields) keeps every byte; ours is appended", () => {
    const theirs =
      `{\n  "schemaVersion": 2,\n  "mediaType": "application/vnd.oci.image.index.v1+json",\n  "manifests": [\n    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "${
        d("b")
      }", "size": 5, "artifactType": "application/spdx+json"}\n  ],\n  "annotations": {"x": "[y]"}\n}\n`
    const merged = mergeReferrersIndex(enc(theirs), [entryOf(ours)])
    const text = dec((merged as { bytes: Uint8Array }).bytes)
    const close = theirs.indexOf("\n  ],") + "\n  ".length
    expect(text.startsWith(theirs.slice(0, close))).toBe(true)
    expect(text.endsWith(theirs.slice(close))).toBe(true)
    expect(listedReferrers(enc(text)).map((x) => x.digest)).toEqual([d("b"), d("a")])
    expect(JSON.parse(text).annotations).toEqual({ x: "[y]" })
  })

  test("an empty manifests list gets the entry without a leading comma", () => {
    const merged = mergeReferrersIndex(enc(`{"schemaVersion":2,"manifests":[]}`), [entryOf(ours)])
    expect(JSON.parse(dec((merged as { bytes: Uint8Array }).bytes)).manifests).toHaveLength(1)
  })

  test("a digest already listed is not listed again: Unchanged; the same entry twice in one call is added once", () => {
    const first = (mergeReferrersIndex(undefined, [entryOf(ours), entryOf(ours)]) as { bytes: Uint8Array }).bytes
    expect(listedReferrers(first)).toHaveLength(1)
    expect(mergeReferrersIndex(first, [entryOf(ours)])._tag).toBe("Unchanged")
  })

  test("a tag holding something other than an index is left alone", () => {
    expect(mergeReferrersIndex(enc(`{"schemaVersion":2,"config":{},"layers":[]}`), [entryOf(ours)])._tag).toBe("NotAnIndex")
  })
})
