/** The CLI's bundle: built before a run (never by one), used while current, skipped for module plugins. */
import { afterAll, describe, expect, test } from "bun:test"
import { existsSync } from "node:fs"
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { BUNDLE_PATH, buildBundle, bundleToRun, isFresh, newestMtime, usesModulePlugin } from "../../src/cli/Bundle.ts"

const REPO_ROOT = resolve(import.meta.dir, "../..")
const dirs: Array<string> = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

/** A tiny project: an entry importing a module, both under src/. */
const project = async () => {
  const dir = await mkdtemp(join(tmpdir(), "bundle-test-"))
  dirs.push(dir)
  await mkdir(join(dir, "src", "deep"), { recursive: true })
  await writeFile(join(dir, "src", "deep", "greeting.ts"), `export const greeting = (name: string): string => "hello " + name\n`)
  await writeFile(join(dir, "src", "main.ts"), `import { greeting } from "./deep/greeting.ts"\nconsole.log(greeting(process.argv[2] ?? "nobody"))\n`)
  return { dir, entry: join(dir, "src", "main.ts"), bundle: join(dir, "dist", "main.js"), sources: [join(dir, "src")] }
}

const run = (argv: ReadonlyArray<string>, cwd = REPO_ROOT) => {
  const proc = Bun.spawnSync([process.execPath, ...argv], { cwd, stdout: "pipe", stderr: "pipe" })
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() }
}

describe("Bundle", () => {
  test("newestMtime sees files in nested directories", async () => {
    const p = await project()
    const future = new Date(Date.now() + 3_600_000)
    await utimes(join(p.dir, "src", "deep", "greeting.ts"), future, future)
    expect(Math.round(newestMtime(p.sources) / 1000)).toBe(Math.round(future.getTime() / 1000))
  })

  test("no bundle: not fresh; built: fresh and runs like the source; a source edited later: stale again", async () => {
    const p = await project()
    expect(isFresh(p.bundle, p.sources)).toBe(false)
    await buildBundle(p.entry, p.bundle)
    expect(existsSync(p.bundle)).toBe(true)
    expect(isFresh(p.bundle, p.sources)).toBe(true)
    expect(run([p.bundle, "bundle"], p.dir).stdout).toBe("hello bundle\n")
    const later = new Date(Date.now() + 60_000)
    await utimes(join(p.dir, "src", "deep", "greeting.ts"), later, later)
    expect(isFresh(p.bundle, p.sources)).toBe(false)
  })

  test("a build that fails throws and leaves no bundle behind", async () => {
    const p = await project()
    await writeFile(join(p.dir, "src", "main.ts"), `import { missing } from "./nowhere.ts"\nconsole.log(missing)\n`)
    await expect(buildBundle(p.entry, p.bundle)).rejects.toThrow()
    expect(existsSync(p.bundle)).toBe(false)
  })

  test("module plugins are recognised in flags and variables; built-in names are not plugins", () => {
    expect(usesModulePlugin(["-i", "x.yaml", "--transport", "./my-transport.ts"], {})).toBe(true)
    expect(usesModulePlugin(["--transport=plugins/x.js"], {})).toBe(true)
    expect(usesModulePlugin(["--auth-plugin", "auth.ts"], {})).toBe(true)
    expect(usesModulePlugin([], { SYNCER_AUTH_PLUGIN: "a.ts" })).toBe(true)
    expect(usesModulePlugin([], { SYNCER_TRANSPORT: "/abs/t.ts" })).toBe(true)
    expect(usesModulePlugin(["--transport", "skopeo"], { SYNCER_TRANSPORT: "crane" })).toBe(false)
    expect(usesModulePlugin(["-i", "images.yaml"], {})).toBe(false)
  })

  test("launch.ts runs the CLI from the bundle built before it (prepack, build:bundle): same help as the source entry; it never builds one", async () => {
    const bundle = join(REPO_ROOT, BUNDLE_PATH)
    await buildBundle(join(REPO_ROOT, "src/cli/bin.ts"), bundle)
    expect(bundleToRun(REPO_ROOT, ["--help"], {})).toBe(bundle)
    const launched = run(["src/cli/launch.ts", "--help"])
    const source = run(["src/cli/bin.ts", "--help"])
    expect(launched.code).toBe(0)
    expect(launched.stdout).toBe(source.stdout)
    const sources = ["src", "plugins", "package.json", "bun.lock"].map((p) => join(REPO_ROOT, p))
    expect(isFresh(bundle, sources)).toBe(true)
  })

  test("which entry starts: an installed package's bundle as it is; a checkout's only while newer than its sources; none for a module plugin", async () => {
    const p = await project()
    const bundle = join(p.dir, BUNDLE_PATH)
    expect(bundleToRun(p.dir, [], {})).toBeUndefined()
    await buildBundle(p.entry, bundle)
    expect(bundleToRun(p.dir, [], {})).toBe(bundle)
    expect(bundleToRun(p.dir, ["--transport", "./t.ts"], {})).toBeUndefined()
    // a checkout edited after the build runs from source; an installed package has no .git and is never edited
    await mkdir(join(p.dir, ".git"))
    expect(bundleToRun(p.dir, [], {})).toBe(bundle)
    const later = new Date(Date.now() + 60_000)
    await utimes(join(p.dir, "src", "deep", "greeting.ts"), later, later)
    expect(bundleToRun(p.dir, [], {})).toBeUndefined()
    await rm(join(p.dir, ".git"), { recursive: true })
    expect(bundleToRun(p.dir, [], {})).toBe(bundle)
    expect(existsSync(bundle)).toBe(true)
  })
})
