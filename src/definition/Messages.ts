/** What the schema's issues become: one problem each, in words a user of the file understands. */
import type { ParseResult } from "effect"
import { ParseResult as PR } from "effect"
import { fieldAt, keysOf, quoteList } from "./Field.ts"
import { didYouMean } from "./Problems.ts"
import type { DefinitionProblem } from "./Problems.ts"
import { describeValue, problemAt, valueAt, writtenText } from "./Positions.ts"
import type { Located, Path } from "./Positions.ts"
import { FILE } from "./Schema.ts"

/** The keys allowed beside the last key of `path` (for did-you-mean), when it is a key of a mapping. */
const allowedKeysFor = (path: Path): ReadonlyArray<string> | undefined => {
  const inner = fieldAt(FILE, path.slice(0, -1))?.inner
  return inner?._tag === "Keys" ? keysOf(inner.fields) : undefined
}

/** A value of the wrong type, in the words its field declares; else the schema's own, after the key's path. */
const typeMessage = (ctx: Located, path: Path, fallback: string): string => {
  const value = valueAt(ctx.root, path)
  const wrongType = fieldAt(FILE, path)?.wrongType
  if (wrongType === undefined) return `${path.map(String).join(".")}: ${fallback}`
  return wrongType({ got: `(got ${describeValue(ctx, path, value)})`, value, written: writtenText(ctx, path, value) })
}

/** Every problem the schema found, deduplicated, with did-you-mean hints. */
export const schemaProblems = (ctx: Located, issue: ParseResult.ParseIssue): Array<DefinitionProblem> => {
  const issues = PR.ArrayFormatter.formatIssueSync(issue)
  const seen = new Set<string>()
  const problems: Array<DefinitionProblem> = []
  // A misspelt key already says which key is meant; don't also report that key as missing.
  const suggested = new Set<string>()
  for (const i of issues) {
    if (i._tag !== "Unexpected") continue
    const allowed = allowedKeysFor(i.path)
    const hint = allowed === undefined ? undefined : didYouMean(String(i.path[i.path.length - 1]), allowed)
    if (hint !== undefined) suggested.add(JSON.stringify([...i.path.slice(0, -1).map(String), hint]))
  }
  // Schema.optional also reports "Expected undefined" for the whole optional value when
  // something inside it is wrong: the inner issue is the useful one.
  const hasDeeperIssue = (path: Path) => issues.some((o) => o.path.length > path.length && path.every((k, n) => String(k) === String(o.path[n])))
  for (const i of issues) {
    // Schema.optional reports each bad value twice (also "Expected undefined"): keep the first.
    const key = JSON.stringify([i._tag, ...i.path.map(String)])
    if (seen.has(key)) continue
    seen.add(key)
    const path = i.path
    if (i._tag === "Type" && hasDeeperIssue(path)) continue
    const last = path[path.length - 1]
    if (i._tag === "Unexpected") {
      const allowed = allowedKeysFor(path)
      const hint = allowed === undefined ? undefined : didYouMean(String(last), allowed)
      const tail = hint !== undefined
        ? ` (did you mean "${hint}"?)`
        : allowed !== undefined
        ? ` (allowed keys: ${quoteList(allowed)})`
        : ""
      problems.push(problemAt(ctx, path, `unknown key "${String(last)}"${tail}`, true))
    } else if (i._tag === "Missing") {
      if (suggested.has(JSON.stringify(path.map(String)))) continue
      if (path.length === 1 && last === "targetRepoPrefix") {
        problems.push(
          problemAt(ctx, [], "missing required key \"targetRepoPrefix\" (e.g. targetRepoPrefix: \"eu.gcr.io/my-project/external/\")")
        )
      } else if (path.length === 1 && last === "images") {
        problems.push(problemAt(ctx, [], "missing required key \"images\" (a list of entries like \"- source: busybox:1.36\")"))
      } else if (path.length === 2 && path[0] === "images" && Array.isArray(valueAt(ctx.root, ["images"]))) {
        problems.push(problemAt(ctx, ["images"], "images is empty; list at least one image"))
      } else {
        problems.push(problemAt(ctx, path.slice(0, -1), `missing required key "${String(last)}"`))
      }
    } else {
      problems.push(problemAt(ctx, path, typeMessage(ctx, path, i.message)))
    }
  }
  return problems
}
