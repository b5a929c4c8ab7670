/**
 * The CI examples cannot run here (no GitHub, no docker), so their structure is checked: the
 * workflow parses and has the promised jobs and triggers, its matrix matches `--shard I/N`, and
 * the Dockerfile copies what exists and starts the CLI.
 */
import { describe, expect, test } from "bun:test"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import { Env } from "../../src/cli/Config.ts"

const ROOT = join(import.meta.dir, "..", "..")
const read = (path: string) => readFileSync(join(ROOT, path), "utf8")

interface Step {
  readonly name?: string
  readonly uses?: string
  readonly run?: string
  readonly if?: string
  readonly env?: Record<string, string>
  readonly with?: Record<string, unknown>
}

interface Job {
  readonly if: string
  readonly strategy?: { readonly "fail-fast"?: boolean; readonly matrix?: { readonly shard?: ReadonlyArray<number> } }
  readonly steps: ReadonlyArray<Step>
}

interface Workflow {
  readonly on: {
    readonly pull_request: { readonly paths: ReadonlyArray<string> }
    readonly push: { readonly branches: ReadonlyArray<string>; readonly paths: ReadonlyArray<string> }
    readonly schedule: ReadonlyArray<{ readonly cron: string }>
  }
  readonly env: Record<string, string>
  readonly jobs: Record<string, Job>
}

describe("examples/github-actions/image-sync.yml", () => {
  const text = read("examples/github-actions/image-sync.yml")
  const workflow = parse(text) as Workflow
  const runs = (job: Job) => job.steps.flatMap((s) => (s.run === undefined ? [] : [s.run])).join("\n")

  test("triggers: pull requests and pushes to main that edit the images file, nightly schedule", () => {
    expect(workflow.on.pull_request.paths).toContain(workflow.env[Env.imagesFile]!)
    expect(workflow.on.push.branches).toEqual(["main"])
    expect(workflow.on.push.paths).toContain(workflow.env[Env.imagesFile]!)
    expect(workflow.on.schedule[0]!.cron).toMatch(/^\d+ \d+ \* \* \*$/)
  })

  test("pull requests get a dry run that uploads the JUnit XML and the report", () => {
    const job = workflow.jobs["dry-run"]!
    expect(job.if).toBe("github.event_name == 'pull_request'")
    expect(runs(job)).toContain("bun run sync --dry-run")
    expect(runs(job)).toContain("--junit reports/junit.xml")
    // unpinned entries and upstream drift fail the pull request; the dry run still runs
    expect(runs(job)).toContain("bun run sync pin --check")
    expect(job.steps.find((s) => s.run?.includes("--dry-run"))?.if).toBe("always()")
    expect(job.steps.some((s) => s.uses?.startsWith("actions/upload-artifact@") && s.if === "always()")).toBe(true)
  })

  test("sync runs as a matrix whose shards match --shard I/N", () => {
    const job = workflow.jobs["sync"]!
    expect(job.if).toBe("github.event_name != 'pull_request'")
    const shards = job.strategy?.matrix?.shard ?? []
    expect(shards).toEqual(Array.from({ length: shards.length }, (_, i) => i + 1))
    expect(job.strategy?.["fail-fast"]).toBe(false)
    // the sync is the repository's own action (action.yml), its shard input I/N
    const sync = job.steps.find((s) => s.uses === "./")
    expect((sync as { with?: Record<string, string> } | undefined)?.with?.["shard"]).toBe(`\${{ matrix.shard }}/${shards.length}`)
  })

  test("secrets reach the syncer only through its environment variables, key files in RUNNER_TEMP", () => {
    const job = workflow.jobs["sync"]!
    expect(runs(job)).toContain(`echo "${Env.targetRepoAuthKey}=$RUNNER_TEMP/target-key.json" >> "$GITHUB_ENV"`)
    expect(runs(job)).toContain(`echo "${Env.signKey}=$RUNNER_TEMP/cosign.key" >> "$GITHUB_ENV"`)
    // a secret is never interpolated into a script, only passed as env
    for (const step of job.steps) expect(step.run ?? "").not.toContain("secrets.")
    expect(text).toContain("umask 077")
  })
})

describe("Dockerfile", () => {
  const dockerfile = read("Dockerfile")
  const ignored = read(".dockerignore").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"))

  test("installs skopeo on a Debian base with bun, and the locked production dependencies", () => {
    expect(dockerfile).toMatch(/^FROM oven\/bun:\$\{BUN_VERSION\}-debian/m)
    expect(dockerfile).toContain("apt-get install -y --no-install-recommends skopeo")
    expect(dockerfile).toContain("bun install --frozen-lockfile --production")
    const pinned = /^ARG BUN_VERSION=(\S+)$/m.exec(dockerfile)?.[1]
    expect(pinned).toBe(Bun.version)
  })

  test("copies only what exists and is not ignored, and starts the CLI", () => {
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(" "))
    expect(copied.length).toBeGreaterThan(0)
    for (const path of copied) {
      expect({ path, exists: existsSync(join(ROOT, path)) }).toEqual({ path, exists: true })
      expect({ path, ignored: ignored.includes(path) }).toEqual({ path, ignored: false })
    }
    expect(dockerfile).toContain("ENTRYPOINT [\"bun\", \"/app/src/cli/bin.ts\"]")
    expect(copied).toContain("src")
    expect(existsSync(join(ROOT, "src/cli/bin.ts"))).toBe(true)
    expect(dockerfile).toMatch(/^USER bun$/m)
  })
})
