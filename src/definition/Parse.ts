/**
 * Parsing and validating a definition file's text: YAML with positions, the schema, then the
 * checks that need more than types, section by section (Prefixes, Platforms, Registries and
 * CloudOptions, Entries). Every problem is collected, not just the first.
 */
import { Either } from "effect"
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from "yaml"
import { cloudProblems } from "./CloudOptions.ts"
import type { Definition, ImageEntry } from "./Definition.ts"
import { checkImages, entryOf } from "./Entries.ts"
import { schemaProblems } from "./Messages.ts"
import { platformsAt } from "./Platforms.ts"
import { isRecord, offsetOf, problemAt, valueAt } from "./Positions.ts"
import type { Located } from "./Positions.ts"
import { checkPrefixes, filePrefixes } from "./Prefixes.ts"
import { DefinitionError } from "./Problems.ts"
import type { DefinitionProblem } from "./Problems.ts"
import { registriesOf, registryProblems } from "./Registries.ts"
import { decodeFile } from "./Schema.ts"

/**
 * The checks that need more than types, in the order of the file's sections: the prefixes,
 * the default platforms, the registries (and their cloud keys), then the entries against both.
 */
const semanticChecks = (ctx: Located, prefixes: ReadonlyArray<string> | undefined, fromOverride: boolean) => {
  const prefixCheck = checkPrefixes(ctx, prefixes, fromOverride)
  const platformProblems: Array<DefinitionProblem> = []
  const written = valueAt(ctx.root, ["platforms"])
  const filePlatforms = written === undefined ? undefined : platformsAt(ctx, ["platforms"], written, platformProblems)
  const images = checkImages(ctx, { prefixes, prefixesUsable: prefixCheck.usable, filePlatforms })
  return {
    problems: [
      ...prefixCheck.problems,
      ...platformProblems,
      ...registryProblems(ctx, valueAt(ctx.root, ["registries"])),
      ...cloudProblems(ctx, prefixes),
      ...images.problems
    ],
    computed: images.computed
  }
}

const kindOf = (node: unknown): string =>
  isSeq(node) ? "a list" : isScalar(node) ? (typeof node.value === "string" ? "a string" : `${String(node.value)}`) : "not a mapping"

const sortProblems = (problems: ReadonlyArray<DefinitionProblem>): Array<DefinitionProblem> =>
  problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.line - b.p.line || a.p.column - b.p.column || a.i - b.i)
    .map(({ p }) => p)

/** Parse + validate text; all problems collected (not just the first). */
export const parseDefinition = (
  file: string,
  text: string,
  options?: { readonly targetRepoPrefix?: string | ReadonlyArray<string> | undefined }
): Either.Either<Definition, DefinitionError> => {
  const fail = (problems: ReadonlyArray<DefinitionProblem>) => Either.left(new DefinitionError({ file, problems: sortProblems(problems) }))
  // An empty override (e.g. an unset-but-exported env variable) means "no override".
  const given = options?.targetRepoPrefix
  const overrides = (typeof given === "string" ? [given] : given ?? []).filter((p) => p !== "")
  const override = overrides.length === 0 ? undefined : overrides

  const lineCounter = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false })
  const problems: Array<DefinitionProblem> = []
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset)
    return { line, column: col }
  }
  for (const doc of docs) {
    for (const error of doc.errors) {
      problems.push({ ...at(error.pos[0]), entry: undefined, message: `invalid YAML: ${error.message}` })
    }
  }
  if (docs.length > 1) {
    problems.push({
      ...at(docs[1]!.range[0]),
      entry: undefined,
      message: `the file holds ${docs.length} YAML documents; it must hold exactly one (remove the "---" separator)`
    })
  }
  if (problems.length > 0) return fail(problems)

  const doc = docs[0]
  if (doc === undefined || doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return fail([{ line: 1, column: 1, entry: undefined, message: "the file is empty; it needs targetRepoPrefix and images" }])
  }
  if (!isMap(doc.contents)) {
    const { line, column } = at(offsetOf(doc.contents) ?? 0)
    return fail([
      {
        line,
        column,
        entry: undefined,
        message: `the file must be a mapping with targetRepoPrefix and images (got ${kindOf(doc.contents)})`
      }
    ])
  }
  let root: unknown
  try {
    root = doc.toJS()
  } catch (e) {
    // e.g. too many aliases ("billion laughs")
    return fail([{ line: 1, column: 1, entry: undefined, message: `invalid YAML: ${e instanceof Error ? e.message : String(e)}` }])
  }
  const ctx: Located = { doc, lineCounter, root }

  // The override stands in for a missing targetRepoPrefix, so the file may omit it.
  const input = override !== undefined && isRecord(root) && !("targetRepoPrefix" in root)
    ? { ...root, targetRepoPrefix: override[0] }
    : root
  const decoded = decodeFile(input)
  if (Either.isLeft(decoded)) problems.push(...schemaProblems(ctx, decoded.left.issue))

  const prefixes = override ?? filePrefixes(root)
  const checked = semanticChecks(ctx, prefixes, override !== undefined)
  problems.push(...checked.problems)

  if (problems.length > 0) return fail(problems)
  if (Either.isLeft(decoded) || prefixes === undefined || prefixes.length === 0) {
    // Unreachable in practice: every schema issue above becomes a problem.
    return fail([{ line: 1, column: 1, entry: undefined, message: "the file does not match the definition schema" }])
  }
  const value = decoded.right
  const { registries, tlsFiles } = registriesOf(ctx, value.registries)
  const images: Array<ImageEntry> = []
  for (const [index, entry] of value.images.entries()) {
    const done = checked.computed.get(index)
    if (done === undefined) return fail([problemAt(ctx, ["images", index], "internal error: entry was not validated")])
    images.push(entryOf(ctx, index, entry, done))
  }
  return Either.right({
    file,
    targetRepoPrefix: prefixes[0]!,
    targetRepoPrefixes: prefixes,
    registries,
    tlsFiles,
    ...(value.createRepositories !== undefined ? { createRepositories: value.createRepositories } : {}),
    images
  })
}
