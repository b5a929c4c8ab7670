/**
 * The JSON Schema printed by `image-syncer schema`, checked with a small JSON Schema validator
 * written here for the subset the schema uses (type, properties, required, additionalProperties,
 * items, minItems, minimum, pattern, enum, const, anyOf, local $ref). Unknown keywords make the validator
 * throw, so the schema cannot silently grow beyond what is checked.
 */
import { describe, expect, test } from "bun:test"
import { Command } from "@effect/cli"
import { BunContext } from "@effect/platform-bun"
import { Effect, Either, SchemaAST } from "effect"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { parse } from "yaml"
import { DEFINITION_SCHEMA_ID, definitionJsonSchema, definitionJsonSchemaText, JSON_SCHEMA_DIALECT } from "../../../src/definition/JsonSchema.ts"
import { schemaCommand } from "../../../src/cli/commands/Schema.ts"
import { parseDefinition } from "../../../src/definition/Parse.ts"
import { DefinitionFileSchema } from "../../../src/definition/Schema.ts"

const ROOT = join(import.meta.dir, "..", "..", "..")

// == a small JSON Schema validator

type JsonSchema = boolean | Record<string, unknown>

const ANNOTATIONS = new Set(["$schema", "$id", "$defs", "definitions", "title", "description", "examples", "default", "$comment"])
const CHECKED = new Set([
  "type",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "minItems",
  "minimum",
  "pattern",
  "enum",
  "const",
  "anyOf",
  "$ref"
])

const typeOf = (v: unknown): string => v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "number" && Number.isInteger(v) ? "integer" : typeof v

const matchesType = (v: unknown, type: string): boolean => (type === "number" ? typeof v === "number" : typeOf(v) === type)

/** Every error as "path: message"; empty when valid. */
const validate = (root: Record<string, unknown>, value: unknown): Array<string> => {
  const resolve = (ref: string): JsonSchema => {
    if (!ref.startsWith("#/")) throw new Error(`only local $refs are supported: ${ref}`)
    let node: unknown = root
    for (const part of ref.slice(2).split("/")) node = (node as Record<string, unknown>)[part.replace(/~1/g, "/").replace(/~0/g, "~")]
    if (node === undefined) throw new Error(`dangling $ref ${ref}`)
    return node as JsonSchema
  }
  const check = (schema: JsonSchema, v: unknown, path: string): Array<string> => {
    if (schema === true) return []
    if (schema === false) return [`${path}: not allowed`]
    for (const k of Object.keys(schema)) {
      if (!CHECKED.has(k) && !ANNOTATIONS.has(k)) throw new Error(`keyword ${k} is not supported by this test's validator`)
    }
    const errors: Array<string> = []
    if (typeof schema["$ref"] === "string") errors.push(...check(resolve(schema["$ref"]), v, path))
    if (schema["type"] !== undefined) {
      const types = Array.isArray(schema["type"]) ? (schema["type"] as Array<string>) : [schema["type"] as string]
      if (!types.some((t) => matchesType(v, t))) return [...errors, `${path}: expected ${types.join(" or ")}, got ${typeOf(v)}`]
    }
    if (Array.isArray(schema["enum"]) && !schema["enum"].some((e) => Bun.deepEquals(e, v))) errors.push(`${path}: not one of the allowed values`)
    if ("const" in schema && !Bun.deepEquals(schema["const"], v)) errors.push(`${path}: must be ${JSON.stringify(schema["const"])}`)
    if (Array.isArray(schema["anyOf"]) && !schema["anyOf"].some((s) => check(s as JsonSchema, v, path).length === 0)) {
      errors.push(`${path}: matches none of anyOf`)
    }
    if (typeof v === "number" && typeof schema["minimum"] === "number" && v < schema["minimum"]) {
      errors.push(`${path}: below ${schema["minimum"]}`)
    }
    if (typeof v === "string" && typeof schema["pattern"] === "string" && !new RegExp(schema["pattern"], "u").test(v)) {
      errors.push(`${path}: does not match ${schema["pattern"]}`)
    }
    if (Array.isArray(v)) {
      if (typeof schema["minItems"] === "number" && v.length < schema["minItems"]) errors.push(`${path}: fewer than ${schema["minItems"]} items`)
      if (schema["items"] !== undefined) v.forEach((item, i) => errors.push(...check(schema["items"] as JsonSchema, item, `${path}[${i}]`)))
    }
    if (typeOf(v) === "object") {
      const object = v as Record<string, unknown>
      const properties = (schema["properties"] ?? {}) as Record<string, JsonSchema>
      for (const r of (schema["required"] ?? []) as Array<string>) if (!(r in object)) errors.push(`${path}: missing required "${r}"`)
      for (const [k, child] of Object.entries(object)) {
        if (k in properties) errors.push(...check(properties[k]!, child, `${path}.${k}`))
        else if (schema["additionalProperties"] !== undefined) {
          const extra = schema["additionalProperties"] as JsonSchema
          errors.push(...(extra === false ? [`${path}: unknown property "${k}"`] : check(extra, child, `${path}.${k}`)))
        }
      }
    }
    return errors
  }
  return check(root, value, "$")
}

