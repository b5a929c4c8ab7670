/**
 * Dry run: resolve, check and compare; write nothing anywhere. Every way of asking for it
 * (`--dry-run`, `--dry-run=true` as the seed wrote it, `SYNCER_DRY_RUN=true`) is read-only on
 * both registries, reports planned/present/conflict, and exits 1 only for a conflict.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage } from "../../demo/SampleImages.ts"
import {
  AMD64,
  describeRun,
  headManifest,
  lineFor,
  makeTempDir,
  readReport,
  removeDir,
  reportFor,
  runCli,
  SMALL,
  stdoutLines,
  TWO_PLATFORMS,
  writeDefinition,
  writeRequests
} from "./helpers.ts"
import type { CliRun, Report } from "./helpers.ts"

let src: LocalRegistry
let dst: LocalRegistry
let dir: string
let withConflict: string
let withoutConflict: string
let absent: PushedImage
let absentSingle: PushedImage
let present: PushedImage
let contested: PushedImage
let old: PushedImage

/** "127.0.0.1:PORT/team/x:1" → the target repository under "dry/" */
const targetRepo = (repository: string): string => `dry/${src.host.replace(":", "-")}/${repository}`

const source = (repository: string, tag: string): string => `${src.host}/${repository}:${tag}`

beforeAll(async () => {
  ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
  dir = await makeTempDir("dry-run")
  absent = await pushImage(src.url, "team/absent", "1", { platforms: TWO_PLATFORMS, seed: "absent", ...SMALL })
  absentSingle = await pushImage(src.url, "team/single", "1", { platforms: AMD64, index: false, seed: "single", ...SMALL })
  const presentSpec = { platforms: TWO_PLATFORMS, seed: "present", ...SMALL }
  present = await pushImage(src.url, "team/present", "1", presentSpec)
  contested = await pushImage(src.url, "team/contested", "1", { platforms: TWO_PLATFORMS, seed: "contested-new", ...SMALL })
  // the target already holds: the same content for "present", other content for "contested"
  await pushImage(dst.url, targetRepo("team/present"), "1", presentSpec)
  old = await pushImage(dst.url, targetRepo("team/contested"), "1", { platforms: TWO_PLATFORMS, seed: "contested-old", ...SMALL })
  const prefix = `${dst.host}/dry/`
  withConflict = await writeDefinition(dir, "with-conflict.yaml", {
    targetRepoPrefix: prefix,
    images: [
      { source: source("team/absent", "1") },
      { source: source("team/single", "1"), amd64Only: true },
      { source: source("team/present", "1") },
      { source: source("team/contested", "1") }
    ]
  })
  withoutConflict = await writeDefinition(dir, "without-conflict.yaml", {
    targetRepoPrefix: prefix,
    images: [
      { source: source("team/absent", "1") },
      { source: source("team/single", "1"), amd64Only: true },
      { source: source("team/present", "1") }
    ]
  })
}, 60_000)

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()])
  await removeDir(dir)
}, 60_000)

/** Runs the CLI after clearing both request logs, so the logs hold this run's requests only. */
const dryRunCli = async (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<CliRun> => {
  await src.resetRequests()
  await dst.resetRequests()
  return runCli(args, { home: dir, env })
}

const variants: ReadonlyArray<{ readonly name: string; readonly args: ReadonlyArray<string>; readonly env: Record<string, string> }> = [
  { name: "--dry-run", args: ["--dry-run"], env: {} },
  { name: "--dry-run=true (the seed's form)", args: ["--dry-run=true"], env: {} },
  { name: "SYNCER_DRY_RUN=true", args: [], env: { SYNCER_DRY_RUN: "true" } }
]

for (const variant of variants) {
  describe(`${variant.name} with a conflict in the list`, () => {
    let run: CliRun
    let report: Report
    let srcWrites: ReadonlyArray<unknown>
    let dstWrites: ReadonlyArray<unknown>

    beforeAll(async () => {
      const reportFile = join(dir, `report-${variants.indexOf(variant)}.json`)
      run = await dryRunCli(["-i", withConflict, "--report", reportFile, ...variant.args], variant.env)
      srcWrites = await writeRequests(src)
      dstWrites = await writeRequests(dst)
      report = await readReport(reportFile)
    }, 60_000)

    test("zero write requests to the source and the target registry", () => {
      expect(srcWrites).toEqual([])
      expect(dstWrites).toEqual([])
      // the run did talk to both registries: the empty write lists are not an idle run's
      expect(src.requests().length).toBeGreaterThan(0)
      expect(dst.requests().length).toBeGreaterThan(0)
    })

    test("statuses: absent → planned, same digest → present, other digest → conflict", () => {
      expect(lineFor(run, source("team/absent", "1")).status, describeRun(run)).toBe("planned")
      expect(lineFor(run, source("team/absent", "1")).digest).toBe(absent.digest)
      expect(lineFor(run, source("team/single", "1")).status).toBe("planned")
      expect(lineFor(run, source("team/single", "1")).digest).toBe(absentSingle.digest)
      expect(lineFor(run, source("team/present", "1")).status).toBe("present")
      expect(lineFor(run, source("team/present", "1")).digest).toBe(present.digest)
      const conflict = lineFor(run, source("team/contested", "1"))
      expect(conflict.status).toBe("conflict")
      expect(conflict.error).toContain(old.digest)
      expect(stdoutLines(run).at(-1)).toBe("4 images: 0 synced, 1 present, 2 planned, 1 conflict, 0 failed")
      expect(report.dryRun).toBe(true)
      expect(reportFor(report, source("team/absent", "1")).status).toBe("planned")
      expect(reportFor(report, source("team/contested", "1")).status).toBe("conflict")
    })

    test("exit status is 1 because of the conflict", () => {
      expect(run.code, describeRun(run)).toBe(1)
    })

    test("the planned images are still absent and the contested tag unchanged", async () => {
      expect((await headManifest(dst.url, targetRepo("team/absent"), "1")).status).toBe(404)
      expect((await headManifest(dst.url, targetRepo("team/single"), "1")).status).toBe(404)
      expect((await headManifest(dst.url, targetRepo("team/contested"), "1")).digest).toBe(old.digest)
    })
  })

  describe(`${variant.name} without a conflict`, () => {
    let run: CliRun
    let srcWrites: ReadonlyArray<unknown>
    let dstWrites: ReadonlyArray<unknown>

    beforeAll(async () => {
      run = await dryRunCli(["-i", withoutConflict, ...variant.args], variant.env)
      srcWrites = await writeRequests(src)
      dstWrites = await writeRequests(dst)
    }, 60_000)

    test("exit status is 0 with planned and present images, and nothing written", () => {
      expect(run.code, describeRun(run)).toBe(0)
      expect(lineFor(run, source("team/absent", "1")).status).toBe("planned")
      expect(lineFor(run, source("team/single", "1")).status).toBe("planned")
      expect(lineFor(run, source("team/present", "1")).status).toBe("present")
      expect(srcWrites).toEqual([])
      expect(dstWrites).toEqual([])
    })
  })
}

describe("the same list without a dry run", () => {
  test("copies the planned images, so the dry run's zero writes were not for lack of work", async () => {
    const run = await dryRunCli(["-i", withoutConflict])
    expect(run.code, describeRun(run)).toBe(0)
    expect(lineFor(run, source("team/absent", "1")).status).toBe("synced")
    expect(lineFor(run, source("team/single", "1")).status).toBe("synced")
    expect((await writeRequests(dst)).length).toBeGreaterThan(0)
    expect((await headManifest(dst.url, targetRepo("team/absent"), "1")).digest).toBe(absent.digest)
  })
})
