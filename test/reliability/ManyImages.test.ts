/**
 * A list of 5,000 entries (one real image, 5,000 target tags): a dry run at the highest
 * concurrency the CLI accepts answers SIGTERM within 2 s with exit 130 and the report of what
 * finished; its memory stays bounded by what is in flight, not by the list.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import { makeTempDir, removeDir, REPO_ROOT, SMALL, TWO_PLATFORMS } from "../integration/helpers.ts"

const TIMEOUT = 180_000
const COUNT = 5000

let dir: string
let src: LocalRegistry
let dst: LocalRegistry
let file: string

beforeAll(async () => {
  dir = await makeTempDir("many-images")
  ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
  const image = await pushImage(src.url, "many/app", "1", { platforms: TWO_PLATFORMS, seed: "many", ...SMALL })
  // one pinned source, 5,000 target tags: a list this long costs one push
  const lines = [`targetRepoPrefix: "${dst.host}/many/"`, "images:"]
  for (let i = 0; i < COUNT; i++) lines.push(`  - source: "${src.host}/many/app@${image.digest}"`, `    tag: "t${i}"`)
  file = join(dir, "many.yaml")
  await Bun.write(file, `${lines.join("\n")}\n`)
}, TIMEOUT)

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()])
  await removeDir(dir)
}, TIMEOUT)

describe("a 5,000-image dry run", () => {
  test("SIGTERM mid-run: exit 130 within 2 s, with a report of what finished", async () => {
    const report = join(dir, "interrupted.json")
    const proc = Bun.spawn([process.execPath, "src/cli/launch.ts", "-i", file, "--dry-run", "-j", "256", "--report", report], {
      cwd: REPO_ROOT,
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, DOCKER_CONFIG: join(dir, ".docker"), NO_PROXY: "*" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe"
    })
    // signal once 200 result lines are out: the run is busy with the rest
    const decoder = new TextDecoder()
    let stdout = ""
    const reader = proc.stdout.getReader()
    while ((stdout.match(/^planned /gm)?.length ?? 0) < 200) {
      const { done, value } = await reader.read()
      if (done) break
      stdout += decoder.decode(value, { stream: true })
    }
    const signalled = performance.now()
    proc.kill("SIGTERM")
    const drain = (async () => {
      for (;;) {
        const { done } = await reader.read()
        if (done) return
      }
    })()
    const code = await proc.exited
    const stopMs = performance.now() - signalled
    await drain
    expect(code).toBe(130)
    expect(stopMs).toBeLessThan(2000)
    const doc = JSON.parse(await readFile(report, "utf8")) as { interrupted?: boolean; unfinished?: number; images: Array<{ status: string }> }
    expect(doc.interrupted).toBe(true)
    expect(doc.images.length).toBeGreaterThanOrEqual(200)
    expect(doc.images.length + (doc.unfinished ?? 0)).toBe(COUNT)
    expect(doc.images.every((i) => i.status === "planned")).toBe(true)
  }, TIMEOUT)

  test("the whole list at -j 256 finishes with every image planned, peak RSS under 512 MB", async () => {
    const proc = Bun.spawn([process.execPath, "src/cli/launch.ts", "-i", file, "--dry-run", "-j", "256"], {
      cwd: REPO_ROOT,
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, DOCKER_CONFIG: join(dir, ".docker"), NO_PROXY: "*" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "ignore"
    })
    const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
    expect(code).toBe(0)
    expect(stdout.match(/^planned /gm)?.length).toBe(COUNT)
    const rss = proc.resourceUsage()?.maxRSS ?? 0
    expect(rss).toBeGreaterThan(0)
    // The live heap stays near 45 MB for the whole run; the peak RSS (about 280 MB here) is
    // mostly garbage the collector has not yet returned, so it varies from machine to machine.
    // The ceiling guards the failure this test is for: 1.15 GB at -j 300 when memory grew
    // with the list.
    expect(rss).toBeLessThan(512 * 1024 * 1024)
  }, TIMEOUT)
})
