/**
 * Transport plugin errors reach the user as one clear line naming the plugin and the cause:
 * a bad `--transport` is an invalid invocation (exit 2, nothing contacted); a transport that
 * fails at run time fails its image (exit 1) with a line naming it, and no stack trace.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync } from "node:fs"
import { chmod, mkdir, symlink, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../../demo/LocalRegistry.ts"
import { pushImage } from "../../../demo/SampleImages.ts"
import {
  describeRun,
  lineFor,
  makeTempDir,
  removeDir,
  REPO_ROOT,
  runCli,
  settledRequests,
  SMALL,
  TWO_PLATFORMS,
  writeDefinition
} from "../../integration/helpers.ts"

/** Starting registries and running the CLI can take more than bun's default 5 s per test or hook. */
const TIMEOUT = 120_000

let registry: LocalRegistry
let dir: string
let home: string
let modules: string
let imagesFile: string
let source: string

beforeAll(async () => {
  registry = await startRegistry()
  dir = await makeTempDir("plugin-errors")
  home = join(dir, "home")
  await mkdir(home)
  // The modules import "effect" as a user's would; this resolves it to image-syncer's own copy.
  modules = join(dir, "modules")
  await mkdir(modules)
  await symlink(join(REPO_ROOT, "node_modules"), join(modules, "node_modules"))
  await pushImage(registry.url, "team/app", "1", { platforms: TWO_PLATFORMS, seed: "plugin-errors", ...SMALL })
  source = `${registry.host}/team/app:1`
  imagesFile = await writeDefinition(dir, "images.yaml", { targetRepoPrefix: `${registry.host}/mirror/`, images: [{ source }] })
  await registry.resetRequests()
}, TIMEOUT)

afterAll(async () => {
  await registry?.stop()
  await removeDir(dir)
}, TIMEOUT)

/** Writes a transport module into the modules dir and returns its path. */
const writeModule = async (name: string, text: string): Promise<string> => {
  const path = join(modules, name)
  await writeFile(path, text)
  return path
}

/** Runs the CLI with `--transport transport`; its stderr must be one `error: transport …` line, stdout empty, no registry contacted. */
const expectOneLineInvalid = async (transport: string): Promise<string> => {
  await registry.resetRequests()
  const run = await runCli(["-i", imagesFile, "--transport", transport], { home })
  expect(run.code, describeRun(run)).toBe(2)
  expect(run.stdout, describeRun(run)).toBe("")
  const lines = run.stderr.trim().split("\n")
  expect(lines, describeRun(run)).toHaveLength(1)
  expect(lines[0]!, describeRun(run)).toStartWith("error: transport ")
  expect(await settledRequests(registry)).toEqual([])
  return lines[0]!
}

describe("a bad --transport is an invalid invocation (exit 2, one line, nothing contacted)", () => {
  test("an unknown name: the line names the built-in transports", async () => {
    const line = await expectOneLineInvalid("nope")
    expect(line).toContain("nope")
    for (const builtin of ["oci", "skopeo", "crane"]) expect(line).toContain(builtin)
  }, TIMEOUT)

  test("a module path that does not exist: the line says it was not found", async () => {
    const line = await expectOneLineInvalid("./missing.ts")
    expect(line).toContain("./missing.ts")
    expect(line).toContain("not found")
  }, TIMEOUT)

  test("a module that throws when imported: the line carries its error", async () => {
    const path = await writeModule("throws.ts", "throw new Error(\"kaput at import\")\n")
    const line = await expectOneLineInvalid(path)
    expect(line).toContain(path)
    expect(line).toContain("kaput at import")
  }, TIMEOUT)

  test("a module that exports no `layer`: the line says so", async () => {
    const path = await writeModule("no-layer.ts", "export const transport = { name: \"no-layer\" }\n")
    const line = await expectOneLineInvalid(path)
    expect(line).toContain(path)
    expect(line).toContain("`layer`")
  }, TIMEOUT)

  test("a module whose layer provides no Transport (Layer.empty): the line says so", async () => {
    const path = await writeModule("empty-layer.ts", "import { Layer } from \"effect\"\nexport const layer = Layer.empty\n")
    const line = await expectOneLineInvalid(path)
    expect(line).toContain(path)
    expect(line).toContain("Transport")
  }, TIMEOUT)

  test("a module whose layer needs a service a transport is not given: the line names it", async () => {
    const path = await writeModule(
      "needs-database.ts",
      [
        "import { Context, Effect, Layer } from \"effect\"",
        `import { Transport } from ${JSON.stringify(join(REPO_ROOT, "src", "transport", "Transport.ts"))}`,
        "class Database extends Context.Tag(\"example/Database\")<Database, { readonly url: string }>() {}",
        "export const layer = Layer.effect(Transport, Effect.flatMap(Database, () => Effect.die(\"unreachable\")))",
        ""
      ].join("\n")
    )
    const line = await expectOneLineInvalid(path)
    expect(line).toContain(path)
    expect(line).toContain("example/Database")
  }, TIMEOUT)

  test("a module whose layer fails while it is built: the line carries the failure", async () => {
    const path = await writeModule(
      "fails-to-build.ts",
      [
        "import { Effect, Layer } from \"effect\"",
        `import { Transport } from ${JSON.stringify(join(REPO_ROOT, "src", "transport", "Transport.ts"))}`,
        "export const layer = Layer.effect(Transport, Effect.die(new Error(\"no licence for this transport\")))",
        ""
      ].join("\n")
    )
    const line = await expectOneLineInvalid(path)
    expect(line).toContain(path)
    expect(line).toContain("no licence for this transport")
  }, TIMEOUT)
})

describe("a transport that fails at run time fails the image with one line naming it (exit 1)", () => {
  test("a crane that exits 1 with \"boom\": the image failed, the line names crane and boom, no stack trace (crane stand-in)", async () => {
    const bin = join(dir, "failing-crane")
    await mkdir(bin, { recursive: true })
    await writeFile(join(bin, "crane"), "#!/bin/sh\necho boom >&2\nexit 1\n")
    await chmod(join(bin, "crane"), 0o755)
    const run = await runCli(["-i", imagesFile, "--transport", "crane"], {
      home,
      env: { PATH: `${bin}:${process.env["PATH"] ?? "/usr/bin:/bin"}` }
    })
    expect(run.code, describeRun(run)).toBe(1)
    const line = lineFor(run, source)
    expect(line.status, line.line).toBe("failed")
    expect(line.error).toContain("crane")
    expect(line.error).toContain("boom")
    expect(line.error.split("\n")).toHaveLength(1)
    expect(run.stderr).not.toMatch(/^\s+at /m)
  }, TIMEOUT)

  test("crane not on PATH: the image failed with a line saying crane could not be run", async () => {
    // PATH without any directory holding a crane, even if one is installed here one day
    const path = (process.env["PATH"] ?? "/usr/bin:/bin").split(":").filter((d) => d !== "" && !existsSync(join(d, "crane"))).join(":")
    const run = await runCli(["-i", imagesFile, "--transport", "crane"], { home, env: { PATH: path } })
    expect(run.code, describeRun(run)).toBe(1)
    const line = lineFor(run, source)
    expect(line.status, line.line).toBe("failed")
    expect(line.error).toContain("could not run crane")
    expect(line.error).toContain("PATH")
    expect(run.stderr).not.toMatch(/^\s+at /m)
  }, TIMEOUT)
})