// == fixtures

const schema = definitionJsonSchema()
const load = async (path: string): Promise<unknown> => parse(await readFile(join(ROOT, path), "utf8"))
const clone = <A>(a: A): A => structuredClone(a)

describe("definitionJsonSchema", () => {
  test("a draft-07 document with $schema, $id and title; the root is the definition file object", () => {
    expect(schema["$schema"]).toBe(JSON_SCHEMA_DIALECT)
    expect(schema["$id"]).toBe(DEFINITION_SCHEMA_ID)
    expect(schema["title"]).toBe("image-syncer definition file")
    expect(schema["type"]).toBe("object")
    expect(schema["required"]).toEqual(["targetRepoPrefix", "images"])
  })

  test("generated from DefinitionFileSchema: the same keys and descriptions, no second copy", () => {
    const properties = schema["properties"] as Record<string, { readonly description?: string }>
    expect(Object.keys(properties)).toEqual(Object.keys(DefinitionFileSchema.fields))
    expect(properties["targetRepoPrefix"]?.description).toBe(
      DefinitionFileSchema.fields.targetRepoPrefix.ast.annotations[SchemaAST.DescriptionAnnotationId] as string
    )
  })

  test("every object with properties is closed (additionalProperties: false)", () => {
    const open: Array<string> = []
    const walk = (node: unknown, path: string) => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}[${i}]`))
      if (typeof node !== "object" || node === null) return
      const o = node as Record<string, unknown>
      if ("properties" in o && Object.keys(o["properties"] as object).length > 0 && o["additionalProperties"] !== false) open.push(path)
      for (const [k, v] of Object.entries(o)) walk(v, `${path}/${k}`)
    }
    walk(schema, "#")
    expect(open).toEqual([])
  })

  test("accepts the seed example, the design example, examples/images.yaml, examples/tag-rules.yaml and examples/regional.yaml", async () => {
    for (
      const file of [
        "test/fixtures/definitions/seed.yaml",
        "test/fixtures/definitions/design.yaml",
        "examples/images.yaml",
        "examples/tag-rules.yaml",
        "examples/regional.yaml"
      ]
    ) {
      expect({ file, errors: validate(schema, await load(file)) }).toEqual({ file, errors: [] })
      expect({ file, parsed: Either.isRight(parseDefinition(file, await readFile(join(ROOT, file), "utf8"))) }).toEqual({ file, parsed: true })
    }
  })

  test("a tags rule: latest below 1 and unknown rule keys are rejected, as the parser does", async () => {
    const file = { targetRepoPrefix: "r.example/m/", images: [{ source: "bitnami/postgres-exporter", tags: { semver: "^1", latest: 0 } }] }
    expect(validate(schema, file)).toEqual(["$.images[0].tags.latest: below 1"])
    const unknown = { ...file, images: [{ source: "busybox", tags: { semvr: "^1" } }] }
    expect(validate(schema, unknown)).toEqual(["$.images[0].tags: unknown property \"semvr\""])
  })

  test("rejects a file with amd64only (the misspelt key), as the parser does", async () => {
    const seed = (await load("test/fixtures/definitions/seed.yaml")) as { images: Array<Record<string, unknown>> }
    const bad = clone(seed)
    delete bad.images[3]!["amd64Only"]
    bad.images[3]!["amd64only"] = true
    expect(validate(schema, bad)).toEqual(["$.images[3]: unknown property \"amd64only\""])
    expect(validate(schema, await load("test/fixtures/definitions/invalid.yaml"))).toContain("$.images[1]: unknown property \"amd64only\"")
  })

  test("agrees with the parser on the shape of a file", async () => {
    const seed = (await load("test/fixtures/definitions/seed.yaml")) as Record<string, unknown>
    const variants: ReadonlyArray<readonly [string, (d: Record<string, any>) => void, boolean]> = [
      ["as is", () => {}, true],
      [
        "registries with mirror and insecure",
        (d) => (d.registries = { "docker.io": { mirror: "m.example.com:5000" }, "r.internal:5000": { insecure: true } }),
        true
      ],
      ["unknown root key", (d) => (d.targetRepoPrefx = "x/"), false],
      ["unknown registry option", (d) => (d.registries = { "docker.io": { mirrors: "m.example.com" } }), false],
      ["tag as a number", (d) => (d.images[2].tag = 1.32), false],
      ["amd64Only as a string", (d) => (d.images[3].amd64Only = "yes"), false],
      ["empty images", (d) => (d.images = []), false],
      ["images not a list", (d) => (d.images = { source: "busybox" }), false],
      ["entry without source", (d) => (d.images[0] = { tag: "1" }), false],
      ["no targetRepoPrefix", (d) => delete d.targetRepoPrefix, false]
    ]
    for (const [name, change, valid] of variants) {
      const doc = clone(seed) as Record<string, any>
      change(doc)
      const bySchema = validate(schema, doc).length === 0
      const byParser = Either.isRight(parseDefinition("x.yaml", JSON.stringify(doc)))
      expect({ name, bySchema, byParser }).toEqual({ name, bySchema: valid, byParser: valid })
    }
  })

  test("the validator used here does reject what it should", () => {
    expect(validate({ type: "string", pattern: "^a" }, "b")).toEqual(["$: does not match ^a"])
    expect(validate({ enum: ["x"] }, "y")).toEqual(["$: not one of the allowed values"])
    expect(validate({ anyOf: [{ type: "string" }, { type: "boolean" }] }, 1)).toEqual(["$: matches none of anyOf"])
    expect(validate({ type: "array", items: { type: "integer" }, minItems: 2 }, [1.5])).toEqual([
      "$: fewer than 2 items",
      "$[0]: expected integer, got number"
    ])
    expect(() => validate({ maxLength: 3 }, "abcd")).toThrow("not supported")
  })
})

describe("schema command", () => {
  test("prints the same schema as pretty JSON on stdout", async () => {
    let out = ""
    const write = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((chunk: string | Uint8Array) => {
      out += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk)
      return true
    }) as typeof process.stdout.write
    try {
      await Effect.runPromise(
        Command.run(schemaCommand, { name: "image-syncer schema", version: "0.1.0" })(["bun", "image-syncer"]).pipe(
          Effect.provide(BunContext.layer)
        )
      )
    } finally {
      process.stdout.write = write
    }
    expect(out).toBe(definitionJsonSchemaText())
    expect(JSON.parse(out)).toEqual(schema)
    expect(out).toContain("\n  \"$id\": ")
  })
})
