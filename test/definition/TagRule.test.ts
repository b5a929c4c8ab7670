/** Tag selection rules: checks, semver ranges (the `semver` package's), match/exclude, latest N, pre-releases. */
import { describe, expect, test } from "bun:test"
import semver from "semver"
import { compileRule, describeRule, leftOutSuffixed, ruleProblems, selectTags, suffixModeOf } from "../../src/definition/TagRule.ts"
import type { TagRuleSpec } from "../../src/definition/TagRule.ts"

const TAGS = ["1.0.0", "1.1.0", "1.2.0", "1.2.0-rc.1", "2.0.0", "v1.1.5", "latest", "nightly", "1.1"]
const select = (spec: TagRuleSpec, tags: ReadonlyArray<string> = TAGS) => selectTags(compileRule(spec), tags)

describe("ruleProblems", () => {
  test("a rule needs semver or match", () => {
    expect(ruleProblems({ exclude: "rc" }).map((p) => p.message)).toEqual([expect.stringContaining("at least one of \"semver\" and \"match\"")])
    expect(ruleProblems({ latest: 3 })).toHaveLength(1)
    expect(ruleProblems({ semver: "^1" })).toEqual([])
    expect(ruleProblems({ match: "^1\\." })).toEqual([])
  })

  test("an invalid range, regular expression or latest names its key", () => {
    expect(ruleProblems({ semver: ">=banana" }).map((p) => p.key)).toEqual(["semver"])
    expect(ruleProblems({ match: "(" }).map((p) => p.key)).toEqual(["match"])
    expect(ruleProblems({ match: "x", exclude: "[" }).map((p) => p.key)).toEqual(["exclude"])
    expect(ruleProblems({ match: "x", latest: 0 }).map((p) => p.key)).toEqual(["latest"])
    expect(ruleProblems({ match: "x", latest: 1.5 }).map((p) => p.key)).toEqual(["latest"])
    expect(ruleProblems({ match: "x", latest: -2 })[0]?.message).toContain("at least 1")
  })
})

describe("selectTags", () => {
  test("a range selects what semver.satisfies says, pre-releases left out", () => {
    const range = ">=1.1.0 <2.0.0"
    const expected = TAGS.filter((t) => semver.valid(t) !== null && semver.satisfies(t, range))
    expect(select({ semver: range })).toEqual(expected)
    expect(select({ semver: range })).toEqual(["1.1.0", "1.2.0", "v1.1.5"])
  })

  test("tags that are not semver versions never satisfy a range", () => {
    expect(select({ semver: "*" })).not.toContain("latest")
    expect(select({ semver: "*" })).not.toContain("1.1")
  })

  test("match and exclude are regular expressions on the tag", () => {
    expect(select({ match: "^1\\." })).toEqual(["1.0.0", "1.1.0", "1.2.0", "1.2.0-rc.1", "1.1"])
    expect(select({ match: "^1\\.", exclude: "rc|^1\\.1$" })).toEqual(["1.0.0", "1.1.0", "1.2.0"])
  })

  test("latest N keeps the highest by semver precedence, leaving out non-semver tags", () => {
    expect(select({ match: ".", latest: 3 })).toEqual(["2.0.0", "1.2.0", "1.2.0-rc.1"])
    expect(select({ semver: "^1", latest: 2 })).toEqual(["1.2.0", "v1.1.5"])
    expect(select({ match: "^(latest|nightly)$", latest: 1 })).toEqual([])
  })

  test("with match, the range applies to the release a suffixed tag names (bitnami-style variants)", () => {
    const variants = ["0.10.9-debian-11-r9", "0.11.0-debian-11-r1", "0.11.1-debian-11-r5", "0.11.1-debian-11-r69", "0.11.1-debian-12-r1", "0.12.0-debian-11-r1"]
    // semver alone: every one is a pre-release
    expect(select({ semver: ">=0.11.0 <0.12.0" }, variants)).toEqual([])
    expect(select({ semver: ">=0.11.0 <0.12.0", match: "-debian-11-" }, variants)).toEqual([
      "0.11.0-debian-11-r1",
      "0.11.1-debian-11-r5",
      "0.11.1-debian-11-r69"
    ])
    // r69 is newer than r5: numbers in suffixes are compared as numbers
    expect(select({ semver: ">=0.11.0 <0.12.0", match: "-debian-11-", latest: 1 }, variants)).toEqual(["0.11.1-debian-11-r69"])
    expect(select({ semver: ">=0.11.0 <0.12.0", match: "-debian-11-", exclude: "r69", latest: 2 }, variants)).toEqual([
      "0.11.1-debian-11-r5",
      "0.11.0-debian-11-r1"
    ])
  })

  test("prerelease: true is semver's includePrerelease; prerelease: false keeps semver's default even with match", () => {
    const range = ">=1.1.0 <2.0.0"
    expect(select({ semver: range, prerelease: true })).toEqual(
      TAGS.filter((t) => semver.valid(t, { loose: true }) !== null && semver.satisfies(t, range, { loose: true, includePrerelease: true }))
    )
    expect(select({ semver: range, prerelease: true })).toContain("1.2.0-rc.1")
    expect(select({ semver: range, match: ".", prerelease: false })).toEqual(["1.1.0", "1.2.0", "v1.1.5"])
  })

  test("latest ranks a release above its pre-releases", () => {
    expect(select({ match: "^1\\.2", latest: 2 })).toEqual(["1.2.0", "1.2.0-rc.1"])
    expect(select({ match: ".", latest: 2 }, ["2.0.0-rc.10", "2.0.0-rc.9", "2.0.0-beta.1"])).toEqual(["2.0.0-rc.10", "2.0.0-rc.9"])
  })

  test("a tag listed twice is selected once", () => {
    expect(select({ match: "^2" }, ["2.0.0", "2.0.0"])).toEqual(["2.0.0"])
  })
})

describe("suffix modes and hints", () => {
  test("suffixModeOf: as written, else variants with match", () => {
    expect(suffixModeOf({ semver: "^1" })).toBe("prerelease-excluded")
    expect(suffixModeOf({ semver: "^1", match: "x" })).toBe("variant")
    expect(suffixModeOf({ semver: "^1", match: "x", prerelease: false })).toBe("prerelease-excluded")
    expect(suffixModeOf({ semver: "^1", prerelease: true })).toBe("prerelease-included")
  })

  test("leftOutSuffixed names the suffixed tags of the range's releases that a range alone leaves out", () => {
    const variants = ["0.11.1-debian-11-r5", "0.12.0-debian-11-r1", "0.12.0"]
    expect(leftOutSuffixed(compileRule({ semver: ">=0.11.0 <0.12.0" }), variants)).toEqual(["0.11.1-debian-11-r5"])
    expect(leftOutSuffixed(compileRule({ semver: ">=0.11.0 <0.12.0", match: "x" }), variants)).toEqual([])
    expect(leftOutSuffixed(compileRule({ match: "^0" }), variants)).toEqual([])
  })

  test("describeRule lists the keys that are set", () => {
    expect(describeRule({ semver: ">=1 <2", match: "-debian-", latest: 3 })).toBe("semver >=1 <2, match -debian-, latest 3")
    expect(describeRule({ match: "x", prerelease: false })).toBe("match x, prerelease false")
  })
})
