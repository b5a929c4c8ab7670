/**
 * action.yml run as GitHub runs a composite action: each `run` step in order, `${{ inputs.* }}`
 * and `${{ github.action_path }}` expanded, the step's `env` set, GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY pointing at files, the action's outputs read from its steps' outputs —
 * against real local registries. (`uses: oven-sh/setup-bun` is the one step not run: bun is here.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { parse } from "yaml"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import { makeTempDir, removeDir, REPO_ROOT, SMALL, TWO_PLATFORMS } from "../integration/helpers.ts"

interface Step {
  readonly id?: string
  readonly uses?: string
  readonly run?: string
  readonly shell?: string
  readonly env?: Record<string, string>
  readonly "working-directory"?: string
}
interface Action {
  readonly inputs: Record<string, { readonly default?: string; readonly required?: boolean }>
  readonly outputs: Record<string, { readonly value: string }>
  readonly runs: { readonly using: string; readonly steps: ReadonlyArray<Step> }
}

let action: Action
let src: LocalRegistry
let dst: LocalRegistry
let dir: string

/** Expands the expressions this action uses; any other expression is a test failure. */
const expand = (text: string, inputs: Record<string, string>, steps: Record<string, Record<string, string>>, runnerTemp: string): string =>
  text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
    if (expr === "github.action_path") return REPO_ROOT
    if (expr === "runner.temp") return runnerTemp
    const input = /^inputs\.([\w-]+)$/.exec(expr)
    if (input) {
      if (!(input[1]! in action.inputs)) throw new Error(`action.yml uses an undeclared input ${input[1]}`)
      return inputs[input[1]!] ?? action.inputs[input[1]!]!.default ?? ""
    }
    const output = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr)
    if (output) return steps[output[1]!]?.[output[2]!] ?? ""
    throw new Error(`unexpected expression in action.yml: ${expr}`)
  })

/** Runs the action with `inputs`; returns its outputs, the step summary and each step's exit code. */
const runAction = async (name: string, inputs: Record<string, string>) => {
  const runnerTemp = join(dir, `${name}-runner-temp`)
  await Bun.$`mkdir -p ${runnerTemp}`.quiet()
  const summary = join(dir, `${name}-summary.md`)
  const steps: Record<string, Record<string, string>> = {}
  const codes: Array<number> = []
  let stdout = ""
  for (const step of action.runs.steps) {
    if (step.uses !== undefined) {
      expect(step.uses).toStartWith("oven-sh/setup-bun@")
      continue
    }
    const outputFile = join(dir, `${name}-${codes.length}-output`)
    await writeFile(outputFile, "")
    const env: Record<string, string> = {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      HOME: dir,
      DOCKER_CONFIG: join(dir, ".docker"),
      NO_PROXY: "*",
      RUNNER_TEMP: runnerTemp,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_ACTIONS: "true"
    }
    for (const [k, v] of Object.entries(step.env ?? {})) env[k] = expand(v, inputs, steps, runnerTemp)
    expect(step.shell).toBe("bash")
    const cwd = step["working-directory"] ? expand(step["working-directory"], inputs, steps, runnerTemp) : dir
    const proc = Bun.spawn(["bash", "-e", "-c", expand(step.run!, inputs, steps, runnerTemp)], { cwd, env, stdout: "pipe", stderr: "pipe" })
    const [out, , code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    stdout += out
    codes.push(code)
    if (step.id !== undefined) {
      const lines = (await readFile(outputFile, "utf8")).split("\n").filter((l) => l.includes("="))
      steps[step.id] = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]))
    }
    if (code !== 0) break
  }
  const outputs = Object.fromEntries(Object.entries(action.outputs).map(([k, o]) => [k, expand(o.value, inputs, steps, runnerTemp)]))
  const stepSummary = await readFile(summary, "utf8").catch(() => "")
  return { outputs, stepSummary, codes, stdout }
}

beforeAll(async () => {
  action = parse(await readFile(join(REPO_ROOT, "action.yml"), "utf8")) as Action
  ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
  dir = await makeTempDir("action")
  for (const name of ["app", "web"]) await pushImage(src.url, `team/${name}`, "1", { platforms: TWO_PLATFORMS, seed: `action-${name}`, ...SMALL })
  await writeFile(
    join(dir, "images.yaml"),
    `targetRepoPrefix: "${dst.host}/mirror/"\nimages:\n  - source: "${src.host}/team/app:1"\n  - source: "${src.host}/team/web:1"\n`
  )
}, 60_000)

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()])
  await removeDir(dir)
}, 60_000)

describe("action.yml", () => {
  test("a composite action whose Sync step hands every input to the script as INPUT_*", () => {
    expect(action.runs.using).toBe("composite")
    const sync = action.runs.steps.find((s) => s.id === "sync")!
    for (const name of Object.keys(action.inputs)) {
      expect(sync.env?.[`INPUT_${name.toUpperCase().replace(/-/g, "_")}`], name).toBe(`\${{ inputs.${name} }}`)
    }
  })

  test("a dry run: every step exits 0; outputs say 2 planned and name the report; the step summary is written", async () => {
    const run = await runAction("dry", { "images-file": "images.yaml", "dry-run": "true" })
    expect(run.codes.every((c) => c === 0), JSON.stringify(run)).toBe(true)
    expect(run.outputs).toMatchObject({ "exit-code": "0", total: "2", planned: "2", synced: "0", conflict: "0", failed: "0" })
    const report = JSON.parse(await readFile(run.outputs["report"]!, "utf8")) as { dryRun: boolean }
    expect(report.dryRun).toBe(true)
    expect(run.outputs["report"]).toStartWith(join(dir, "dry-runner-temp"))
    expect(run.stepSummary).toContain("planned")
  }, 120_000)

  test("a sync, then again: 2 synced, then 2 present; the target prefix input overrides the file's", async () => {
    const first = await runAction("sync", { "images-file": "images.yaml", "target-repo-prefix": `${dst.host}/other/` })
    expect(first.outputs, JSON.stringify(first)).toMatchObject({ "exit-code": "0", synced: "2" })
    expect(first.stdout).toContain(`${dst.host}/other/`)
    const second = await runAction("again", { "images-file": "images.yaml", "target-repo-prefix": `${dst.host}/other/` })
    expect(second.outputs).toMatchObject({ "exit-code": "0", present: "2", synced: "0" })
  }, 120_000)

  test("a bad input: the step fails with the CLI's exit code 2, and the output says so", async () => {
    const run = await runAction("bad", { "images-file": "missing.yaml" })
    expect(run.codes.at(-1)).toBe(2)
    expect(run.outputs["exit-code"]).toBe("2")
  }, 120_000)
})
