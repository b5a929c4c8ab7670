/**
 * Platform rules of Resolve, end to end: an index is copied whole; a single-platform manifest
 * only with `amd64Only: true` and a linux/amd64 config. Docker media types (manifest list,
 * schema 2 manifest) behave exactly like their OCI counterparts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage, SAMPLE_MEDIA_TYPES } from "../../demo/SampleImages.ts"
import type { PushedImage, SampleImageSpec } from "../../demo/SampleImages.ts"
import { skopeoDigest, skopeoInspectRaw } from "../support/Skopeo.ts"
import {
  AMD64,
  describeRun,
  headManifest,
  lineFor,
  makeTempDir,
  readReport,
  removeDir,
  reportFor,
  runCli,
  SMALL,
  TWO_PLATFORMS,
  writeDefinition,
  writeRequests
} from "./helpers.ts"
import type { CliRun, Report } from "./helpers.ts"

const ARM64 = [{ os: "linux", architecture: "arm64", variant: "v8" }] as const

/** Name → image in the source registry (repository "plat/<name>", tag "1"). */
const IMAGES = {
  ociIndexAmd64Only: { platforms: TWO_PLATFORMS, seed: "oci-index", ...SMALL },
  dockerList: { platforms: TWO_PLATFORMS, format: "docker", seed: "docker-list", ...SMALL },
  dockerSingleAmd64: { platforms: AMD64, index: false, format: "docker", seed: "docker-amd64", ...SMALL },
  ociSingleAmd64: { platforms: AMD64, index: false, seed: "oci-amd64", ...SMALL },
  ociSingleNoFlag: { platforms: AMD64, index: false, seed: "oci-no-flag", ...SMALL },
  dockerSingleNoFlag: { platforms: AMD64, index: false, format: "docker", seed: "docker-no-flag", ...SMALL },
  ociArm64: { platforms: ARM64, index: false, seed: "oci-arm64", ...SMALL },
  dockerArm64: { platforms: ARM64, index: false, format: "docker", seed: "docker-arm64", ...SMALL }
} as const satisfies Record<string, SampleImageSpec>
type Name = keyof typeof IMAGES

let src: LocalRegistry
let dst: LocalRegistry
let dir: string
const pushed = {} as Record<Name, PushedImage>

const source = (name: Name): string => `${src.host}/plat/${name.toLowerCase()}:1`
const targetRepo = (name: Name): string => `platforms/${src.host.replace(":", "-")}/plat/${name.toLowerCase()}`

beforeAll(async () => {
  ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
  dir = await makeTempDir("platforms")
  for (const [name, spec] of Object.entries(IMAGES) as Array<[Name, SampleImageSpec]>) {
    pushed[name] = await pushImage(src.url, `plat/${name.toLowerCase()}`, "1", spec)
  }
}, 60_000)

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()])
  await removeDir(dir)
}, 60_000)

