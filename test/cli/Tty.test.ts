import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import { hasControlChars } from "../../src/cli/output/Text.ts"
import { runInPty } from "../support/Pty.ts"

const bin = join(import.meta.dir, "../../src/cli/bin.ts")
const ESC = "\u001b"
let source: LocalRegistry
let dir: string
const targets: Array<LocalRegistry> = []

const env = (extra: Record<string, string> = {}) => ({
  PATH: process.env["PATH"] ?? "",
  HOME: process.env["HOME"] ?? "/root",
  DOCKER_CONFIG: join(dir, "docker"),
  TERM: "xterm-256color",
  ...extra
})

/** A definition of six images from the source into a fresh target. */
const definition = async (name: string) => {
  const target = await startRegistry()
  targets.push(target)
  const lines = Array.from({ length: 6 }, (_, i) => `  - source: "app${i}:1"`)
  const path = join(dir, `${name}.yaml`)
  await writeFile(path, `targetRepoPrefix: "${target.host}/ext/"\nregistries:\n  docker.io:\n    mirror: "${source.host}"\nimages:\n${lines.join("\n")}\n`)
  return path
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "syncer-tty-"))
  source = await startRegistry()
  for (let i = 0; i < 6; i++) {
    await pushImage(source.url, `library/app${i}`, "1", {
      platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }],
      seed: `tty-${i}`,
      layerSize: 400_000
    })
  }
}, 60_000)

afterAll(async () => {
  await Promise.all([source?.stop(), ...targets.map((t) => t.stop())])
  await rm(dir, { recursive: true, force: true })
}, 60_000)

describe("output on a terminal and through a pipe", () => {
  test("under a pseudo-terminal the live view redraws in place as images progress, then the summary", async () => {
    const file = await definition("tty")
    const run = await runInPty([process.execPath, bin, "-i", file, "-j", "2"], { env: env(), columns: 120, rows: 40 })
    expect(run.code).toBe(0)
    // Redraws move the cursor up over the previous block and clear lines.
    const redraws = run.output.split(new RegExp(`\\r${ESC}\\[\\d+A`)).length - 1
    expect(redraws).toBeGreaterThanOrEqual(2)
    expect(run.output).toContain(`${ESC}[2K`)
    // The block showed work in progress before the images finished.
    const firstSynced = run.output.indexOf("synced")
    expect(firstSynced).toBeGreaterThan(0)
    expect(run.output.slice(0, firstSynced)).toMatch(/resolve|check|compare|copy/)
    expect(run.output).toContain("6 images: 6 synced, 0 present, 0 planned, 0 conflict, 0 failed")
  }, 60_000)

  test("NO_COLOR on a terminal: the view still updates, but without colour codes", async () => {
    const file = await definition("nocolor")
    const run = await runInPty([process.execPath, bin, "-i", file, "-j", "2"], { env: env({ NO_COLOR: "1" }), columns: 120, rows: 40 })
    expect(run.code).toBe(0)
    expect(run.output).not.toMatch(new RegExp(`${ESC}\\[[0-9;]*m`))
    expect(run.output).toContain(`${ESC}[2K`)
  }, 60_000)

  test("through a pipe neither stdout nor stderr carries a control character; stdout has one line per image and the summary", async () => {
    const file = await definition("pipe")
    const proc = Bun.spawn([process.execPath, bin, "-i", file], { env: env(), stdout: "pipe", stderr: "pipe" })
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    expect(code).toBe(0)
    expect(hasControlChars(stdout)).toBe(false)
    expect(hasControlChars(stderr)).toBe(false)
    const lines = stdout.trim().split("\n")
    expect(lines.filter((l) => l.startsWith("synced "))).toHaveLength(6)
    expect(lines.at(-1)).toBe("6 images: 6 synced, 0 present, 0 planned, 0 conflict, 0 failed")
    // Without --debug no per-event line: a CI log holds the results and the summary table.
    expect(stderr).not.toMatch(/\] (start|step|blob|bytes) /)
    expect(stderr).toContain("Summary")
    // the closing line once per stream: stdout has it, stderr's table does not repeat it
    expect(stderr).not.toContain("6 images:")
  }, 60_000)

  test("with --debug the per-event lines go to stderr, and stdout is the same", async () => {
    const file = await definition("pipe-debug")
    const proc = Bun.spawn([process.execPath, bin, "-i", file, "--debug"], { env: env(), stdout: "pipe", stderr: "pipe" })
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    expect(code).toBe(0)
    expect(stdout.trim().split("\n").filter((l) => l.startsWith("synced "))).toHaveLength(6)
    expect(stderr).toMatch(/\[\d\/6\] step app\d:1 copy/)
    // no key given: no sign step is shown
    expect(stderr).not.toMatch(/\] step app\d:1 sign/)
  }, 60_000)

  test("a 50-image run through a pipe: 50 result lines on stdout, no step line on stderr", async () => {
    const target = await startRegistry()
    targets.push(target)
    const pushed = await pushImage(source.url, "library/fifty", "1", {
      platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }],
      seed: "fifty"
    })
    const entries = Array.from({ length: 50 }, (_, i) => `  - source: "fifty@${pushed.digest}"\n    tag: "t${i}"`)
    const file = join(dir, "fifty.yaml")
    await writeFile(file, `targetRepoPrefix: "${target.host}/ext/"\nregistries:\n  docker.io:\n    mirror: "${source.host}"\nimages:\n${entries.join("\n")}\n`)
    const proc = Bun.spawn([process.execPath, bin, "-i", file], { env: env(), stdout: "pipe", stderr: "pipe" })
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    expect(code, stderr).toBe(0)
    const lines = stdout.trim().split("\n")
    expect(lines.filter((l) => l.startsWith("synced "))).toHaveLength(50)
    expect(lines).toHaveLength(51)
    expect(stderr).not.toMatch(/\] step /)
    expect(stderr).not.toMatch(/\] start /)
  }, 60_000)

  test("--help through a pipe has no colour codes and names every environment variable", async () => {
    const proc = Bun.spawn([process.execPath, bin, "--help"], { env: env(), stdout: "pipe", stderr: "pipe" })
    const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
    expect(code).toBe(0)
    expect(hasControlChars(stdout)).toBe(false)
    for (const v of ["SYNCER_IMAGES_FILE", "SYNCER_OUTPUT", "SYNCER_JUNIT", "SYNCER_SHARD", "SYNCER_SIGN_KEY", "SYNCER_TRANSPORT"]) {
      expect(stdout).toContain(v)
    }
  }, 60_000)
})
