/**
 * Result lines through a pipe, as a CI log reads them while a slow run goes on. A FaultProxy in
 * front of the source holds every request of the images after the first until the test has read
 * the first image's line from the CLI's stdout (or, so a regression fails instead of hanging, a
 * deadline has passed): the line of a written image must come as it finishes, not after the
 * end-of-run read-back. Before releasing the others the test plays another writer and replaces
 * that image's tag in the target; the read-back at the end then finds it and one more line says
 * so (conflict, replaced after this run wrote it), and the report, JUnit and exit code hold that
 * final word. The --output json stream does the same with an ImageRevised object. Real
 * docker-registry processes, -j 8.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { startRegistry } from "../../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../../demo/LocalRegistry.ts"
import { pushImage } from "../../../demo/SampleImages.ts"
import type { PushedImage } from "../../../demo/SampleImages.ts"
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
const targetRepository = (prefix: string, name: string) => `${prefix}/${proxy.host.replace(":", "-")}/pipe/${name}`
const imageOf = (path: string) => /^\/v2\/pipe\/(img\d\d)\//.exec(path)?.[1]

/** What the test saw of one run. */
interface GatedRun {
  readonly run: CliRun
  readonly report: Report
  readonly junit: string
  /** when the first image's line was read: had the last image sent its first request yet? */
  readonly lastStartedBeforeLine: boolean | undefined
  readonly firstLineAtMs: number
  readonly releasedAtMs: number
  /** what the other writer put in the first image's tag */
  readonly other: PushedImage | undefined
  /** the source requests of this run */
  readonly requests: ReadonlyArray<{ readonly pathname: string }>
}

/**
 * Runs the CLI with every image but the first held at the source until `firstDone` says stdout
 * holds the first image's result; then the other writer replaces that image's tag and the rest
 * go on.
 */
const gatedRun = async (prefix: string, args: ReadonlyArray<string>, firstDone: (stdout: string) => boolean): Promise<GatedRun> => {
  let release: () => void = () => undefined
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  const deadline = setTimeout(() => release(), DEADLINE_MS)
  proxy.reset()
  // Every image but the first waits at its first source request until the gate opens.
  proxy.setHooks({
    onRequest: async (r) => {
      const image = imageOf(r.pathname)
      if (image !== undefined && image !== FIRST) await released
    }
  })
  const file = await writeDefinition(dir, `${prefix}.yaml`, { targetRepoPrefix: `${dst.host}/${prefix}/`, images: NAMES.map((n) => ({ source: sourceOf(n) })) })
  const reportFile = join(dir, `${prefix}.json`)
  const junitFile = join(dir, `${prefix}.xml`)
  const startedAt = performance.now()
  const proc = Bun.spawn([process.execPath, "src/cli/launch.ts", "-i", file, "-j", "8", "--report", reportFile, "--junit", junitFile, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, DOCKER_CONFIG: join(dir, ".docker"), NO_PROXY: "*" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  let stdout = ""
  let seen: { lastStartedBeforeLine: boolean; firstLineAtMs: number; releasedAtMs: number; other: PushedImage } | undefined
  const reading = (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of proc.stdout) {
      stdout += decoder.decode(chunk, { stream: true })
      if (seen === undefined && firstDone(stdout)) {
        const firstLineAtMs = performance.now() - startedAt
        const lastStartedBeforeLine = proxy.requests().some((q) => imageOf(q.pathname) === LAST)
        // Another writer replaces the tag this run just wrote and verified, before the read-back at the end.
        const other = await pushImage(dst.url, targetRepository(prefix, FIRST), "1", { platforms: TWO_PLATFORMS, seed: `${prefix}-other-writer`, ...SMALL })
        seen = { lastStartedBeforeLine, firstLineAtMs, other, releasedAtMs: performance.now() - startedAt }
        release()
      }
    }
  })()
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited])
  await reading
  clearTimeout(deadline)
  release()
  return {
    run: { code, stdout, stderr },
    report: await readReport(reportFile),
    junit: await Bun.file(junitFile).text(),
    lastStartedBeforeLine: seen?.lastStartedBeforeLine,
    firstLineAtMs: seen?.firstLineAtMs ?? 0,
    releasedAtMs: seen?.releasedAtMs ?? DEADLINE_MS,
    other: seen?.other,
    requests: [...proxy.requests()]
  }
}

const dump = (g: GatedRun) =>
  `exit ${g.run.code} (first line at ${Math.round(g.firstLineAtMs)} ms, released at ${
    Math.round(g.releasedAtMs)
  } ms)\n--- stdout ---\n${g.run.stdout}\n--- stderr ---\n${g.run.stderr}`

beforeAll(async () => {
  ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
  dir = await makeTempDir("pipe-lines")
  for (const name of NAMES) pushed[name] = await pushImage(src.url, `pipe/${name}`, "1", { platforms: TWO_PLATFORMS, seed: `pipe-${name}`, ...SMALL })
  proxy = await startFaultProxy({ upstream: src.url, seed: "pipe-lines" })
}, 60_000)

afterAll(async () => {
  await proxy?.stop()
  await Promise.all([src?.stop(), dst?.stop()])
  await removeDir(dir)
}, 60_000)

