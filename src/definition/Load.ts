/** Loading a definition file from disk (read with a size cap), then parsing it. */
import { Effect } from "effect"
import { readTextCapped } from "../model/InputFile.ts"
import type { Definition } from "./Definition.ts"
import { parseDefinition } from "./Parse.ts"
import { DefinitionError } from "./Problems.ts"
import type { DefinitionProblem } from "./Problems.ts"

const readProblem = (file: string, error: unknown): DefinitionProblem => {
  const code = (error as { readonly code?: unknown } | undefined)?.code
  const reason =
    code === "ENOENT"
      ? "no such file"
      : code === "EISDIR"
        ? "it is a directory"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : code === "ETOOBIG"
          ? "larger than 4 MiB; a definition file is a short YAML list"
          : error instanceof Error
            ? error.message
            : String(error)
  return { line: 0, column: 0, entry: undefined, message: `cannot read images file "${file}": ${reason}` }
}

/** Read a file (missing/unreadable/directory → DefinitionError with line 0 and a clear message like `cannot read images file "x.yaml": no such file`) then parseDefinition. */
export const loadDefinition = (
  file: string,
  options?: { readonly targetRepoPrefix?: string | undefined }
): Effect.Effect<Definition, DefinitionError> =>
  Effect.tryPromise({
    try: () => readTextCapped(file),
    catch: (error) => new DefinitionError({ file, problems: [readProblem(file, error)] })
  }).pipe(Effect.flatMap((text) => parseDefinition(file, text, options)))
