/**
 * The effect/Schema of the definition file: the one description of its shape, used to decode
 * it (strictly: unknown keys are errors) and to generate its JSON Schema (`image-syncer
 * schema`). Each key is declared once, with its description and its check, in the module of
 * its section (Prefixes, Platforms, Registries and CloudOptions, Entries and TagRule); this
 * module puts the sections together.
 */
import { Schema } from "effect"
import { createRepositoriesField } from "./CloudOptions.ts"
import { imagesField } from "./Entries.ts"
import { keys, struct } from "./Field.ts"
import type { Field } from "./Field.ts"
import { platformsField } from "./Platforms.ts"
import { targetRepoPrefixField } from "./Prefixes.ts"
import { registriesField } from "./Registries.ts"

const rootFields = {
  targetRepoPrefix: targetRepoPrefixField,
  platforms: platformsField("The default `platforms` of entries that set neither platforms nor amd64Only."),
  registries: registriesField,
  createRepositories: createRepositoriesField,
  images: imagesField
}

/** The effect/Schema of the file (also used to generate a JSON Schema — so a plain struct with descriptions, no transforms that break JSONSchema.make). */
export const DefinitionFileSchema = struct(rootFields, {
  identifier: "DefinitionFile",
  title: "image-syncer definition file",
  description: "The list of images to copy into the target registry."
})

/** The file as a field: what messages and did-you-mean find their keys in. */
export const FILE: Field = { schema: DefinitionFileSchema, inner: keys(rootFields) }

/** The decoded (but not yet semantically checked) shape of the file. */
export type DefinitionFile = typeof DefinitionFileSchema.Type

/** Decodes a parsed file, reporting every problem and unknown keys. */
export const decodeFile = Schema.decodeUnknownEither(DefinitionFileSchema, { onExcessProperty: "error", errors: "all" })
