/**
 * The layer check (`bun run lint:deps`, dependency-cruiser): it passes on the tree as it is,
 * and fails — naming the rule — on an upward import and on an import cycle planted in a copy
 * of the tree. And no source file grows past 450 lines.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

const ROOT = join(import.meta.dir, "..", "..")
const TIMEOUT = 120_000

/** Runs the layer check in `cwd`; exit code and what it printed. */
const lintDeps = async (cwd: string) => {
  const proc = Bun.spawn([
    process.execPath,
    "--bun",
    join(ROOT, "node_modules", ".bin", "depcruise"),
    "--config",
    ".dependency-cruiser.cjs",
    "--output-type",
    "err",
    "src",
    "plugins"
  ], {
    cwd,
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, output: `${stdout}${stderr}` }
}

let copy: string

beforeAll(async () => {
  copy = await mkdtemp(join(tmpdir(), "layer-check-"))
  for (const entry of ["src", "plugins"]) await cp(join(ROOT, entry), join(copy, entry), { recursive: true })
  for (const file of [".dependency-cruiser.cjs", "tsconfig.json", "package.json"]) await cp(join(ROOT, file), join(copy, file))
  await symlink(join(ROOT, "node_modules"), join(copy, "node_modules"))
})

afterAll(async () => {
  await rm(copy, { recursive: true, force: true })
})

describe("bun run lint:deps", () => {
  test("passes on the tree as it is", async () => {
    const run = await lintDeps(ROOT)
    expect(run.output).toContain("no dependency violations found")
    expect(run.code).toBe(0)
  }, TIMEOUT)

  test("fails on an upward import (the model reaching for the pipeline), naming the layer rule", async () => {
    const file = join(copy, "src", "model", "Upward.ts")
    await writeFile(file, `import type { Pipeline } from "../pipeline/Pipeline.ts"\nexport type P = Pipeline\n`)
    try {
      const run = await lintDeps(copy)
      expect(run.code).not.toBe(0)
      expect(run.output).toContain("layer:src/model: src/model/Upward.ts → src/pipeline/Pipeline.ts")
    } finally {
      await rm(file)
    }
  }, TIMEOUT)

  test("fails when the OCI client imports anything of the program but the model (the definition, one layer below it), naming oci-stands-alone", async () => {
    const file = join(copy, "src", "oci", "Sideways.ts")
    await writeFile(file, `import type { Definition } from "../definition/Definition.ts"\nexport type D = Definition\n`)
    try {
      const run = await lintDeps(copy)
      expect(run.code).not.toBe(0)
      expect(run.output).toContain("oci-stands-alone: src/oci/Sideways.ts → src/definition/Definition.ts")
    } finally {
      await rm(file)
    }
  }, TIMEOUT)

  test("fails on a cycle made of type-only imports, naming no-circular", async () => {
    const a = join(copy, "src", "model", "CycleA.ts")
    const b = join(copy, "src", "model", "CycleB.ts")
    await writeFile(a, `import type { B } from "./CycleB.ts"\nexport type A = { readonly b?: B }\n`)
    await writeFile(b, `import type { A } from "./CycleA.ts"\nexport type B = { readonly a?: A }\n`)
    try {
      const run = await lintDeps(copy)
      expect(run.code).not.toBe(0)
      expect(run.output).toContain("no-circular")
      expect(run.output).toContain("src/model/CycleA.ts")
    } finally {
      await rm(a)
      await rm(b)
    }
  }, TIMEOUT)

  test("fails when two folders of one layer import each other's files (src/layout → src/oci)", async () => {
    const file = join(copy, "src", "layout", "Sideways.ts")
    await writeFile(file, `export { RegistryClient } from "../oci/RegistryClient.ts"\n`)
    try {
      const run = await lintDeps(copy)
      expect(run.code).not.toBe(0)
      expect(run.output).toContain("layer:src/layout")
    } finally {
      await rm(file)
    }
  }, TIMEOUT)
})

describe("file size", () => {
  test("no source file under src/ or plugins/ is longer than 450 lines", async () => {
    const tooLong: Array<string> = []
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) await walk(path)
        else if (entry.name.endsWith(".ts")) {
          const lines = (await readFile(path, "utf8")).split("\n").length - 1
          if (lines > 450) tooLong.push(`${path.slice(ROOT.length + 1)}: ${lines}`)
        }
      }
    }
    await walk(join(ROOT, "src"))
    await walk(join(ROOT, "plugins"))
    expect(tooLong).toEqual([])
  })
})
