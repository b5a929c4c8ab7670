/**
 * The example third-party transport (examples/custom-transport/transport.ts), loaded by path
 * with `--transport`, runs the whole pipeline on real registries and writes its copy log.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdir, readFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../../demo/LocalRegistry.ts"
import { pushImage } from "../../../demo/SampleImages.ts"
import type { PushedImage } from "../../../demo/SampleImages.ts"
import { skopeoDigest } from "../../support/Skopeo.ts"
import { AMD64, describeRun, lineFor, makeTempDir, removeDir, runCli, SMALL, TWO_PLATFORMS, writeDefinition, writeRequests } from "../../integration/helpers.ts"
import type { CliRun } from "../../integration/helpers.ts"
import type { CopyLogEntry } from "../../../examples/custom-transport/transport.ts"

/** Starting registries and running the CLI can take more than bun's default 5 s per test or hook. */
const TIMEOUT = 120_000
/** As a user would type it, relative to the checkout (the CLI's working directory). */
const MODULE = "examples/custom-transport/transport.ts"

let src: LocalRegistry
let dst: LocalRegistry
let dir: string
let home: string
let imagesFile: string
let logFile: string
let app: PushedImage
let tool: PushedImage
let first: CliRun

/** source as written in the definition → its target reference. */
const images = () => [
  { source: `${src.host}/team/app:1`, pushed: app, target: `${dst.host}/mirror/${src.host.replace(":", "-")}/team/app:1` },
  { source: `${src.host}/team/tool:2`, pushed: tool, target: `${dst.host}/mirror/${src.host.replace(":", "-")}/team/tool:2` }
]

const readLog = async (): Promise<Array<CopyLogEntry>> =>
  (await readFile(logFile, "utf8").catch(() => "")).split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as CopyLogEntry)

beforeAll(async () => {
  ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
  dir = await makeTempDir("custom-transport")
  home = join(dir, "home")
  await mkdir(home)
  app = await pushImage(src.url, "team/app", "1", { platforms: TWO_PLATFORMS, seed: "custom-app", ...SMALL })
  tool = await pushImage(src.url, "team/tool", "2", { platforms: AMD64, index: false, seed: "custom-tool", ...SMALL })
  imagesFile = await writeDefinition(dir, "images.yaml", {
    targetRepoPrefix: `${dst.host}/mirror/`,
    images: [{ source: `${src.host}/team/app:1` }, { source: `${src.host}/team/tool:2`, amd64Only: true }]
  })
  logFile = join(dir, "copies.jsonl")
  first = await runCli(["-i", imagesFile, "--transport", MODULE], { home, env: { CUSTOM_TRANSPORT_LOG: logFile } })
}, TIMEOUT)

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()])
  await removeDir(dir)
}, TIMEOUT)

describe("examples/custom-transport loaded with --transport PATH", () => {
  test("every image is synced, exit 0", () => {
    expect(first.code, describeRun(first)).toBe(0)
    for (const { source, pushed } of images()) {
      const line = lineFor(first, source)
      expect(line.status, line.line).toBe("synced")
      expect(line.digest).toBe(pushed.digest)
    }
  }, TIMEOUT)

  test("every target digest equals its source digest", async () => {
    for (const { target, pushed } of images()) expect(await skopeoDigest(target), target).toBe(pushed.digest)
  }, TIMEOUT)

  test("the copy log has one JSON line per copied image with its source, target and digest", async () => {
    const log = await readLog()
    expect(log).toHaveLength(2)
    for (const { source, target, pushed } of images()) {
      const entry = log.find((e) => e.target === target)
      expect(entry, target).toBeDefined()
      expect(entry!.transport).toBe("mirror-logging")
      expect(entry!.source).toBe(source)
      expect(entry!.digest).toBe(pushed.digest)
      expect(entry!.mediaType).toBe(pushed.mediaType)
    }
  }, TIMEOUT)

  test("a second run finds every image present, writes nothing and logs no copy", async () => {
    await dst.resetRequests()
    const second = await runCli(["-i", imagesFile, "--transport", MODULE], { home, env: { CUSTOM_TRANSPORT_LOG: logFile } })
    expect(second.code, describeRun(second)).toBe(0)
    for (const { source } of images()) expect(lineFor(second, source).status).toBe("present")
    expect(await writeRequests(dst)).toEqual([])
    expect(await readLog()).toHaveLength(2)
  }, TIMEOUT)
})
