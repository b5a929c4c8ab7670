/**
 * Tag selection rules (`tags:` on an entry that names a repository): which tags of the source
 * repository are synced. Ranges are the `semver` npm package's (loose parsing, so a leading
 * "v" is fine); `match` and `exclude` are regular expressions on the tag; `latest: N` keeps the
 * N highest by semver precedence, leaving out tags that are not semver.
 *
 * Suffixes: to semver, "1.2.0-rc.1" is a pre-release and a range leaves it out — as it should.
 * Tags such as bitnami's "0.11.1-debian-11-r69" are pre-releases to semver too, yet they are
 * variants of 0.11.1, and a rule with `match` is written to pick exactly such suffixes. So:
 * - without `match`, the range is semver's own (pre-releases left out);
 * - with `match`, the range is checked against the release the tag names (0.11.1), the suffix
 *   being the variant `match` and `exclude` choose;
 * - `prerelease: true` makes the range take pre-releases as semver's includePrerelease does,
 *   `prerelease: false` keeps semver's default even with `match`.
 */
import { Schema } from "effect"
import semver from "semver"
import { integer, mustBe, optional } from "./Field.ts"

/** A rule as written in the file. */
export interface TagRuleSpec {
  /** a range as the `semver` npm package reads it: ">=0.11.0 <0.12.0", "^1.2", "1.x" */
  readonly semver?: string | undefined
  /** a regular expression the tag must match */
  readonly match?: string | undefined
  /** a regular expression the tag must not match */
  readonly exclude?: string | undefined
  /** then keep the N highest by semver precedence */
  readonly latest?: number | undefined
  /** true: the range takes pre-releases (semver's includePrerelease); false: it never does; unset: see the module comment */
  readonly prerelease?: boolean | undefined
}

/** The keys of a `tags` rule. */
export const tagRuleFields = {
  semver: optional(Schema.String, {
    description: "A semver range as the `semver` npm package reads it, e.g. \">=0.11.0 <0.12.0\" or \"^1.2\".",
    wrongType: mustBe("semver", "a string")
  }),
  match: optional(Schema.String, { description: "A regular expression the tag must match.", wrongType: mustBe("match", "a string") }),
  exclude: optional(Schema.String, { description: "A regular expression the tag must not match.", wrongType: mustBe("exclude", "a string") }),
  latest: optional(integer({ minimum: 1 }), {
    description: "Then keep the N highest tags by semver precedence (tags that are not semver are left out).",
    wrongType: mustBe("latest", "a whole number of at least 1")
  }),
  prerelease: optional(Schema.Boolean, {
    description:
      "true: the semver range takes pre-releases (\"1.2.0-rc.1\"); false: it never does. Unset: without match it does not; with match a suffixed tag (\"0.11.1-debian-11-r69\") is checked as its release (0.11.1).",
    wrongType: mustBe("prerelease", "true or false")
  })
}

/** How a rule's range treats a tag with a suffix ("-rc.1", "-debian-11-r69"). */
export type SuffixMode = "prerelease-excluded" | "prerelease-included" | "variant"

/** A rule ready to select. */
export interface TagRule {
  readonly spec: TagRuleSpec
  readonly range: semver.Range | undefined
  readonly suffixes: SuffixMode
  readonly match: RegExp | undefined
  readonly exclude: RegExp | undefined
  readonly latest: number | undefined
}

/** What is wrong with a rule, per key; empty when it can be used. */
export type RuleProblems = ReadonlyArray<{ readonly key: keyof TagRuleSpec | undefined; readonly message: string }>

const regexProblem = (key: "match" | "exclude", text: string): string | undefined => {
  try {
    new RegExp(text)
    return undefined
  } catch (e) {
    return `${key} is not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`
  }
}

/** Checks a rule as written; the problems name the key they are about. */
export const ruleProblems = (spec: TagRuleSpec): RuleProblems => {
  const problems: Array<{ key: keyof TagRuleSpec | undefined; message: string }> = []
  if (spec.semver === undefined && spec.match === undefined) {
    problems.push({ key: undefined, message: "tags needs at least one of \"semver\" and \"match\" (a rule that selects every tag is too easy to get wrong)" })
  }
  if (spec.semver !== undefined && semver.validRange(spec.semver, { loose: true }) === null) {
    problems.push({ key: "semver", message: `semver ${JSON.stringify(spec.semver)} is not a valid range (e.g. ">=1.2.0 <2.0.0", "^1.2", "1.x")` })
  }
  for (const key of ["match", "exclude"] as const) {
    const text = spec[key]
    if (text === undefined) continue
    const problem = regexProblem(key, text)
    if (problem) problems.push({ key, message: problem })
  }
  if (spec.latest !== undefined && (!Number.isInteger(spec.latest) || spec.latest < 1)) {
    problems.push({ key: "latest", message: `latest must be a whole number of at least 1 (got ${spec.latest})` })
  }
  return problems
}

