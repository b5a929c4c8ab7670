/** JSON text read without re-serialising it: the top-level array of a key, and its elements as written. */
import { describe, expect, test } from "bun:test"
import { rawArrayElements, topLevelArray } from "../../src/signing/JsonText.ts"

describe("JsonText", () => {
  const manifest =
    `{"schemaVersion":2,"config":{"layers":[1]},"layers":[ {"digest":"sha256:a","annotations":{"x":"],\\"[,"}} , {"digest":"sha256:b"}\n],"tail":true}`

  test("the top-level array of a key: its brackets, not a nested key's, strings with brackets and escapes skipped", () => {
    const array = topLevelArray(manifest, "layers")!
    expect(manifest[array.open]).toBe("[")
    expect(manifest[array.close]).toBe("]")
    expect(manifest.slice(array.close)).toBe("],\"tail\":true}")
  })

  test("no such key, a value that is not an array, or text that ends first: none", () => {
    expect(topLevelArray(manifest, "manifests")).toBeUndefined()
    expect(topLevelArray(`{"layers":{"a":[1]}}`, "layers")).toBeUndefined()
    expect(topLevelArray(`{"layers":[{"a":1}`, "layers")).toBeUndefined()
  })

  test("elements as written, trimmed, commas inside strings and objects kept", () => {
    expect(rawArrayElements(manifest, "layers")).toEqual([`{"digest":"sha256:a","annotations":{"x":"],\\"[,"}}`, `{"digest":"sha256:b"}`])
    expect(rawArrayElements(`{"layers":[ ]}`, "layers")).toEqual([])
    expect(rawArrayElements(`{"other":[1]}`, "layers")).toEqual([])
  })
})