describe("images that may be synced", () => {
  let run: CliRun
  let report: Report

  beforeAll(async () => {
    const file = await writeDefinition(dir, "good.yaml", {
      targetRepoPrefix: `${dst.host}/platforms/`,
      images: [
        { source: source("ociIndexAmd64Only"), amd64Only: true },
        { source: source("dockerList") },
        { source: source("dockerSingleAmd64"), amd64Only: true },
        { source: source("ociSingleAmd64"), amd64Only: true }
      ]
    })
    const reportFile = join(dir, "good-report.json")
    run = await runCli(["-i", file, "--report", reportFile], { home: dir })
    report = await readReport(reportFile)
  }, 60_000)

  test("the run exits 0", () => {
    expect(run.code, describeRun(run)).toBe(0)
  })

  test("amd64Only on an index: synced whole (every child) with a warning on stderr", async () => {
    const image = pushed.ociIndexAmd64Only
    expect(lineFor(run, source("ociIndexAmd64Only")).status, describeRun(run)).toBe("synced")
    expect(await skopeoDigest(`${dst.host}/${targetRepo("ociIndexAmd64Only")}:1`)).toBe(image.digest)
    expect(image.children).toHaveLength(2)
    for (const child of image.children) {
      expect((await headManifest(dst.url, targetRepo("ociIndexAmd64Only"), child.digest)).status).toBe(200)
    }
    const warning = run.stderr.split("\n").find((l) => l.includes(source("ociIndexAmd64Only")) && l.includes("amd64Only"))
    expect(warning, describeRun(run)).toBeDefined()
    expect(warning).toMatch(/^warn/i)
    expect(warning).toContain("no effect")
    expect(reportFor(report, source("ociIndexAmd64Only")).warnings?.join(" ")).toContain("amd64Only")
    // the warning is a log line, not a result line
    expect(run.stdout).not.toContain("no effect")
  })

  test("a docker manifest list is synced byte for byte, children included, media type kept", async () => {
    const image = pushed.dockerList
    expect(lineFor(run, source("dockerList")).status, describeRun(run)).toBe("synced")
    const target = `${dst.host}/${targetRepo("dockerList")}:1`
    expect(await skopeoDigest(target)).toBe(image.digest)
    const raw = JSON.parse(new TextDecoder().decode(await skopeoInspectRaw(target))) as { mediaType: string }
    expect(raw.mediaType).toBe(SAMPLE_MEDIA_TYPES.docker.index)
    for (const child of image.children) {
      const head = await headManifest(dst.url, targetRepo("dockerList"), child.digest)
      expect(head.status).toBe(200)
      expect(head.mediaType).toBe(SAMPLE_MEDIA_TYPES.docker.manifest)
    }
    // no warning for an index without amd64Only
    expect(run.stderr.split("\n").filter((l) => l.startsWith("warn:") && l.includes(source("dockerList")))).toEqual([])
  })

  test("single linux/amd64 manifests with amd64Only are synced, docker and OCI alike", async () => {
    for (const name of ["dockerSingleAmd64", "ociSingleAmd64"] as const) {
      expect(lineFor(run, source(name)).status, describeRun(run)).toBe("synced")
      const target = `${dst.host}/${targetRepo(name)}:1`
      expect(await skopeoDigest(target)).toBe(pushed[name].digest)
      expect((await headManifest(dst.url, targetRepo(name), "1")).mediaType).toBe(pushed[name].mediaType)
    }
    expect(pushed.dockerSingleAmd64.mediaType).toBe(SAMPLE_MEDIA_TYPES.docker.manifest)
    expect(pushed.ociSingleAmd64.mediaType).toBe(SAMPLE_MEDIA_TYPES.oci.manifest)
  })
})

describe("images that must not be synced", () => {
  let run: CliRun
  let report: Report
  let writes: ReadonlyArray<unknown>

  beforeAll(async () => {
    const file = await writeDefinition(dir, "bad.yaml", {
      targetRepoPrefix: `${dst.host}/platforms/`,
      images: [
        { source: source("ociSingleNoFlag") },
        { source: source("dockerSingleNoFlag") },
        { source: source("ociArm64"), amd64Only: true },
        { source: source("dockerArm64"), amd64Only: true }
      ]
    })
    const reportFile = join(dir, "bad-report.json")
    await dst.resetRequests()
    run = await runCli(["-i", file, "--report", reportFile], { home: dir })
    writes = await writeRequests(dst)
    report = await readReport(reportFile)
  }, 60_000)

  test("a single-platform source without amd64Only fails, telling to add \"amd64Only: true\"", () => {
    for (const name of ["ociSingleNoFlag", "dockerSingleNoFlag"] as const) {
      const line = lineFor(run, source(name))
      expect(line.status, describeRun(run)).toBe("failed")
      expect(line.error).toContain("amd64Only: true")
      expect(reportFor(report, source(name)).error).toContain("amd64Only: true")
      expect(reportFor(report, source(name)).errorType).toBe("PlatformMismatch")
    }
  })

  test("amd64Only on a linux/arm64 single manifest fails naming \"linux/arm64\"", () => {
    for (const name of ["ociArm64", "dockerArm64"] as const) {
      const line = lineFor(run, source(name))
      expect(line.status, describeRun(run)).toBe("failed")
      expect(line.error).toContain("linux/arm64")
      expect(reportFor(report, source(name)).errorType).toBe("PlatformMismatch")
    }
  })

  test("the run exits 1 and nothing was written to the target", async () => {
    expect(run.code, describeRun(run)).toBe(1)
    expect(writes).toEqual([])
    for (const name of ["ociSingleNoFlag", "dockerSingleNoFlag", "ociArm64", "dockerArm64"] as const) {
      expect((await headManifest(dst.url, targetRepo(name), "1")).status, name).toBe(404)
    }
  })
})
