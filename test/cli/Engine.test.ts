import { describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { ENGINE_ENV, withEngineEnv } from "../../src/cli/Engine.ts"

const root = resolve(import.meta.dir, "../..")
const read = (path: string) => readFileSync(resolve(root, path), "utf8")
const assignments = Object.entries(ENGINE_ENV).map(([k, v]) => `${k}=${v}`)

describe("every way the CLI is started gives the engine the settings of src/cli/Engine.ts", () => {
  test("the launcher's shebang (the package's bin) sets them through env -S", () => {
    const shebang = read("src/cli/launch.ts").split("\n")[0]!
    expect(shebang).toBe(`#!/usr/bin/env -S ${assignments.join(" ")} bun`)
  })

  test("the shebang line runs: env -S as the kernel would call it prints the version", () => {
    const shebang = read("src/cli/launch.ts").split("\n")[0]!
    const [envPath, flag, ...rest] = shebang.slice(2).split(" ")
    const proc = Bun.spawnSync([envPath!, flag!, rest.join(" "), resolve(root, "src/cli/launch.ts"), "--version"], {
      env: { ...process.env, PATH: `${resolve(process.execPath, "..")}:${process.env["PATH"] ?? ""}` }
    })
    expect(proc.exitCode).toBe(0)
    expect(proc.stdout.toString()).toContain(JSON.parse(read("package.json")).version)
  })

  test("`bun run sync`, the Docker image and the GitHub Action set them", () => {
    const sync: string = JSON.parse(read("package.json")).scripts.sync
    expect(sync).toBe(`${assignments.join(" ")} bun src/cli/launch.ts`)
    for (const a of assignments) expect(read("Dockerfile")).toContain(`ENV ${a}`)
    for (const [k, v] of Object.entries(ENGINE_ENV)) expect(read("scripts/action.sh")).toContain(`${k}="\${${k}:-${v}}" bun`)
  })

  test("withEngineEnv adds them to an environment and keeps a value the caller set", () => {
    expect(withEngineEnv({ HOME: "/h", GONE: undefined })).toEqual({ ...ENGINE_ENV, HOME: "/h" })
    expect(withEngineEnv({ BUN_JSC_useDFGJIT: "1" })).toEqual({ ...ENGINE_ENV, BUN_JSC_useDFGJIT: "1" })
  })
})
