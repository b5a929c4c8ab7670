/** What the schema's issues become: one problem each, in words a user of the file understands. */
import type { ParseResult } from "effect"
import { ParseResult as PR } from "effect"
import { CLOUDS, TAG_MUTABILITIES } from "../model/Cloud.ts"
import { didYouMean } from "./Problems.ts"
import type { DefinitionProblem } from "./Problems.ts"
import { describeValue, problemAt, valueAt, writtenText } from "./Positions.ts"
import type { Located, Path } from "./Positions.ts"
import { entryKeys, registryKeys, rootKeys, tagRuleKeys } from "./Schema.ts"

const allowedKeysFor = (path: Path): ReadonlyArray<string> | undefined => {
  if (path.length === 1) return rootKeys
  if (path.length === 3 && path[0] === "images") return entryKeys
  if (path.length === 3 && path[0] === "registries") return registryKeys
  if (path.length === 4 && path[0] === "images" && path[2] === "tags") return tagRuleKeys
  return undefined
}

const quoteList = (keys: ReadonlyArray<string>): string => keys.map((k) => `"${k}"`).join(", ")

const typeMessage = (ctx: Located, path: Path, fallback: string): string => {
  const value = valueAt(ctx.root, path)
  const got = `(got ${describeValue(ctx, path, value)})`
  const last = path[path.length - 1]
  if (path.length === 1 && last === "targetRepoPrefix") return `targetRepoPrefix must be a string or a list of strings ${got}`
  if (path.length === 2 && path[0] === "targetRepoPrefix") return `each targetRepoPrefix must be a string like "eu.gcr.io/my-project/external/" ${got}`
  if (last === "platforms") return `platforms must be a list like ["linux/amd64", "linux/arm64"] ${got}`
  if (path[path.length - 2] === "platforms") return `each platform must be a string like "linux/amd64" ${got}`
  if (path.length === 1 && last === "images") {
    return value === null
      ? "images has no entries; list at least one image (- source: \"busybox:1.36\")"
      : `images must be a list of entries like "- source: busybox:1.36" ${got}`
  }
  if (path.length === 1 && last === "registries") return `registries must be a mapping of registry host to options ${got}`
  if (path.length === 1 && last === "createRepositories") return `createRepositories must be true or false ${got}`
  if (path.length === 2 && path[0] === "images") {
    return typeof value === "string"
      ? `each images entry must be a mapping; write "- source: ${value}" (got a plain string)`
      : `each images entry must be a mapping with a "source" key ${got}`
  }
  if (path.length === 2 && path[0] === "registries") {
    return `registry options must be a mapping with "mirror" and/or "insecure" ${got}`
  }
  if (path.length === 3) {
    if (last === "source") return `source must be a string ${got}`
    if (last === "tag") {
      return typeof value === "number" || typeof value === "boolean"
        ? `tag must be a string (quote it: tag: "${writtenText(ctx, path, value)}")`
        : `tag must be a string ${got}`
    }
    if (last === "amd64Only" || last === "insecure" || last === "createRepositories") return `${String(last)} must be true or false ${got}`
    if (last === "mirror") return `mirror must be a string host[:port] ${got}`
    if (path[0] === "registries" && (last === "cloud" || last === "tagMutability")) {
      const allowed: ReadonlyArray<string> = last === "cloud" ? CLOUDS : TAG_MUTABILITIES
      const hint = typeof value === "string" ? didYouMean(value, allowed) : undefined
      return `${last} must be one of ${quoteList(allowed)} ${got}${hint !== undefined ? ` (did you mean "${hint}"?)` : ""}`
    }
    if (path[0] === "registries" && (last === "region" || last === "registryId")) return `${last} must be a string ${got}`
    if (last === "tags") return `tags must be a mapping with semver and/or match (and optionally exclude, latest) ${got}`
  }
  if (path.length === 4 && path[2] === "tags") {
    if (last === "latest") return `latest must be a whole number of at least 1 ${got}`
    if (last === "prerelease") return `prerelease must be true or false ${got}`
    return `${String(last)} must be a string ${got}`
  }
  return `${path.map(String).join(".")}: ${fallback}`
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
  const hasDeeperIssue = (path: Path) =>
    issues.some((o) => o.path.length > path.length && path.every((k, n) => String(k) === String(o.path[n])))
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
      const tail =
        hint !== undefined
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
