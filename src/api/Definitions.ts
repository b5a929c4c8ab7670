/**
 * The definition file: loading and validating it (every problem with file, line, column and
 * entry, before any request), its schema and JSON Schema, where an entry is read from and
 * goes, tag rules, shards. `import { Definitions } from "image-syncer"`.
 */
export type { Definition, ImageEntry } from "../definition/Definition.ts"
export { definitionJsonSchema, definitionJsonSchemaText } from "../definition/JsonSchema.ts"
export { loadDefinition } from "../definition/Load.ts"
export { locate, sourceLocation, targetLocation } from "../definition/Locate.ts"
export { parseDefinition } from "../definition/Parse.ts"
export { DefinitionError, formatProblem } from "../definition/Problems.ts"
export type { DefinitionProblem } from "../definition/Problems.ts"
export { DefinitionFileSchema } from "../definition/Schema.ts"
export type { DefinitionFile } from "../definition/Schema.ts"
export { parseShard, selectShard } from "../definition/Shard.ts"
export type { Shard } from "../definition/Shard.ts"
export { compileRule, selectTags } from "../definition/TagRule.ts"
export type { TagRule, TagRuleSpec } from "../definition/TagRule.ts"
