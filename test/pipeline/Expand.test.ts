/**
 * Tag selection on real docker-registry processes, through the CLI: a `tags` rule is expanded
 * from the source's paginated tag list (a paging proxy in front of the registry answers three
 * tags per page, with Link headers), each selected tag is an image of its own with the usual
 * rules, and a rule that selects nothing is a failed NoTagsMatched result.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import { startPagingProxy } from "../support/PagingProxy.ts"
import type { PagingProxy } from "../support/PagingProxy.ts"
import { skopeoDigest, skopeoListTags } from "../support/Skopeo.ts"
import {
  describeRun,
  makeTempDir,
  readReport,
  removeDir,
  resultLines,
  runCli,
  SMALL,
  TWO_PLATFORMS,
  writeDefinition,
  writeRequests
} from "../integration/helpers.ts"
import type { DefinitionSpec } from "../integration/helpers.ts"

let src: LocalRegistry
let proxy: PagingProxy
let dir: string

const EXPORTER_TAGS = ["1.0.0", "1.1.0", "1.2.0", "1.2.0-rc.1", "2.0.0", "v1.1.5", "latest", "nightly"]
const VARIANT_TAGS = ["0.10.9-debian-11-r9", "0.11.0-debian-11-r1", "0.11.1-debian-11-r5", "0.11.1-debian-12-r1", "0.12.0-debian-11-r1"]

const push = (repository: string, tag: string, seed = `${repository}:${tag}`) =>
  pushImage(src.url, repository, tag, { platforms: TWO_PLATFORMS, seed, ...SMALL })

beforeAll(async () => {
  src = await startRegistry()
  dir = await makeTempDir("expand")
  for (const tag of EXPORTER_TAGS) await push("team/exporter", tag)
  for (const tag of VARIANT_TAGS) await push("team/variants", tag)
  proxy = startPagingProxy(src.url, 3)
}, 120_000)

afterAll(async () => {
  await proxy?.stop()
  await src?.stop()
  await removeDir(dir)
}, 60_000)

const targetRepo = (dst: LocalRegistry, repository: string) => `${dst.host}/mirror/${proxy.host.replace(":", "-")}/${repository}`

const rules = (): DefinitionSpec["images"] => [
  { source: `${proxy.host}/team/exporter`, tags: { semver: ">=1.1.0 <2.0.0" } },
  { source: `${proxy.host}/team/variants`, tags: { semver: ">=0.11.0 <0.12.0", match: "-debian-11-", latest: 1 } }
]

describe("a tags rule on a real registry with a paginated tag list", () => {
  let dst: LocalRegistry
  let file: string

  beforeAll(async () => {
    dst = await startRegistry()
    file = await writeDefinition(dir, "rules.yaml", { targetRepoPrefix: `${dst.host}/mirror/`, images: rules() })
  }, 60_000)

  afterAll(async () => {
    await dst?.stop()
  }, 60_000)

  test("the first run syncs exactly the selected tags, each as an image of its own", async () => {
    const reportFile = join(dir, "first.json")
    const run = await runCli(["-i", file, "--report", reportFile], { home: dir })
    expect(run.code, describeRun(run)).toBe(0)
    // semver's rules: "v1.1.5" is 1.1.5 and a range alone leaves the pre-release 1.2.0-rc.1 out; with
    // `match`, a suffixed tag counts as a variant of its release ("0.11.1-debian-11-r5" is 0.11.1)
    const exporter = ["1.1.0", "1.2.0", "v1.1.5"]
    const report = await readReport(reportFile)
    expect(report.images.map((i) => i.source).sort()).toEqual([
      ...exporter.map((t) => `${proxy.host}/team/exporter:${t}`),
      `${proxy.host}/team/variants:0.11.1-debian-11-r5`
    ].sort())
    expect(report.images.every((i) => i.status === "synced")).toBe(true)
    expect(resultLines(run).map((l) => l.status)).toEqual(["synced", "synced", "synced", "synced"])
    expect(await skopeoListTags(targetRepo(dst, "team/exporter"))).toEqual(exporter)
    expect(await skopeoListTags(targetRepo(dst, "team/variants"))).toEqual(["0.11.1-debian-11-r5"])
    for (const tag of exporter) {
      expect(await skopeoDigest(`${targetRepo(dst, "team/exporter")}:${tag}`)).toBe(await skopeoDigest(`${src.host}/team/exporter:${tag}`))
    }
    // eight tags at three a page: three pages, each asked for once
    expect(proxy.tagRequests().filter((r) => r.startsWith("/v2/team/exporter/")).length).toBe(3)
  }, 60_000)

  test("a second run finds every selected tag present and writes nothing", async () => {
    await dst.resetRequests()
    const run = await runCli(["-i", file], { home: dir })
    expect(run.code, describeRun(run)).toBe(0)
    expect(resultLines(run).map((l) => l.status)).toEqual(["present", "present", "present", "present"])
    expect(await writeRequests(dst)).toEqual([])
  }, 60_000)

  test("a selected tag re-pushed upstream with other content is a conflict; the others stay present", async () => {
    const moved = await push("team/exporter", "1.2.0", "exporter-1.2.0-rebuilt")
    const reportFile = join(dir, "third.json")
    const run = await runCli(["-i", file, "--report", reportFile], { home: dir })
    expect(run.code, describeRun(run)).toBe(1)
    const report = await readReport(reportFile)
    const byTag = Object.fromEntries(report.images.map((i) => [i.source.split(":").pop(), i]))
    expect(byTag["1.2.0"]?.status).toBe("conflict")
    expect(byTag["1.2.0"]?.errorType).toBe("TagConflict")
    expect(byTag["1.2.0"]?.digest).toBe(moved.digest)
    for (const tag of ["1.1.0", "v1.1.5", "0.11.1-debian-11-r5"]) expect(byTag[tag]?.status).toBe("present")
    expect(await skopeoDigest(`${targetRepo(dst, "team/exporter")}:1.2.0`)).not.toBe(moved.digest)
  }, 60_000)
})

describe("what a rule selects, shown before anything is written", () => {
  test("--dry-run lists one planned image per selected tag", async () => {
    const dst = await startRegistry()
    try {
      const file = await writeDefinition(dir, "plan.yaml", {
        targetRepoPrefix: `${dst.host}/mirror/`,
        images: [{ source: `${proxy.host}/team/exporter`, tags: { match: "^1\\.", exclude: "rc", latest: 2 } }]
      })
      const run = await runCli(["-i", file, "--dry-run"], { home: dir })
      expect(run.code, describeRun(run)).toBe(0)
      // latest 2 by semver order among 1.0.0, 1.1.0, 1.2.0 (1.2.0-rc.1 excluded)
      expect(resultLines(run).map((l) => `${l.status} ${l.target}`).sort()).toEqual([
        `planned ${targetRepo(dst, "team/exporter")}:1.1.0`,
        `planned ${targetRepo(dst, "team/exporter")}:1.2.0`
      ])
      expect(await writeRequests(dst)).toEqual([])
    } finally {
      await dst.stop()
    }
  }, 60_000)
})

describe("a rule that selects no tag", () => {
  test("is a failed NoTagsMatched result naming the rule, and the run exits 1", async () => {
    const dst = await startRegistry()
    try {
      const file = await writeDefinition(dir, "none.yaml", {
        targetRepoPrefix: `${dst.host}/mirror/`,
        images: [{ source: `${proxy.host}/team/variants`, tags: { semver: ">=0.11.0 <0.12.0" } }]
      })
      const reportFile = join(dir, "none.json")
      const run = await runCli(["-i", file, "--report", reportFile], { home: dir })
      expect(run.code, describeRun(run)).toBe(1)
      const report = await readReport(reportFile)
      expect(report.images).toHaveLength(1)
      const [only] = report.images
      expect(only?.status).toBe("failed")
      expect(only?.errorType).toBe("NoTagsMatched")
      expect(only?.source).toBe(`${proxy.host}/team/variants`)
      expect(only?.error).toContain(">=0.11.0 <0.12.0")
      // the range alone leaves suffixed tags out as pre-releases; the message says how to take them
      expect(only?.error).toContain("add a \"match\"")
      expect(await writeRequests(dst)).toEqual([])
    } finally {
      await dst.stop()
    }
  }, 60_000)
})

describe("a tags rule across an air gap", () => {
  test("export writes each selected tag into the layout, and a sync --from the layout selects the same", async () => {
    const dst = await startRegistry()
    try {
      const file = await writeDefinition(dir, "airgap.yaml", {
        targetRepoPrefix: `${dst.host}/mirror/`,
        images: [{ source: `${proxy.host}/team/exporter`, tags: { semver: "^1.1.0" } }]
      })
      const layout = join(dir, "airgap-layout")
      const exported = await runCli(["export", "-i", file, "--to", layout], { home: dir })
      expect(exported.code, describeRun(exported)).toBe(0)
      expect(exported.stdout).toContain("3 images: 3 exported, 0 failed")
      for (const tag of ["1.1.0", "1.2.0", "v1.1.5"]) expect(exported.stdout).toContain(`${proxy.host}/team/exporter:${tag} `)
      const index = JSON.parse(await Bun.file(join(layout, "index.json")).text()) as { manifests: Array<{ annotations?: Record<string, string> }> }
      expect(index.manifests.map((m) => m.annotations?.["io.image-syncer.source"]).filter((s) => s !== undefined).sort()).toEqual(
        ["1.1.0", "1.2.0", "v1.1.5"].map((t) => `${proxy.host}/team/exporter:${t}`)
      )
      const synced = await runCli(["-i", file, "--from", layout], { home: dir })
      expect(synced.code, describeRun(synced)).toBe(0)
      expect(resultLines(synced).map((l) => l.status)).toEqual(["synced", "synced", "synced"])
      expect(await skopeoListTags(targetRepo(dst, "team/exporter"))).toEqual(["1.1.0", "1.2.0", "v1.1.5"])
    } finally {
      await dst.stop()
    }
  }, 60_000)
})

describe("a tag a rule selects that an explicit entry also writes", () => {
  test("the explicit entry wins; its report entry and stderr both name the target tag and the rule it took the tag from", async () => {
    const dst = await startRegistry()
    try {
      const ruleSource = `${proxy.host}/team/exporter`
      // the explicit entry writes 1.2.0 from another source tag, under the same target path the rule uses
      const explicit = { source: `${proxy.host}/team/exporter:1.0.0`, tag: "1.2.0" }
      const file = await writeDefinition(dir, "overlap.yaml", {
        targetRepoPrefix: `${dst.host}/mirror/`,
        images: [{ source: ruleSource, tags: { semver: ">=1.1.0 <2.0.0" } }, explicit]
      })
      const reportFile = join(dir, "overlap.json")
      const run = await runCli(["-i", file, "--report", reportFile, "-j", "8"], { home: dir })
      expect(run.code, describeRun(run)).toBe(0)
      const report = await readReport(reportFile)
      const target = `${targetRepo(dst, "team/exporter")}:1.2.0`
      const onTarget = report.images.filter((i) => i.target === target)
      expect(onTarget.map((i) => i.source)).toEqual([explicit.source])
      const warning = `target tag 1.2.0 is also selected by the tags rule of ${ruleSource} (semver >=1.1.0 <2.0.0); synced once, as this entry`
      expect(onTarget[0]!.warnings).toEqual([warning])
      // the rule's other tags carry no such warning
      expect(report.images.filter((i) => i.target !== target).every((i) => i.warnings === undefined)).toBe(true)
      expect(run.stderr).toContain(`${ruleSource}: tag 1.2.0 is also an entry of its own; synced once, as that entry`)
      expect(await skopeoDigest(target)).toBe(onTarget[0]!.digest!)
    } finally {
      await dst.stop()
    }
  }, 60_000)
})
