/**
 * Each key of the definition file declared once (definition/Field.ts): the schema's keys, the
 * allowed keys of did-you-mean and the wrong-type messages all come from that declaration, so
 * a key declared with a message gets it in a real file without a word elsewhere.
 */
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { stringify } from "yaml"
import { fieldAt, keysOf } from "../../src/definition/Field.ts"
import type { Field } from "../../src/definition/Field.ts"
import { parseDefinition } from "../../src/definition/Parse.ts"
import { DefinitionFileSchema, FILE } from "../../src/definition/Schema.ts"

const keysAt = (path: ReadonlyArray<string | number>): ReadonlyArray<string> => {
  const inner = fieldAt(FILE, path)?.inner
  return inner?._tag === "Keys" ? keysOf(inner.fields) : []
}

/** Where each mapping of the file stands, and a file that holds `value` at its key `key`. */
const MAPPINGS: ReadonlyArray<{ readonly path: ReadonlyArray<string | number>; readonly file: (key: string, value: unknown) => unknown }> = [
  { path: [], file: (key, value) => ({ targetRepoPrefix: "r.example/mirror/", images: [{ source: "busybox:1" }], [key]: value }) },
  {
    path: ["registries", "r.example"],
    file: (key, value) => ({ targetRepoPrefix: "r.example/mirror/", registries: { "r.example": { [key]: value } }, images: [{ source: "busybox:1" }] })
  },
  { path: ["images", 0], file: (key, value) => ({ targetRepoPrefix: "r.example/mirror/", images: [{ source: "busybox:1", [key]: value }] }) },
  {
    path: ["images", 0, "tags"],
    file: (key, value) => ({ targetRepoPrefix: "r.example/mirror/", images: [{ source: "busybox", tags: { semver: ">=1", [key]: value } }] })
  }
]

const problemsOf = (document: unknown): ReadonlyArray<string> => {
  const parsed = parseDefinition("images.yaml", stringify(document))
  return Either.isLeft(parsed) ? parsed.left.problems.map((p) => p.message) : []
}

describe("Field", () => {
  test("the root's keys are the schema's", () => {
    expect(keysAt([])).toEqual(Object.keys(DefinitionFileSchema.fields))
  })

  for (const { file, path } of MAPPINGS) {
    for (const key of keysAt(path)) {
      const field = fieldAt(FILE, [...path, key]) as Field
      const scalarOrMapping = field.inner === undefined || field.inner._tag !== "Items"
      // a list where a scalar or a mapping belongs; a number where a list belongs
      const value = scalarOrMapping ? [1] : 5
      const got = scalarOrMapping ? "(got a list)" : "(got the number 5)"
      test(`${[...path, key].join(".")}: a value of the wrong type gets ${field.wrongType ? "the message its declaration gives" : "the schema's own words"}`, () => {
        const expected = field.wrongType?.({ got, value, written: String(value) }) ?? `${[...path, key].join(".")}:`
        expect(problemsOf(file(key, value)).some((m) => m.startsWith(expected))).toBe(true)
      })
    }
  }

  test("a misspelt key of any mapping is told the declared key it means", () => {
    for (const { file, path } of MAPPINGS) {
      const key = keysAt(path).find((k) => k.length > 4)!
      const misspelt = key.toLowerCase() === key ? key.toUpperCase() : key.toLowerCase()
      expect(problemsOf(file(misspelt, true))).toContain(`unknown key "${misspelt}" (did you mean "${key}"?)`)
    }
  })
})