describe("result lines through a pipe while a slow run goes on", () => {
  let g: GatedRun
  beforeAll(async () => {
    g = await gatedRun("plain", [], (out) => out.split("\n").some((l) => l.startsWith(`synced   ${sourceOf(FIRST)} -> `)))
  }, 120_000)
  test("the first written image's line arrived before the last image had started (the others held back until then)", () => {
    expect(g.lastStartedBeforeLine, dump(g)).toBe(false)
    expect(g.releasedAtMs, dump(g)).toBeLessThan(DEADLINE_MS)
    // and the last image did start, and finish, afterwards
    expect(g.requests.some((q) => imageOf(q.pathname) === LAST)).toBe(true)
    expect(resultLines(g.run).some((l) => l.source === sourceOf(LAST) && l.status === "synced"), dump(g)).toBe(true)
  })

  test("every image has its synced line as it finished, the first image's first", () => {
    const lines = resultLines(g.run)
    expect(lines[0]?.source, dump(g)).toBe(sourceOf(FIRST))
    const synced = lines.filter((l) => l.status === "synced")
    expect(synced.map((l) => l.source).sort()).toEqual(NAMES.map(sourceOf))
    for (const l of synced) expect(l.digest).toBe(pushed[NAMES.find((n) => sourceOf(n) === l.source)!]!.digest)
  })

  test("the replaced tag gets one more line after them: conflict, replaced after this run wrote it; then the summary", () => {
    const lines = g.run.stdout.trim().split("\n")
    expect(lines, dump(g)).toHaveLength(COUNT + 2)
    const extra = resultLines(g.run).at(-1)!
    expect(extra.status, dump(g)).toBe("conflict")
    expect(extra.source).toBe(sourceOf(FIRST))
    expect(extra.line).toBe(lines[COUNT]!)
    expect(extra.error).toContain(`was replaced by another writer after this run wrote it: it now holds ${g.other?.digest}, not ${pushed[FIRST]!.digest}`)
    expect(lines.at(-1)).toBe(`${COUNT} images: ${COUNT - 1} synced, 0 present, 0 planned, 1 conflict, 0 failed`)
  })

  test("exit 1; the report and JUnit hold the final word, in definition order", async () => {
    expect(g.run.code, dump(g)).toBe(1)
    expect(g.report.exitCode).toBe(1)
    expect(g.report.images.map((i) => i.source)).toEqual(NAMES.map(sourceOf))
    expect(g.report.images[0]).toMatchObject({ status: "conflict", errorType: "TagTaken" })
    expect(g.report.images.slice(1).every((i) => i.status === "synced")).toBe(true)
    expect(g.report.summary).toMatchObject({ total: COUNT, synced: COUNT - 1, conflict: 1 })
    expect(g.junit.match(/<failure /g)).toHaveLength(1)
    expect(g.junit).toContain("replaced by another writer after this run wrote it")
    // the other writer's tag stands
    expect((await headManifest(dst.url, targetRepository("plain", FIRST), "1")).digest).toBe(g.other?.digest ?? "no other writer")
  })
})

describe("the --output json stream while a slow run goes on", () => {
  let g: GatedRun
  let records: Array<Record<string, unknown>> = []
  beforeAll(async () => {
    const finishedFirst = (out: string) => out.split("\n").some((l) => l.includes("\"event\":\"ImageFinished\"") && l.includes(`"source":"${sourceOf(FIRST)}"`))
    g = await gatedRun("json", ["--output", "json"], finishedFirst)
    records = g.run.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>)
  }, 120_000)

  test("the first image's ImageFinished (synced) arrived before the last image had started", () => {
    expect(g.lastStartedBeforeLine, dump(g)).toBe(false)
    expect(g.releasedAtMs, dump(g)).toBeLessThan(DEADLINE_MS)
    expect(records.find((r) => r["event"] === "ImageFinished" && r["source"] === sourceOf(FIRST))).toMatchObject({ image: 0, status: "synced" })
  })

  test("ImageFinished once per image; then one ImageRevised for the replaced tag, with the final result; then the Summary", () => {
    const finished = records.filter((r) => r["event"] === "ImageFinished")
    expect(finished.map((r) => r["image"]).sort((a, b) => Number(a) - Number(b)), dump(g)).toEqual(NAMES.map((_, i) => i))
    const revised = records.filter((r) => r["event"] === "ImageRevised")
    expect(revised, dump(g)).toHaveLength(1)
    expect(revised[0]).toMatchObject({ image: 0, source: sourceOf(FIRST), status: "conflict", errorType: "TagTaken", digest: pushed[FIRST]!.digest })
    expect(String(revised[0]!["error"])).toContain(`replaced by another writer after this run wrote it: it now holds ${g.other?.digest}`)
    expect(records.indexOf(revised[0]!)).toBeGreaterThan(records.indexOf(finished.at(-1)!))
    expect(records.at(-1)).toMatchObject({ event: "Summary", total: COUNT, synced: COUNT - 1, conflict: 1 })
    expect(g.run.code).toBe(1)
    expect(g.report.images[0]).toMatchObject({ status: "conflict", errorType: "TagTaken" })
  })
})
