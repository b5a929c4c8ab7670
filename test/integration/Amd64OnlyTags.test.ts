/**
 * `amd64Only: true` with a `tags` rule, on real docker-registry processes through a docker.io
 * mirror, as the seed's `bitnami/postgres-exporter` needs it: the rule selects single-platform
 * linux/amd64 tags, each synced as an image of its own; a selected tag that is a multi-platform
 * index is copied whole with the warning that amd64Only had no effect; without the flag each
 * single-platform tag fails with the message that sends the user to it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage } from "../../demo/SampleImages.ts"
import { skopeoDigest, skopeoListTags } from "../support/Skopeo.ts"
import {
  AMD64,
  describeRun,
  makeTempDir,
  readReport,
  removeDir,
  reportFor,
  resultLines,
  runCli,
  SMALL,
  TWO_PLATFORMS,
  writeDefinition,
  writeRequests
} from "./helpers.ts"
import type { CliRun, DefinitionSpec, Report } from "./helpers.ts"

const REPOSITORY = "bitnami/postgres-exporter"
/** single-platform linux/amd64 tags, as the real repository has them */
const SINGLE = ["0.10.9-debian-11-r9", "0.11.0-debian-11-r1", "0.11.1-debian-11-r69", "0.11.1-debian-12-r3", "0.12.0-debian-11-r1"]
/** one tag in the range that is a multi-platform index */
const INDEX_TAG = "0.11.2-debian-11-r4"
/** what `semver: ">=0.11.0 <0.12.0", match: "-debian-11-"` selects */
const SELECTED = ["0.11.0-debian-11-r1", "0.11.1-debian-11-r69", INDEX_TAG]
const RULE = { semver: ">=0.11.0 <0.12.0", match: "-debian-11-" }

let src: LocalRegistry
let dir: string
const pushed: Record<string, PushedImage> = {}

const definition = (name: string, target: LocalRegistry, amd64Only: boolean): Promise<string> => {
  const entry: DefinitionSpec["images"][number] = amd64Only ? { source: REPOSITORY, amd64Only: true, tags: RULE } : { source: REPOSITORY, tags: RULE }
  return writeDefinition(dir, name, {
    targetRepoPrefix: `${target.host}/external/`,
    registries: { "docker.io": { mirror: src.host } },
    images: [entry]
  })
}

beforeAll(async () => {
  src = await startRegistry()
  dir = await makeTempDir("amd64-tags")
  for (const tag of SINGLE) pushed[tag] = await pushImage(src.url, REPOSITORY, tag, { platforms: AMD64, index: false, seed: `amd64-tags-${tag}`, ...SMALL })
  pushed[INDEX_TAG] = await pushImage(src.url, REPOSITORY, INDEX_TAG, { platforms: TWO_PLATFORMS, seed: `amd64-tags-${INDEX_TAG}`, ...SMALL })
}, 60_000)

afterAll(async () => {
  await src?.stop()
  await removeDir(dir)
}, 60_000)

describe("amd64Only with a tags rule over single-platform amd64 tags", () => {
  let dst: LocalRegistry
  let file: string
  let dry: CliRun
  let dryWrites: ReadonlyArray<unknown>
  let run: CliRun
  let report: Report

  beforeAll(async () => {
    dst = await startRegistry()
    file = await definition("amd64-tags.yaml", dst, true)
    dry = await runCli(["-i", file, "--dry-run", "-j", "8"], { home: dir })
    dryWrites = await writeRequests(dst)
    await dst.resetRequests()
    const reportFile = join(dir, "amd64-tags.json")
    run = await runCli(["-i", file, "-j", "8", "--report", reportFile], { home: dir })
    report = await readReport(reportFile)
  }, 120_000)

  afterAll(async () => {
    await dst?.stop()
  }, 60_000)

  test("the dry run exits 0 and plans exactly the selected tags, writing nothing", () => {
    expect(dry.code, describeRun(dry)).toBe(0)
    expect(dryWrites).toEqual([])
    expect(resultLines(dry).map((l) => `${l.status} ${l.source}`).sort()).toEqual(SELECTED.map((t) => `planned ${REPOSITORY}:${t}`).sort())
    expect(resultLines(dry).every((l) => l.target.startsWith(`${dst.host}/external/${REPOSITORY}:`))).toBe(true)
  })

  test("the real run exits 0 and syncs every selected tag, byte for byte; nothing else lands in the target", async () => {
    expect(run.code, describeRun(run)).toBe(0)
    expect(report.images.map((i) => `${i.status} ${i.source}`)).toEqual(SELECTED.map((t) => `synced ${REPOSITORY}:${t}`))
    expect(await skopeoListTags(`${dst.host}/external/${REPOSITORY}`)).toEqual([...SELECTED].sort())
    for (const tag of SELECTED) {
      expect(reportFor(report, `${REPOSITORY}:${tag}`).digest).toBe(pushed[tag]!.digest)
      expect(await skopeoDigest(`${dst.host}/external/${REPOSITORY}:${tag}`)).toBe(pushed[tag]!.digest)
    }
  })

  test("the selected tag that is an index is copied whole, with the warning that amd64Only had no effect", () => {
    const index = reportFor(report, `${REPOSITORY}:${INDEX_TAG}`)
    expect(index.warnings).toEqual(["amd64Only has no effect: the source is a multi-platform index and is copied whole"])
    expect(run.stderr).toContain(`${REPOSITORY}:${INDEX_TAG}: amd64Only has no effect`)
    for (const tag of SELECTED.filter((t) => t !== INDEX_TAG)) expect(reportFor(report, `${REPOSITORY}:${tag}`).warnings).toBeUndefined()
  })

  test("a second run finds them all present and writes nothing", async () => {
    await dst.resetRequests()
    const again = await runCli(["-i", file, "-j", "8"], { home: dir })
    expect(again.code, describeRun(again)).toBe(0)
    expect(resultLines(again).map((l) => l.status)).toEqual(["present", "present", "present"])
    expect(await writeRequests(dst)).toEqual([])
  }, 60_000)
})

describe("the same rule without amd64Only", () => {
  test("each single-platform tag fails with the message to add `amd64Only: true` (which the rule now takes); the index is synced", async () => {
    const dst = await startRegistry()
    try {
      const reportFile = join(dir, "no-flag.json")
      const run = await runCli(["-i", await definition("no-flag.yaml", dst, false), "-j", "8", "--report", reportFile], { home: dir })
      expect(run.code, describeRun(run)).toBe(1)
      const report = await readReport(reportFile)
      expect(report.images.map((i) => `${i.status} ${i.source}`)).toEqual([
        `failed ${REPOSITORY}:0.11.0-debian-11-r1`,
        `failed ${REPOSITORY}:0.11.1-debian-11-r69`,
        `synced ${REPOSITORY}:${INDEX_TAG}`
      ])
      for (const image of report.images.filter((i) => i.status === "failed")) {
        expect(image.errorType).toBe("PlatformMismatch")
        expect(image.error).toContain("add `amd64Only: true` to this entry to sync it")
      }
    } finally {
      await dst.stop()
    }
  }, 60_000)
})
