/**
 * examples/embed: the package's type declarations build (tsconfig.build.json), the example
 * typechecks against them alone (not against src/), and it runs with bun on real registries:
 * its own credential provider and transport layers are used, and a tag conflict is handled
 * with catchTag in its preflight while the pipeline reports it as a result.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage } from "../../demo/SampleImages.ts"
import { describeRun, headManifest, makeTempDir, removeDir, SMALL, TWO_PLATFORMS, writeDefinition, writeRequests } from "../integration/helpers.ts"
import type { CliRun } from "../integration/helpers.ts"

const ROOT = join(import.meta.dir, "..", "..")
const USER = "embed-user"
const PASSWORD = "embed-password-5b8f"

/** Runs a command from the repository root with a minimal environment. */
const run = async (cmd: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<CliRun> => {
  const proc = Bun.spawn([...cmd], {
    cwd: ROOT,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, NO_PROXY: "*", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr }
}

/**
 * Runs tsc with its stdout going to a file: tsc ends with process.exit, which can cut short
 * what is still queued for a pipe, and the file list is long.
 */
const tsc = async (args: ReadonlyArray<string>): Promise<CliRun> => {
  const out = join(dir, `tsc-${Date.now()}.out`)
  const proc = Bun.spawn([process.execPath, join(ROOT, "node_modules", "typescript", "bin", "tsc"), ...args], {
    cwd: ROOT,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir },
    stdin: "ignore",
    stdout: Bun.file(out),
    stderr: "pipe"
  })
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited])
  return { code, stdout: await Bun.file(out).text(), stderr }
}

const example = (args: ReadonlyArray<string>, env: Record<string, string> = { EMBED_TARGET_USERNAME: USER, EMBED_TARGET_PASSWORD: PASSWORD }) =>
  run([process.execPath, "examples/embed/main.ts", ...args], env)

let src: LocalRegistry
let dst: LocalRegistry
let dir: string
let app: PushedImage
let contested: PushedImage
let old: PushedImage
let definition: string

const targetRepo = (repository: string): string => `mirror/${src.host.replace(":", "-")}/${repository}`

beforeAll(async () => {
  dir = await makeTempDir("embed")
  src = await startRegistry()
  dst = await startRegistry({ htpasswd: { username: USER, password: PASSWORD } })
  app = await pushImage(src.url, "team/app", "1.0", { platforms: TWO_PLATFORMS, seed: "embed-app", ...SMALL })
  contested = await pushImage(src.url, "team/contested", "3.0", { platforms: TWO_PLATFORMS, seed: "embed-new", ...SMALL })
  old = await pushImage(dst.url, targetRepo("team/contested"), "3.0", { platforms: TWO_PLATFORMS, seed: "embed-old", ...SMALL }, {
    username: USER,
    password: PASSWORD
  })
  definition = await writeDefinition(dir, "images.yaml", {
    targetRepoPrefix: `${dst.host}/mirror/`,
    images: [{ source: `${src.host}/team/app:1.0` }, { source: `${src.host}/team/contested:3.0` }]
  })
  await dst.resetRequests()
})

afterAll(async () => {
  await src?.stop()
  await dst?.stop()
  await removeDir(dir)
})

const auth = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}` }

describe("examples/embed against the published types", () => {
  test("tsconfig.build.json emits declarations into dist/types", async () => {
    const build = await tsc(["-p", "tsconfig.build.json"])
    expect(build.code, describeRun(build)).toBe(0)
    for (const file of ["dist/types/src/index.d.ts", "dist/types/src/pipeline/Pipeline.d.ts", "dist/types/plugins/transports/oci.d.ts"]) {
      expect({ file, exists: existsSync(join(ROOT, file)) }).toEqual({ file, exists: true })
    }
  }, 120_000)

  test("the example typechecks against dist/types alone (declarations checked too), never against src/", async () => {
    const check = await tsc(["-p", "examples/embed/tsconfig.json", "--skipLibCheck", "false", "--listFiles"])
    const lines = check.stdout.split("\n")
    // third-party .d.ts files have their own quarrels with each other's lib settings; ours must have none
    const ours = lines.filter((l) => /error TS\d+/.test(l) && !l.startsWith("node_modules/"))
    expect(ours).toEqual([])
    const files = lines.filter((l) => l.startsWith("/"))
    expect(files).toContain(join(ROOT, "dist/types/src/index.d.ts"))
    expect(files).toContain(join(ROOT, "examples/embed/main.ts"))
    const sources = files.filter((f) => f.startsWith(join(ROOT, "src/")) || f.startsWith(join(ROOT, "plugins/")))
    expect(sources).toEqual([])
  }, 120_000)
})

describe("examples/embed on real registries", () => {
  test("--dry-run: preflight via the steps (conflict caught with catchTag), planned results, nothing written", async () => {
    const r = await example([definition, "--dry-run"])
    expect(r.code, describeRun(r)).toBe(1)
    expect(r.stdout).toContain(`would copy ${src.host}/team/app:1.0 (${app.digest})`)
    expect(r.stdout).toContain(
      `conflict   ${src.host}/team/contested:3.0: ${dst.host}/${targetRepo("team/contested")}:3.0 holds ${old.digest}, the source is ${contested.digest}`
    )
    expect(r.stdout).toMatch(new RegExp(`^ {2}planned +${src.host}/team/app:1\\.0 `, "m"))
    expect(r.stdout).toMatch(new RegExp(`^ {2}conflict +${src.host}/team/contested:3\\.0 `, "m"))
    expect(r.stdout).toContain("2 images: 0 synced, 0 present, 1 planned, 1 conflict, 0 failed")
    expect(await writeRequests(dst)).toEqual([])
  })

  test("sync: its own credentials and transport are used; the conflicting tag is left untouched", async () => {
    const r = await example([definition])
    expect(r.code, describeRun(r)).toBe(1)
    expect(r.stdout).toMatch(new RegExp(`^ {2}synced +${src.host}/team/app:1\\.0 .* ${app.digest}`, "m"))
    expect(r.stdout).toContain("2 images: 1 synced, 0 present, 0 planned, 1 conflict, 0 failed")
    // the example's own Transport layer reported the copy
    expect(r.stderr).toContain(`copied ${dst.host}/${targetRepo("team/app")}:1.0: `)
    expect((await headManifest(dst.url, targetRepo("team/app"), "1.0", auth)).digest).toBe(app.digest)
    expect((await headManifest(dst.url, targetRepo("team/contested"), "3.0", auth)).digest).toBe(old.digest)
  })

  test("a second run finds the image present", async () => {
    const r = await example([definition])
    expect(r.stdout).toContain(`present    ${src.host}/team/app:1.0`)
    expect(r.stdout).toContain("2 images: 0 synced, 1 present, 0 planned, 1 conflict, 0 failed")
  })

  test("without the example's credentials the target refuses, and registry trouble ends the program", async () => {
    const r = await example([definition], {})
    expect(r.code, describeRun(r)).toBe(1)
    expect(r.stdout).not.toContain("sync:")
    expect(`${r.stdout}\n${r.stderr}`).toContain("access denied (HTTP 401)")
  })

  test("a bad definition exits 2 with the parser's message", async () => {
    const bad = await writeDefinition(dir, "bad.yaml", { targetRepoPrefix: `${dst.host}/mirror/`, images: [] })
    const r = await example([bad])
    expect(r.code, describeRun(r)).toBe(2)
    expect(r.stderr).toContain("images is empty")
  })
})
