/**
 * How the definition file's keys are declared: each key once, as a Field — its effect/Schema
 * with its description (the JSON Schema's too: written once), what a value of the wrong type
 * is told, and the shape below it — so that the schema, the allowed keys (for did-you-mean)
 * and the messages all come from one declaration. Each field's own check (its decoder) sits
 * beside its declaration in the module of its section.
 */
import { Schema, SchemaAST } from "effect"
import type { Path } from "./Positions.ts"
import { didYouMean } from "./Problems.ts"

/** A value of the wrong type, as a message about it needs it. */
export interface Wrong {
  /** "(got the number 5)", "(got a list)" … */
  readonly got: string
  /** the value as read */
  readonly value: unknown
  /** a scalar as written in the file ("1.30", not 1.3) */
  readonly written: string
}

/** What is below a field: the keys of a mapping, the items of a list, or the values of a mapping keyed by anything. */
export type Inner =
  | { readonly _tag: "Keys"; readonly fields: Fields }
  | { readonly _tag: "Items"; readonly item: Field }
  | { readonly _tag: "Values"; readonly value: Field }

/** One key of the file. */
export interface Field<S extends Schema.Struct.Field = Schema.Struct.Field> {
  /** its schema as its struct holds it (optional or required), with its description */
  readonly schema: S
  /** the whole message for a value of the wrong type; unset: the schema's own words, after the key's path */
  readonly wrongType?: ((wrong: Wrong) => string) | undefined
  readonly inner?: Inner | undefined
}

/** The fields of a mapping, by key. */
export type Fields = Readonly<Record<string, Field>>

type SchemaOf<F> = F extends Field<infer S> ? S : never

/** What a field says about itself beside its schema. */
interface About {
  /** unset only where the schema describes itself (a struct with an identifier: the JSON Schema's definition holds it) */
  readonly description?: string
  readonly wrongType?: ((wrong: Wrong) => string) | undefined
  readonly inner?: Inner | undefined
}

/** `schema` with `description`, in its JSON Schema override too when it has one (the description is written once). */
const described = <S extends Schema.Schema.All>(schema: S, description: string | undefined): S => {
  if (description === undefined) return schema
  const jsonSchema = schema.ast.annotations[SchemaAST.JSONSchemaAnnotationId]
  return schema.annotations({ description, ...(typeof jsonSchema === "object" ? { jsonSchema: { ...jsonSchema, description } } : {}) }) as S
}

/** A key that must be there. */
export const required = <S extends Schema.Schema.Any>(schema: S, about: About): Field<S> => ({
  schema: described(schema, about.description),
  wrongType: about.wrongType,
  inner: about.inner
})

/** A key that may be left out. */
export const optional = <S extends Schema.Schema.All>(schema: S, about: About): Field<Schema.optional<S>> => ({
  schema: Schema.optional(described(schema, about.description)),
  wrongType: about.wrongType,
  inner: about.inner
})

/** A whole number within bounds, which the JSON Schema says too. */
export const integer = (bounds: { readonly minimum: number; readonly maximum?: number }) =>
  Schema.Number.annotations({ jsonSchema: { type: "integer", ...bounds } })

/** The struct of some fields (what their schemas make), with its own annotations. */
export const struct = <F extends Fields>(fields: F, annotations: { readonly identifier: string; readonly title?: string; readonly description?: string }) =>
  Schema.Struct(Object.fromEntries(Object.entries(fields).map(([key, f]) => [key, f.schema])) as { readonly [K in keyof F]: SchemaOf<F[K]> })
    .annotations(annotations)

/** The keys of a mapping's fields, in declaration order. */
export const keysOf = (fields: Fields): ReadonlyArray<string> => Object.keys(fields)

/** The keys inside the mapping. */
export const keys = (fields: Fields): Inner => ({ _tag: "Keys", fields })

/** The field at `path` below `root` (list indexes and record keys step into items and values); undefined past the declared shape. */
export const fieldAt = (root: Field, path: Path): Field | undefined =>
  path.reduce<Field | undefined>((field, key) => {
    const inner = field?.inner
    if (inner === undefined) return undefined
    if (inner._tag === "Items") return typeof key === "number" ? inner.item : undefined
    if (inner._tag === "Values") return inner.value
    return inner.fields[String(key)]
  }, root)

/** "NAME must be WHAT (got …)": the usual wrong-type message. */
export const mustBe = (name: string, what: string) => ({ got }: Wrong): string => `${name} must be ${what} ${got}`

/** "NAME must be one of "a", "b" (got …) (did you mean "a"?)" for a value from a fixed list. */
export const oneOf = (name: string, allowed: ReadonlyArray<string>) => ({ got, value }: Wrong): string => {
  const hint = typeof value === "string" ? didYouMean(value, allowed) : undefined
  return `${name} must be one of ${quoteList(allowed)} ${got}${hint !== undefined ? ` (did you mean "${hint}"?)` : ""}`
}

/** `"a", "b", "c"` */
export const quoteList = (keys: ReadonlyArray<string>): string => keys.map((k) => `"${k}"`).join(", ")
