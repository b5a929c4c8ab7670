/**
 * Docker Hub's pull limit, with a stand-in in front of a real registry as docker.io's mirror
 * (test/support/QuotaProxy.ts: ratelimit headers, one pull spent per manifest GET, 429
 * TOOMANYREQUESTS when none is left) and a second, unlimited source registry: the summary and
 * the report show the pulls and what is left; after the 429 no manifest GET reaches docker.io
 * again, its remaining images fail at once as RateLimited, the other registry's are synced.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import { startQuotaProxy } from "../support/QuotaProxy.ts"
import type { QuotaProxy } from "../support/QuotaProxy.ts"
import { AMD64, describeRun, makeTempDir, readReport, removeDir, runCli, SMALL } from "./helpers.ts"
import type { CliRun, Report } from "./helpers.ts"

const HUB_IMAGES = 6
const LEFT = 3

let hub: LocalRegistry
let other: LocalRegistry
let dst: LocalRegistry
let proxy: QuotaProxy
let dir: string
let run: CliRun
let report: Report & { readonly registries?: Record<string, Record<string, unknown>> }
let getsAt429 = -1

beforeAll(async () => {
  ;[hub, other, dst] = await Promise.all([startRegistry(), startRegistry(), startRegistry()])
  dir = await makeTempDir("pull-quota")
  for (let i = 0; i < HUB_IMAGES; i++) await pushImage(hub.url, `library/hub${i}`, "1", { platforms: AMD64, index: false, seed: `hub-${i}`, ...SMALL })
  for (let i = 0; i < 2; i++) await pushImage(other.url, `team/other${i}`, "1", { platforms: AMD64, index: false, seed: `other-${i}`, ...SMALL })
  proxy = startQuotaProxy(hub.url, { limit: 100, left: LEFT, retryAfterSeconds: 3600 })
  const images = [
    ...Array.from({ length: HUB_IMAGES }, (_, i) => `  - source: "hub${i}:1"\n    amd64Only: true`),
    ...Array.from({ length: 2 }, (_, i) => `  - source: "${other.host}/team/other${i}:1"\n    amd64Only: true`)
  ]
  const file = join(dir, "images.yaml")
  await Bun.write(file, `targetRepoPrefix: "${dst.host}/mirror/"\nregistries:\n  docker.io:\n    mirror: "${proxy.host}"\nimages:\n${images.join("\n")}\n`)
  const reportFile = join(dir, "report.json")
  // one image at a time: the pulls are spent in definition order
  run = await runCli(["-i", file, "-j", "1", "--report", reportFile], { home: dir })
  report = await readReport(reportFile)
  const log = proxy.requests()
  getsAt429 = log.findIndex((r) => r.status === 429)
}, 120_000)

afterAll(async () => {
  await proxy?.stop()
  await Promise.all([hub?.stop(), other?.stop(), dst?.stop()])
  await removeDir(dir)
}, 60_000)

describe("a docker.io mirror that runs out of pulls", () => {
  test("exit 1: the images docker.io could serve are synced, the rest failed as RateLimited with the reset time", () => {
    expect(run.code, describeRun(run)).toBe(1)
    const hubResults = report.images.slice(0, HUB_IMAGES)
    expect(hubResults.slice(0, LEFT).map((i) => i.status)).toEqual(Array(LEFT).fill("synced"))
    for (const image of hubResults.slice(LEFT)) {
      expect(image.status).toBe("failed")
      expect(image.errorType).toBe("RateLimited")
      expect(image.error).toContain("pull rate limit")
      expect(image.error).toMatch(/resets at \d{4}-\d{2}-\d{2}T/)
    }
  })

  test("after the 429 not one more manifest GET reached docker.io", () => {
    const log = proxy.requests()
    expect(getsAt429, JSON.stringify(log)).toBeGreaterThan(0)
    expect(log.filter((r) => r.status === 429)).toHaveLength(1)
    expect(log.slice(getsAt429 + 1).filter((r) => r.method === "GET" && /\/manifests\//.test(r.path))).toEqual([])
  })

  test("the other registry's images are synced", () => {
    expect(report.images.slice(HUB_IMAGES).map((i) => i.status)).toEqual(["synced", "synced"])
  })

  test("the report's registries: docker.io's pulls this run, its limit, what is left and its window", () => {
    expect(report.registries?.["docker.io"]).toEqual({
      manifestGets: LEFT,
      limit: 100,
      remaining: 0,
      windowSeconds: 21600,
      rateLimited: true,
      resetAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/)
    })
  })

  test("the summary names docker.io's pulls and the limit reached", () => {
    expect(run.stderr).toContain("Pull quota")
    expect(run.stderr).toMatch(new RegExp(`docker\\.io +${LEFT} pulls this run; limit reached, resets \\d{4}-`))
  })
})

describe("plan says how many pulls the copy will make", () => {
  test("plan's count per registry equals the manifest GETs the sync then makes", async () => {
    const fresh = startQuotaProxy(hub.url, { limit: 100, left: 100, retryAfterSeconds: 60 })
    try {
      const images = Array.from({ length: HUB_IMAGES }, (_, i) => `  - source: "hub${i}:1"\n    amd64Only: true`)
      const file = join(dir, "plan.yaml")
      await Bun.write(file, `targetRepoPrefix: "${dst.host}/planned/"\nregistries:\n  docker.io:\n    mirror: "${fresh.host}"\nimages:\n${images.join("\n")}\n`)
      const gets = () => fresh.requests().filter((r) => r.method === "GET" && /\/manifests\//.test(r.path)).length
      const plan = await runCli(["plan", "-i", file], { home: dir })
      expect(plan.code, describeRun(plan)).toBe(0)
      expect(plan.stdout).toContain(`manifest GETs the copy makes (pulls on Docker Hub): docker.io ${HUB_IMAGES}`)
      const before = gets()
      const sync = await runCli(["-i", file], { home: dir })
      expect(sync.code, describeRun(sync)).toBe(0)
      expect(gets() - before).toBe(HUB_IMAGES)
    } finally {
      await fresh.stop()
    }
  }, 120_000)
})
