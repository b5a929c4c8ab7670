/**
 * Two syncer runs at once, the same 30 target tags, different sources (one reads docker.io
 * through source A, the other through source B, so both name the same targets). Whatever the
 * interleaving, the two reports never both say `synced` for one tag, and every `synced`
 * digest is what the target holds when both have ended: a run whose write was replaced by
 * the other's says so (conflict, TagTaken).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import { describeRun, headManifest, makeTempDir, readReport, removeDir, runCli, SMALL, TWO_PLATFORMS, writeDefinition } from "../integration/helpers.ts"
import type { CliRun, Report } from "../integration/helpers.ts"

const TIMEOUT = 240_000
const COUNT = 30
const names = Array.from({ length: COUNT }, (_, i) => `conc/app${i}`)

let dir: string
let srcA: LocalRegistry
let srcB: LocalRegistry
let dst: LocalRegistry
let runs: Array<{ readonly run: CliRun; readonly report: Report }> = []
/** What each target tag holds once both runs have ended. */
const finalDigest = new Map<string, string | null>()

beforeAll(async () => {
  dir = await makeTempDir("concurrent-writers")
  ;[srcA, srcB, dst] = await Promise.all([startRegistry(), startRegistry(), startRegistry()])
  await Promise.all(names.flatMap((name) => [
    pushImage(srcA.url, name, "1", { platforms: TWO_PLATFORMS, seed: `a-${name}`, ...SMALL }),
    pushImage(srcB.url, name, "1", { platforms: TWO_PLATFORMS, seed: `b-${name}`, ...SMALL })
  ]))
  const definitionFor = (src: LocalRegistry, label: string) =>
    writeDefinition(dir, `${label}.yaml`, {
      targetRepoPrefix: `${dst.host}/shared/`,
      registries: { "docker.io": { mirror: src.host } },
      images: names.map((name) => ({ source: `${name}:1` }))
    })
  const [fileA, fileB] = await Promise.all([definitionFor(srcA, "a"), definitionFor(srcB, "b")])
  const both = await Promise.all([fileA, fileB].map(async (file, i) => {
    const report = join(dir, `report-${i}.json`)
    const run = await runCli(["-i", file, "--report", report, "-j", "16"], { home: dir })
    return { run, report: await readReport(report) }
  }))
  runs = both
  for (const name of names) finalDigest.set(name, (await headManifest(dst.url, `shared/${name}`, "1")).digest)
}, TIMEOUT)

afterAll(async () => {
  await Promise.all([srcA?.stop(), srcB?.stop(), dst?.stop()])
  await removeDir(dir)
}, TIMEOUT)

describe("two runs writing the same tags at once", () => {
  test("each run ended with a result for every image (synced or conflict), exit 0 or 1", () => {
    for (const { run, report } of runs) {
      expect([0, 1], describeRun(run)).toContain(run.code)
      expect(report.images).toHaveLength(COUNT)
      expect(report.images.every((i) => i.status === "synced" || i.status === "conflict"), describeRun(run)).toBe(true)
    }
  })

  test("no tag is reported synced by both runs", () => {
    const both = names.filter((name) => runs.every(({ report }) => report.images.find((i) => i.target === `${dst.host}/shared/${name}:1`)?.status === "synced"))
    expect(both).toEqual([])
  })

  test("every synced digest is what the target tag holds at the end", () => {
    for (const { report } of runs) {
      for (const image of report.images.filter((i) => i.status === "synced")) {
        const name = image.target.slice(`${dst.host}/shared/`.length, -":1".length)
        expect({ tag: image.target, holds: finalDigest.get(name) }).toEqual({ tag: image.target, holds: image.digest })
      }
    }
  })

  test("every tag is accounted for: exactly one run reports it synced, or a conflict names the digest it holds", () => {
    for (const name of names) {
      const target = `${dst.host}/shared/${name}:1`
      const entries = runs.map(({ report }) => report.images.find((i) => i.target === target)!)
      const synced = entries.filter((e) => e.status === "synced")
      if (synced.length === 1) continue
      // both conflicted: each saw the other's write; the tag holds one of the two digests
      expect(entries.every((e) => e.status === "conflict" && e.error?.includes(String(finalDigest.get(name))))).toBe(true)
    }
  })
})
