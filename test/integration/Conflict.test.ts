/**
 * Target tags are immutable: a tag that already holds other content is a conflict, left
 * untouched, and the other images of the run go on. Checked through the CLI and in-process.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { FetchHttpClient } from "@effect/platform"
import { BunContext } from "@effect/platform-bun"
import { Effect, Layer } from "effect"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage } from "../../demo/SampleImages.ts"
import { pipelineLayer } from "../../src/composition/Live.ts"
import { Pipeline } from "../../src/pipeline/Pipeline.ts"
import { skopeoDigest } from "../support/Skopeo.ts"
import { describeRun, lineFor, makeTempDir, readReport, removeDir, reportFor, runCli, SMALL, TWO_PLATFORMS, writeDefinition, writeRequests } from "./helpers.ts"
import type { CliRun, Report } from "./helpers.ts"
import type { ImageResult } from "../../src/model/Result.ts"
import { loadDefinition } from "../../src/definition/Load.ts"

let src: LocalRegistry
let dir: string

/** The source images every scenario uses: two that can be synced, one whose target tag is taken. */
let app: PushedImage
let tool: PushedImage
let contested: PushedImage

beforeAll(async () => {
  src = await startRegistry()
  dir = await makeTempDir("conflict")
  app = await pushImage(src.url, "team/app", "1.0", { platforms: TWO_PLATFORMS, seed: "app", ...SMALL })
  tool = await pushImage(src.url, "team/tool", "2.0", { platforms: TWO_PLATFORMS, seed: "tool", ...SMALL })
  contested = await pushImage(src.url, "team/contested", "3.0", { platforms: TWO_PLATFORMS, seed: "contested-new", ...SMALL })
}, 60_000)

afterAll(async () => {
  await src?.stop()
  await removeDir(dir)
}, 60_000)

/** The target repository of a source repository of `src` under the "mirror/" prefix ("127.0.0.1:PORT" → "127.0.0.1-PORT"). */
const targetRepo = (repository: string): string => `mirror/${src.host.replace(":", "-")}/${repository}`

/** A fresh target whose `contested` tag already holds another image; returns that image. */
const targetWithTakenTag = async (): Promise<{ readonly dst: LocalRegistry; readonly old: PushedImage }> => {
  const dst = await startRegistry()
  const old = await pushImage(dst.url, targetRepo("team/contested"), "3.0", {
    platforms: TWO_PLATFORMS,
    seed: "contested-old",
    ...SMALL
  })
  // only the run's own requests count
  await dst.resetRequests()
  return { dst, old }
}

const images = () => [
  { source: `${src.host}/team/app:1.0` },
  { source: `${src.host}/team/contested:3.0` },
  { source: `${src.host}/team/tool:2.0` }
]

describe("conflict through the CLI", () => {
  let dst: LocalRegistry
  let old: PushedImage
  let run: CliRun
  let report: Report
  let contestedTarget: string

  beforeAll(async () => {
    ;({ dst, old } = await targetWithTakenTag())
    contestedTarget = `${dst.host}/${targetRepo("team/contested")}:3.0`
    const file = await writeDefinition(dir, "cli.yaml", { targetRepoPrefix: `${dst.host}/mirror/`, images: images() })
    const reportFile = join(dir, "cli-report.json")
    run = await runCli(["-i", file, "--report", reportFile], { home: dir })
    report = await readReport(reportFile)
  }, 60_000)

  afterAll(async () => {
    await dst?.stop()
  }, 60_000)

  test("the taken tag is reported as a conflict line naming both digests", () => {
    const line = lineFor(run, `${src.host}/team/contested:3.0`)
    expect(line.status, describeRun(run)).toBe("conflict")
    expect(line.target).toBe(contestedTarget)
    expect(line.error).toContain(old.digest)
    expect(line.error).toContain(contested.digest)
    expect(reportFor(report, `${src.host}/team/contested:3.0`).status).toBe("conflict")
    expect(reportFor(report, `${src.host}/team/contested:3.0`).errorType).toBe("TagConflict")
  })

  test("exit status is 1", () => {
    expect(run.code, describeRun(run)).toBe(1)
    expect(report.exitCode).toBe(1)
  })

  test("the target tag still holds its old digest", async () => {
    expect(await skopeoDigest(contestedTarget)).toBe(old.digest)
  })

  test("no write touched the contested repository", async () => {
    const writes = await writeRequests(dst)
    expect(writes.filter((w) => w.path.startsWith(`/v2/${targetRepo("team/contested")}/`))).toEqual([])
    // the run did write the other images, so the filter above is meaningful
    expect(writes.some((w) => w.path.startsWith(`/v2/${targetRepo("team/app")}/`))).toBe(true)
  })

  test("the other images of the same run are synced", async () => {
    for (
      const [source, image, repo] of [
        [`${src.host}/team/app:1.0`, app, "team/app"],
        [`${src.host}/team/tool:2.0`, tool, "team/tool"]
      ] as const
    ) {
      expect(lineFor(run, source).status, describeRun(run)).toBe("synced")
      expect(reportFor(report, source).status).toBe("synced")
      expect(await skopeoDigest(`${dst.host}/${targetRepo(repo)}:${source.split(":").pop()}`)).toBe(image.digest)
    }
    expect(run.stdout).toContain("3 images: 2 synced, 0 present, 0 planned, 1 conflict, 0 failed")
  })
})

describe("conflict through the in-process pipeline", () => {
  let dst: LocalRegistry
  let old: PushedImage
  let results: ReadonlyArray<ImageResult>
  let seen: Array<ImageResult>

  beforeAll(async () => {
    ;({ dst, old } = await targetWithTakenTag())
    const file = await writeDefinition(dir, "lib.yaml", { targetRepoPrefix: `${dst.host}/mirror/`, images: images() })
    seen = []
    const program = Effect.gen(function*() {
      const definition = yield* loadDefinition(file)
      const pipeline = yield* Pipeline
      return yield* pipeline.syncAll(definition, (r) => Effect.sync(() => void seen.push(r)))
    }).pipe(
      Effect.provide(
        pipelineLayer({ dryRun: false, concurrency: 2, credentials: [] }).pipe(
          // the platform: HTTP, and processes for transports that run tools
          Layer.provide(Layer.merge(FetchHttpClient.layer, BunContext.layer))
        )
      )
    )
    results = await Effect.runPromise(program)
  }, 60_000)

  afterAll(async () => {
    await dst?.stop()
  }, 60_000)

  test("syncAll returns a TagConflict result for the taken tag and synced for the others, in definition order", () => {
    expect(results.map((r) => r.source)).toEqual(images().map((i) => i.source))
    expect(results.map((r) => r.status)).toEqual(["synced", "conflict", "synced"])
    const conflict = results[1]!
    expect(conflict.errorType).toBe("TagConflict")
    expect(conflict.digest).toBe(contested.digest)
    expect(conflict.error).toContain(old.digest)
    expect(seen).toHaveLength(3)
  })

  test("the taken tag still holds its old digest and the synced images match their sources", async () => {
    expect(await skopeoDigest(`${dst.host}/${targetRepo("team/contested")}:3.0`)).toBe(old.digest)
    expect(await skopeoDigest(`${dst.host}/${targetRepo("team/app")}:1.0`)).toBe(app.digest)
    expect(await skopeoDigest(`${dst.host}/${targetRepo("team/tool")}:2.0`)).toBe(tool.digest)
  })
})
