/**
 * What an interrupted run reports: SIGTERM after 8 of 20 images, the other 12 held mid-way by
 * a stalling source. The report's `exitCode` is the process's, its summary counts the
 * unfinished images and its total covers the whole run; the JUnit file has them as errors;
 * the GitHub step summary says "interrupted"; stdout's closing line counts them too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import { startFaultProxy } from "../support/FaultProxy.ts"
import type { FaultProxy } from "../support/FaultProxy.ts"
import { describeRun, makeTempDir, removeDir, SMALL, startLiveCli, TWO_PLATFORMS, writeDefinition } from "../integration/helpers.ts"
import type { CliRun } from "../integration/helpers.ts"

const COUNT = 20
const STALLED = 12
const names = Array.from({ length: COUNT }, (_, i) => `cut/app${String(i).padStart(2, "0")}`)
/** the last 12 images stall on their manifest GETs */
const stalled = new Set(names.slice(COUNT - STALLED))

let src: LocalRegistry
let dst: LocalRegistry
let proxy: FaultProxy
let dir: string
let run: CliRun
const files = { report: "", junit: "", github: "" }

beforeAll(async () => {
  ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
  dir = await makeTempDir("interrupted-report")
  await Promise.all(names.map((n, i) => pushImage(src.url, n, "1", { platforms: TWO_PLATFORMS, seed: `cut-${i}`, ...SMALL })))
  const stallSeen = new Set<string>()
  let allStalled: () => void = () => undefined
  const stallsReached = new Promise<void>((resolve) => {
    allStalled = resolve
  })
  proxy = await startFaultProxy({
    upstream: src.url,
    rules: [{ match: (m, path) => m === "GET" && /\/manifests\//.test(path) && stalled.has(path.split("/manifests/")[0]!.slice(4)), fault: "stall" }],
    onResponse: (r) => {
      if (r.fault !== "stall") return
      stallSeen.add(r.path.split("/manifests/")[0]!)
      if (stallSeen.size === STALLED) allStalled()
    }
  })
  const file = await writeDefinition(dir, "cut.yaml", { targetRepoPrefix: `${dst.host}/cut/`, images: names.map((n) => ({ source: `${proxy.host}/${n}:1` })) })
  files.report = join(dir, "report.json")
  files.junit = join(dir, "junit.xml")
  files.github = join(dir, "summary.md")
  const cli = startLiveCli(["-i", file, "-j", String(COUNT), "--report", files.report, "--junit", files.junit, "--output", "plain", "--debug"], {
    home: dir,
    env: { GITHUB_STEP_SUMMARY: files.github }
  })
  // 8 images synced (their result lines out), 12 hanging on a manifest
  const done = (out: string) => names.slice(0, COUNT - STALLED).every((n) => out.includes(`synced   ${proxy.host}/${n}:1 -> `))
  await Promise.all([stallsReached, cli.waitForStdout(done)])
  cli.kill("SIGTERM")
  run = await cli.finished
}, 120_000)

afterAll(async () => {
  await proxy?.stop()
  await Promise.all([src?.stop(), dst?.stop()])
  await removeDir(dir)
}, 60_000)

describe("SIGTERM after 8 of 20 images", () => {
  test("the process exits 130, and the report's exitCode says the same", async () => {
    const report = JSON.parse(await readFile(files.report, "utf8")) as { exitCode: number }
    expect(run.code, describeRun(run)).toBe(130)
    expect(report.exitCode).toBe(run.code)
  })

  test("the report's summary counts the unfinished images and its total covers all 20", async () => {
    const report = JSON.parse(await readFile(files.report, "utf8")) as {
      images: Array<{ status: string }>
      summary: Record<string, number>
      interrupted: boolean
      unfinished: number
      unfinishedImages: Array<{ source: string; target: string }>
    }
    expect(report.summary).toEqual({ total: COUNT, synced: COUNT - STALLED, present: 0, planned: 0, conflict: 0, failed: 0, unfinished: STALLED })
    expect(report.interrupted).toBe(true)
    expect(report.unfinished).toBe(STALLED)
    expect(report.images).toHaveLength(COUNT - STALLED)
    expect(report.unfinishedImages.map((i) => i.source).sort()).toEqual([...stalled].map((n) => `${proxy.host}/${n}:1`).sort())
  })

  test("JUnit has every image, the unfinished ones as errors", async () => {
    const xml = await readFile(files.junit, "utf8")
    expect(xml).toContain(`tests="${COUNT}" failures="0" errors="${STALLED}"`)
    expect(xml.match(/<error message="not finished: the run was interrupted" type="Interrupted">/g)).toHaveLength(STALLED)
  })

  test("the GitHub step summary says interrupted and lists the unfinished images", async () => {
    const md = await readFile(files.github, "utf8")
    expect(md).toContain("## image-syncer (interrupted)")
    expect(md).toContain(`the run was interrupted: ${STALLED} not finished`)
    expect(md.split("\n").filter((l) => l.startsWith("| unfinished |"))).toHaveLength(STALLED)
  })

  test("stdout's closing line counts all 20 and says how many did not finish", () => {
    const last = run.stdout.trim().split("\n").at(-1)
    expect(last).toBe(`${COUNT} images: ${COUNT - STALLED} synced, 0 present, 0 planned, 0 conflict, 0 failed (interrupted: ${STALLED} not finished)`)
  })
})