/** How the rule's range treats suffixed tags (see the module comment). */
export const suffixModeOf = (spec: TagRuleSpec): SuffixMode =>
  spec.prerelease === true
    ? "prerelease-included"
    : spec.prerelease === false || spec.match === undefined
    ? "prerelease-excluded"
    : "variant"

/** Compiles a rule that ruleProblems found nothing wrong with. */
export const compileRule = (spec: TagRuleSpec): TagRule => {
  const suffixes = suffixModeOf(spec)
  return {
    spec,
    suffixes,
    range: spec.semver === undefined
      ? undefined
      : new semver.Range(spec.semver, { loose: true, includePrerelease: suffixes === "prerelease-included" }),
    match: spec.match === undefined ? undefined : new RegExp(spec.match),
    exclude: spec.exclude === undefined ? undefined : new RegExp(spec.exclude),
    latest: spec.latest
  }
}

/** The tag as a semver version (loose: "v1.2.3" is 1.2.3), if it is one. */
const versionOf = (tag: string): semver.SemVer | undefined => semver.parse(tag, { loose: true }) ?? undefined

const inRange = (rule: TagRule, range: semver.Range, version: semver.SemVer): boolean =>
  rule.suffixes === "variant"
    ? range.test(`${version.major}.${version.minor}.${version.patch}`)
    : range.test(version)

const suffixOrder = new Intl.Collator("en", { numeric: true })

/**
 * Semver precedence, highest first; two suffixes of one release compare with their numbers read
 * as numbers ("-debian-11-r69" above "-debian-11-r5", where plain string order would say otherwise).
 */
const byPrecedenceDescending = (a: { tag: string; version: semver.SemVer }, b: { tag: string; version: semver.SemVer }): number => {
  const release = semver.rcompare(`${a.version.major}.${a.version.minor}.${a.version.patch}`, `${b.version.major}.${b.version.minor}.${b.version.patch}`)
  if (release !== 0) return release
  const [pa, pb] = [a.version.prerelease.join("."), b.version.prerelease.join(".")]
  // a release ranks above its pre-releases
  if (pa === "" || pb === "") return pa === pb ? (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0) : pa === "" ? -1 : 1
  return suffixOrder.compare(pb, pa) || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0)
}

/** The tags the rule selects, in the order they were listed — or, with `latest`, highest first. */
export const selectTags = (rule: TagRule, tags: ReadonlyArray<string>): ReadonlyArray<string> => {
  const selected = [...new Set(tags)].filter((tag) => {
    if (rule.match && !rule.match.test(tag)) return false
    if (rule.exclude && rule.exclude.test(tag)) return false
    if (rule.range) {
      const version = versionOf(tag)
      if (!version || !inRange(rule, rule.range, version)) return false
    }
    return true
  })
  if (rule.latest === undefined) return selected
  return selected
    .map((tag) => ({ tag, version: versionOf(tag) }))
    .filter((t): t is { tag: string; version: semver.SemVer } => t.version !== undefined)
    .sort(byPrecedenceDescending)
    .slice(0, rule.latest)
    .map((t) => t.tag)
}

/**
 * For a rule that selected nothing: the suffixed tags its range would take as variants of their
 * release, when it leaves pre-releases out — so the message can point at `match`.
 */
export const leftOutSuffixed = (rule: TagRule, tags: ReadonlyArray<string>): ReadonlyArray<string> => {
  if (rule.range === undefined || rule.suffixes !== "prerelease-excluded") return []
  const asVariants = { ...rule, suffixes: "variant" as const }
  return selectTags(asVariants, tags).filter((t) => (versionOf(t)?.prerelease.length ?? 0) > 0)
}

/** "semver >=1 <2, match -debian-, latest 3" for messages. */
export const describeRule = (spec: TagRuleSpec): string =>
  [
    spec.semver !== undefined ? `semver ${spec.semver}` : undefined,
    spec.match !== undefined ? `match ${spec.match}` : undefined,
    spec.exclude !== undefined ? `exclude ${spec.exclude}` : undefined,
    spec.latest !== undefined ? `latest ${spec.latest}` : undefined,
    spec.prerelease !== undefined ? `prerelease ${spec.prerelease}` : undefined
  ].filter((s) => s !== undefined).join(", ")
