/**
 * `targetRepoPrefix`: where images go — one prefix or a list, each valid and none twice (a
 * list in the file names its items' positions; an override from the command line names none).
 */
import { Either, Schema } from "effect"
import { parseTargetPrefix } from "../model/Target.ts"
import { mustBe, required } from "./Field.ts"
import { problemAt, valueAt } from "./Positions.ts"
import type { Located, Path } from "./Positions.ts"
import type { DefinitionProblem } from "./Problems.ts"

/** The `targetRepoPrefix` key. */
export const targetRepoPrefixField = required(Schema.Union(Schema.String, Schema.Array(Schema.String)), {
  description:
    "Where images go: registry host plus repository prefix, ending with \"/\" (e.g. \"eu.gcr.io/kyma-project/external/\"), or a list of them (every image goes to each). Required unless given on the command line.",
  wrongType: mustBe("targetRepoPrefix", "a string or a list of strings"),
  inner: { _tag: "Items", item: { schema: Schema.String, wrongType: mustBe("each targetRepoPrefix", "a string like \"eu.gcr.io/my-project/external/\"") } }
})

/** The prefixes the file gives, when they are strings. */
export const filePrefixes = (root: unknown): ReadonlyArray<string> | undefined => {
  const written = valueAt(root, ["targetRepoPrefix"])
  if (typeof written === "string") return [written]
  return Array.isArray(written) && written.every((p) => typeof p === "string") ? (written as Array<string>) : undefined
}

/** The run's prefixes checked (`fromOverride`: given on the command line); `usable` when every one is valid and there is at least one. */
export const checkPrefixes = (
  ctx: Located,
  prefixes: ReadonlyArray<string> | undefined,
  fromOverride: boolean
): { readonly problems: ReadonlyArray<DefinitionProblem>; readonly usable: boolean } => {
  if (prefixes === undefined) return { problems: [], usable: false }
  const problems: Array<DefinitionProblem> = []
  const fileList = Array.isArray(valueAt(ctx.root, ["targetRepoPrefix"]))
  const prefixPath = (i: number): Path => (fileList ? ["targetRepoPrefix", i] : ["targetRepoPrefix"])
  const seen = new Map<string, number>()
  if (prefixes.length === 0 && !fromOverride) {
    problems.push(problemAt(ctx, ["targetRepoPrefix"], "targetRepoPrefix is an empty list; give at least one prefix"))
  }
  prefixes.forEach((prefix, i) => {
    const parsed = parseTargetPrefix(prefix)
    if (Either.isLeft(parsed)) {
      problems.push(
        fromOverride
          ? { line: 0, column: 0, entry: undefined, message: `${parsed.left.message} (given as an override of the file's targetRepoPrefix)` }
          : problemAt(ctx, prefixPath(i), parsed.left.message)
      )
      return
    }
    const normal = `${parsed.right.registry}/${parsed.right.repositoryPrefix}`
    const earlier = seen.get(normal)
    if (earlier !== undefined) {
      const first = prefixes[earlier]!
      const message = first === prefix
        ? `target prefix "${prefix}" is given twice`
        : `target prefix "${prefix}" is given twice ("${first}" names the same repositories)`
      problems.push(fromOverride ? { line: 0, column: 0, entry: undefined, message: `${message} on the command line` } : problemAt(ctx, prefixPath(i), message))
      return
    }
    seen.set(normal, i)
  })
  return { problems, usable: problems.length === 0 && prefixes.length > 0 }
}
