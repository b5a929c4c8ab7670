/**
 * Result lines through a pipe, as a CI log reads them while a slow run goes on. A FaultProxy in
 * front of the source holds every request of the images after the first until the test has read
 * the first image's line from the CLI's stdout (or, so a regression fails instead of hanging, a
 * deadline has passed): the line of a written image must come as it finishes, not after the
 * end-of-run read-back. Before releasing the others the test plays another writer and replaces
 * that image's tag in the target; the read-back at the end then finds it and one more line says
 * so (conflict, replaced after this run wrote it), and the report, JUnit and exit code hold that
 * final word. Real docker-registry processes, -j 8.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { startRegistry } from "../../../src/demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../../src/demo/LocalRegistry.ts"
import { pushImage } from "../../../src/demo/SampleImages.ts"
import type { PushedImage } from "../../../src/demo/SampleImages.ts"
import { startFaultProxy } from "../../support/FaultProxy.ts"
import type { FaultProxy } from "../../support/FaultProxy.ts"
import { headManifest, makeTempDir, readReport, removeDir, REPO_ROOT, resultLines, SMALL, TWO_PLATFORMS, writeDefinition } from "../../integration/helpers.ts"
import type { CliRun, Report } from "../../integration/helpers.ts"

const COUNT = 12
/** how long the held images wait for the first line at most: past it they go on, and the order checks fail */
const DEADLINE_MS = 30_000
const NAMES = Array.from({ length: COUNT }, (_, i) => `img${String(i).padStart(2, "0")}`)
const FIRST = NAMES[0]!
const LAST = NAMES[COUNT - 1]!

let src: LocalRegistry
let dst: LocalRegistry
let proxy: FaultProxy
let dir: string
const pushed: Record<string, PushedImage> = {}

const sourceOf = (name: string) => `${proxy.host}/pipe/${name}:1`
const targetRepository = (name: string) => `mirror/${proxy.host.replace(":", "-")}/pipe/${name}`
const imageOf = (path: string) => /^\/v2\/pipe\/(img\d\d)\//.exec(path)?.[1]

/** What the test saw while the run went on. */
let run: CliRun
let report: Report
let junit = ""
/** when the first image's line was read: had the last image sent its first request yet? */
let lastStartedBeforeLine: boolean | undefined
let firstLineAtMs = 0
let releasedAtMs = 0
let other: PushedImage

beforeAll(async () => {
  ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
  dir = await makeTempDir("pipe-lines")
  for (const name of NAMES) pushed[name] = await pushImage(src.url, `pipe/${name}`, "1", { platforms: TWO_PLATFORMS, seed: `pipe-${name}`, ...SMALL })

  let release: () => void = () => undefined
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  const deadline = setTimeout(() => release(), DEADLINE_MS)
  proxy = await startFaultProxy({
    upstream: src.url,
    seed: "pipe-lines",
    // Every image but the first waits at its first source request until the gate opens.
    onRequest: async (r) => {
      const image = imageOf(r.pathname)
      if (image !== undefined && image !== FIRST) await released
    }
  })

  const file = await writeDefinition(dir, "pipe.yaml", { targetRepoPrefix: `${dst.host}/mirror/`, images: NAMES.map((n) => ({ source: sourceOf(n) })) })
  const reportFile = join(dir, "pipe.json")
  const junitFile = join(dir, "pipe.xml")
  const startedAt = performance.now()
  const proc = Bun.spawn([process.execPath, "src/cli/launch.ts", "-i", file, "-j", "8", "--report", reportFile, "--junit", junitFile], {
    cwd: REPO_ROOT,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, DOCKER_CONFIG: join(dir, ".docker"), NO_PROXY: "*" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  let stdout = ""
  const reading = (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of proc.stdout) {
      stdout += decoder.decode(chunk, { stream: true })
      if (lastStartedBeforeLine === undefined && stdout.split("\n").some((l) => l.startsWith(`synced   ${sourceOf(FIRST)} -> `))) {
        firstLineAtMs = performance.now() - startedAt
        lastStartedBeforeLine = proxy.requests().some((q) => imageOf(q.pathname) === LAST)
        // Another writer replaces the tag this run just wrote and verified, before the read-back at the end.
        other = await pushImage(dst.url, targetRepository(FIRST), "1", { platforms: TWO_PLATFORMS, seed: "pipe-other-writer", ...SMALL })
        releasedAtMs = performance.now() - startedAt
        release()
      }
    }
  })()
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited])
  await reading
  clearTimeout(deadline)
  release()
  run = { code, stdout, stderr }
  report = await readReport(reportFile)
  junit = await Bun.file(junitFile).text()
}, 120_000)

afterAll(async () => {
  await proxy?.stop()
  await Promise.all([src?.stop(), dst?.stop()])
  await removeDir(dir)
}, 60_000)

const dump = () => `exit ${run.code} (first line at ${Math.round(firstLineAtMs)} ms, released at ${Math.round(releasedAtMs)} ms)\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`

describe("result lines through a pipe while a slow run goes on", () => {
  test("the first written image's line arrived before the last image had started (the others held back until then)", () => {
    expect(lastStartedBeforeLine, dump()).toBe(false)
    expect(releasedAtMs, dump()).toBeLessThan(DEADLINE_MS)
    // and the last image did start, and finish, afterwards
    expect(proxy.requests().some((q) => imageOf(q.pathname) === LAST)).toBe(true)
    expect(resultLines(run).some((l) => l.source === sourceOf(LAST) && l.status === "synced"), dump()).toBe(true)
  })

  test("every image has its synced line as it finished, the first image's first", () => {
    const lines = resultLines(run)
    expect(lines[0]?.source, dump()).toBe(sourceOf(FIRST))
    const synced = lines.filter((l) => l.status === "synced")
    expect(synced.map((l) => l.source).sort()).toEqual(NAMES.map(sourceOf))
    for (const l of synced) expect(l.digest).toBe(pushed[NAMES.find((n) => sourceOf(n) === l.source)!]!.digest)
  })

  test("the replaced tag gets one more line after them: conflict, replaced after this run wrote it; then the summary", () => {
    const lines = run.stdout.trim().split("\n")
    expect(lines, dump()).toHaveLength(COUNT + 2)
    const extra = resultLines(run).at(-1)!
    expect(extra.status, dump()).toBe("conflict")
    expect(extra.source).toBe(sourceOf(FIRST))
    expect(extra.line).toBe(lines[COUNT]!)
    expect(extra.error).toContain(`was replaced by another writer after this run wrote it: it now holds ${other.digest}, not ${pushed[FIRST]!.digest}`)
    expect(lines.at(-1)).toBe(`${COUNT} images: ${COUNT - 1} synced, 0 present, 0 planned, 1 conflict, 0 failed`)
  })

  test("exit 1; the report and JUnit hold the final word, in definition order", async () => {
    expect(run.code, dump()).toBe(1)
    expect(report.exitCode).toBe(1)
    expect(report.images.map((i) => i.source)).toEqual(NAMES.map(sourceOf))
    expect(report.images[0]).toMatchObject({ status: "conflict", errorType: "TagTaken" })
    expect(report.images.slice(1).every((i) => i.status === "synced")).toBe(true)
    expect(report.summary).toMatchObject({ total: COUNT, synced: COUNT - 1, conflict: 1 })
    expect(junit.match(/<failure /g)).toHaveLength(1)
    expect(junit).toContain("replaced by another writer after this run wrote it")
    // the other writer's tag stands
    expect((await headManifest(dst.url, targetRepository(FIRST), "1")).digest).toBe(other.digest)
  })
})
