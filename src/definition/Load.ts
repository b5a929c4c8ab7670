/** Loading a definition file from disk (read with a size cap), then parsing it. */
import { Effect } from "effect"
import { readCapped, readFailureReason } from "../model/InputFile.ts"
import type { Definition } from "./Definition.ts"
import { parseDefinition } from "./Parse.ts"
import { loadTls } from "./Tls.ts"
import { DefinitionError } from "./Problems.ts"
import type { DefinitionProblem } from "./Problems.ts"

const readProblem = (file: string, error: unknown): DefinitionProblem => {
  const reason = readFailureReason(error)
  const hint = (error as { readonly code?: unknown } | undefined)?.code === "ETOOBIG" ? "; a definition file is a short YAML list" : ""
  return { line: 0, column: 0, entry: undefined, message: `cannot read images file "${file}": ${reason}${hint}` }
}

const BOM = [0xef, 0xbb, 0xbf]

/** The text of a definition file (read with the size cap), and whether it began with a byte-order mark (not part of the text). */
export const readDefinitionText = (file: string): Effect.Effect<{ readonly text: string; readonly bom: boolean }, DefinitionError> =>
  Effect.tryPromise({
    try: () => readCapped(file),
    catch: (error) => new DefinitionError({ file, problems: [readProblem(file, error)] })
  }).pipe(
    Effect.map((bytes) => {
      const bom = BOM.every((b, i) => bytes[i] === b)
      return { bom, text: new TextDecoder().decode(bom ? bytes.subarray(BOM.length) : bytes) }
    })
  )

/**
 * Loads a definition file: every problem (with file, line, column and entry) before anything
 * is contacted.
 *
 * @example
 * ```ts
 * const definition = yield* Definitions.loadDefinition("images.yaml").pipe(
 *   Effect.catchTag("DefinitionError", (e) => Effect.die(e.message))
 * )
 * ```
 *
 * Read a file (missing/unreadable/directory → DefinitionError with line 0 and a clear message
 * like `cannot read images file "x.yaml": no such file`), parseDefinition, then read the TLS
 * files it names and the certs.d directories of its hosts (`certsDirs`, docker's and podman's
 * by default): every problem found before anything is contacted.
 */
export const loadDefinition = (
  file: string,
  options?: { readonly targetRepoPrefix?: string | ReadonlyArray<string> | undefined; readonly certsDirs?: ReadonlyArray<string> }
): Effect.Effect<Definition, DefinitionError> =>
  readDefinitionText(file).pipe(
    Effect.flatMap(({ text }) => parseDefinition(file, text, options)),
    Effect.flatMap((parsed) => loadTls(parsed, options?.certsDirs)),
    Effect.flatMap(({ definition, problems }) => (problems.length > 0 ? Effect.fail(new DefinitionError({ file, problems })) : Effect.succeed(definition)))
  )
