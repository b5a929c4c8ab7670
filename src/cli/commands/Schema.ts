/**
 * `image-syncer schema`: prints the definition file's JSON Schema (src/definition/JsonSchema.ts)
 * for editors (`# yaml-language-server: $schema=…`).
 */
import { Command } from "@effect/cli"
import { Effect } from "effect"
import { definitionJsonSchemaText } from "../../definition/JsonSchema.ts"

/** The `schema` command: prints the definition file's JSON Schema on stdout. */
export const schemaCommand = Command.make("schema", {}, () => Effect.sync(() => void process.stdout.write(definitionJsonSchemaText()))).pipe(
  Command.withDescription(
    "Prints the JSON Schema of the definition file (for editors: # yaml-language-server: $schema=<file>)"
  )
)
