/**
 * The definition file's JSON Schema, generated from the same `effect/Schema` the parser
 * decodes with (`DefinitionFileSchema`), for editor completion and validation. There is no
 * second, hand-written copy: the generated schema is only post-processed generically (root
 * inlined, objects closed).
 */
import { JSONSchema } from "effect"
import { DefinitionFileSchema } from "./Schema.ts"

/** The JSON Schema dialect of the document (what `JSONSchema.make` targets). */
export const JSON_SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"

/** The schema's `$id`. */
export const DEFINITION_SCHEMA_ID = "urn:image-syncer:definition-file"

/** A JSON value as the schema document holds it. */
type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

const isObject = (value: Json | undefined): value is { readonly [key: string]: Json } => typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * Every object schema with `properties` and no `additionalProperties` gets
 * `additionalProperties: false`: the parser rejects unknown keys (`amd64only`), so must the editor.
 */
const closeObjects = (node: Json): Json => {
  if (Array.isArray(node)) return node.map(closeObjects)
  if (!isObject(node)) return node
  const out: Record<string, Json> = {}
  for (const [key, value] of Object.entries(node)) {
    // `properties` and `$defs` map names to schemas: descend into each schema, not the map itself.
    out[key] = (key === "properties" || key === "$defs" || key === "definitions" || key === "patternProperties") && isObject(value)
      ? Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, closeObjects(schema)]))
      : closeObjects(value)
  }
  if (isObject(out["properties"]) && !("additionalProperties" in out)) out["additionalProperties"] = false
  if (Array.isArray(out["required"]) && out["required"].length === 0) delete out["required"]
  return out
}

const mentions = (node: Json, ref: string): boolean =>
  Array.isArray(node)
    ? node.some((n) => mentions(n, ref))
    : isObject(node)
    ? Object.entries(node).some(([k, v]) => (k === "$ref" && v === ref) || mentions(v, ref))
    : false

/** The definition file's JSON Schema, as an object. */
export const definitionJsonSchema = (): Record<string, unknown> => {
  const generated = JSONSchema.make(DefinitionFileSchema) as unknown as { readonly [key: string]: Json }
  const { $ref, $schema: _dialect, $defs, ...rest } = generated
  const defs: Record<string, Json> = isObject($defs) ? { ...$defs } : {}
  // The root is a `$ref` to the file's definition; inline it so title, description and
  // properties sit at the top (draft-07 ignores keywords beside a `$ref`).
  let root: Record<string, Json> = { ...rest }
  if (typeof $ref === "string" && $ref.startsWith("#/$defs/")) {
    const name = $ref.slice("#/$defs/".length)
    const target = defs[name]
    if (isObject(target)) {
      root = { ...target, ...rest }
      // keep the definition only when something (itself, recursively) still refers to it
      if (!mentions(defs, $ref)) delete defs[name]
    } else {
      root = { $ref, ...rest }
    }
  } else if ($ref !== undefined) {
    root = { $ref, ...rest }
  }
  const closed = closeObjects({ ...root, ...(Object.keys(defs).length > 0 ? { $defs: defs } : {}) })
  return { $schema: JSON_SCHEMA_DIALECT, $id: DEFINITION_SCHEMA_ID, ...(closed as Record<string, Json>) }
}

/** The schema as printed: pretty JSON and a final newline. */
export const definitionJsonSchemaText = (): string => `${JSON.stringify(definitionJsonSchema(), null, 2)}\n`
