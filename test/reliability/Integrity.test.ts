/**
 * Integrity: content that does not match its digest never lands. A FaultProxy in front of a
 * real source registry corrupts one byte of a layer, serves a layer cut short behind a
 * matching Content-Length, corrupts an index child, or cuts a layer off on every try. Each
 * such image fails on its own (a DigestMismatch naming expected and actual digests, or
 * "unavailable after retries"); its target tag is never written; the clean image syncs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { createHash } from "node:crypto"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { buildImage, pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage, SampleImageSpec } from "../../demo/SampleImages.ts"
import { listTags, startFaultProxy, verifyTree } from "../support/FaultProxy.ts"
import type { FaultProxy, ProxiedRequest } from "../support/FaultProxy.ts"
import {
  AMD64,
  describeRun,
  headBlob,
  headManifest,
  lineFor,
  makeTempDir,
  readReport,
  removeDir,
  reportFor,
  runCli,
  TWO_PLATFORMS,
  writeDefinition
} from "../integration/helpers.ts"
import type { CliRun, Report } from "../integration/helpers.ts"

const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`

/** The images: one per way of going wrong, and one clean. Layers of 8 KiB seeded bytes. */
const IMAGES = {
  corrupt: { platforms: TWO_PLATFORMS, seed: "integrity-corrupt", layers: 1, layerSize: 8192 },
  short: { platforms: AMD64, index: false, seed: "integrity-short", layers: 1, layerSize: 8192 },
  child: { platforms: TWO_PLATFORMS, seed: "integrity-child", layers: 1, layerSize: 8192 },
  cut: { platforms: AMD64, index: false, seed: "integrity-cut", layers: 1, layerSize: 8192 },
  clean: { platforms: TWO_PLATFORMS, seed: "integrity-clean", layers: 1, layerSize: 8192 }
} satisfies Record<string, SampleImageSpec>
type Name = keyof typeof IMAGES
const NAMES = Object.keys(IMAGES) as Array<Name>

let src: LocalRegistry
let dst: LocalRegistry
let proxy: FaultProxy
let dir: string
let run: CliRun
let report: Report
const pushed = {} as Record<Name, PushedImage>

const repository = (name: Name) => `integrity/${name}`
const sourceOf = (name: Name) => `${proxy.host}/${repository(name)}:1`
const targetRepository = (name: Name) => `mirror/${proxy.host.replace(":", "-")}/${repository(name)}`
const targetOf = (name: Name) => `${dst.host}/${targetRepository(name)}:1`

/** The biggest blob of an image (its layer) and its bytes. */
const layerOf = (name: Name) => {
  const [digest, bytes] = [...buildImage(IMAGES[name]).blobs.entries()].sort((a, b) => b[1].length - a[1].length)[0]!
  return { digest, bytes }
}

/** The proxy's record of the faulted GETs of one path. */
const faultedGets = (path: string): Array<ProxiedRequest> => proxy.requests().filter((r) => r.method === "GET" && r.pathname === path && r.fault !== undefined)

beforeAll(async () => {
  ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
  dir = await makeTempDir("integrity")
  for (const name of NAMES) pushed[name] = await pushImage(src.url, repository(name), "1", IMAGES[name])
  const blobPath = (name: Name) => `/v2/${repository(name)}/blobs/${layerOf(name).digest}`
  const childPath = `/v2/${repository("child")}/manifests/${pushed.child.children[0]!.digest}`
  proxy = await startFaultProxy({
    upstream: src.url,
    seed: "integrity",
    rules: [
      { match: (m, path) => m === "GET" && path === blobPath("corrupt"), fault: "corrupt-byte" },
      { match: (m, path) => m === "GET" && path === blobPath("short"), fault: "short-body" },
      { match: (m, path) => m === "GET" && path === childPath, fault: "corrupt-byte" },
      { match: (m, path) => m === "GET" && path === blobPath("cut"), fault: "truncate" }
    ]
  })
  const file = await writeDefinition(dir, "images.yaml", {
    targetRepoPrefix: `${dst.host}/mirror/`,
    images: NAMES.map((name) => ({ source: sourceOf(name), ...(IMAGES[name].platforms.length === 1 ? { amd64Only: true } : {}) }))
  })
  const reportPath = join(dir, "report.json")
  run = await runCli(["-i", file, "--report", reportPath], { home: dir })
  report = await readReport(reportPath)
}, 120_000)

afterAll(async () => {
  await proxy?.stop()
  await Promise.all([src?.stop(), dst?.stop()])
  await removeDir(dir)
}, 60_000)

describe("must-hold 2: a corrupted blob never lands", () => {
  test("one flipped byte in a layer: the image failed with a DigestMismatch naming the expected and the actual digest", () => {
    const layer = layerOf("corrupt")
    const [faulted] = faultedGets(`/v2/${repository("corrupt")}/blobs/${layer.digest}`)
    expect(faulted?.fault).toBe("corrupt-byte")
    const corrupted = Uint8Array.from(layer.bytes)
    corrupted[faulted!.faultOffset!] = corrupted[faulted!.faultOffset!]! ^ 0xff
    const line = lineFor(run, sourceOf("corrupt"))
    expect(line.status, describeRun(run)).toBe("failed")
    expect(line.error).toContain(`expected ${layer.digest}, got ${sha256(corrupted)}`)
    expect(reportFor(report, sourceOf("corrupt"))).toMatchObject({ status: "failed", errorType: "DigestMismatch" })
  })

  test("a flipped byte is not retried: the corrupt layer was read once", () => {
    const path = `/v2/${repository("corrupt")}/blobs/${layerOf("corrupt").digest}`
    expect(proxy.requests().filter((r) => r.method === "GET" && r.pathname === path)).toHaveLength(1)
  })

  test("its target tag is absent (HEAD 404) and the corrupt layer is not in the target", async () => {
    expect((await headManifest(dst.url, targetRepository("corrupt"), "1")).status).toBe(404)
    expect(await headBlob(dst.url, targetRepository("corrupt"), layerOf("corrupt").digest)).toBe(404)
  })
})

describe("a body cut short behind a matching Content-Length (a complete-looking response)", () => {
  test("the image failed with a DigestMismatch naming expected and actual digests and the byte counts", () => {
    const layer = layerOf("short")
    const [faulted] = faultedGets(`/v2/${repository("short")}/blobs/${layer.digest}`)
    expect(faulted?.fault).toBe("short-body")
    const served = layer.bytes.subarray(0, faulted!.faultOffset!)
    const line = lineFor(run, sourceOf("short"))
    expect(line.status, describeRun(run)).toBe("failed")
    expect(line.error).toContain(`(${served.length} of ${layer.bytes.length} bytes)`)
    expect(line.error).toContain(`expected ${layer.digest}, got ${sha256(served)}`)
    expect(reportFor(report, sourceOf("short"))).toMatchObject({ status: "failed", errorType: "DigestMismatch" })
  })

  test("its target tag is absent and the short layer is not in the target", async () => {
    expect((await headManifest(dst.url, targetRepository("short"), "1")).status).toBe(404)
    expect(await headBlob(dst.url, targetRepository("short"), layerOf("short").digest)).toBe(404)
  })
})

describe("a corrupted index child", () => {
  test("the image failed with a DigestMismatch naming the child's digest and what was served; tag and child absent", async () => {
    const child = pushed.child.children[0]!
    const [faulted] = faultedGets(`/v2/${repository("child")}/manifests/${child.digest}`)
    expect(faulted?.fault).toBe("corrupt-byte")
    const bytes = Uint8Array.from(buildImage(IMAGES.child).children[0]!.bytes)
    bytes[faulted!.faultOffset!] = bytes[faulted!.faultOffset!]! ^ 0xff
    const line = lineFor(run, sourceOf("child"))
    expect(line.status, describeRun(run)).toBe("failed")
    expect(line.error).toContain(`expected ${child.digest}, got ${sha256(bytes)}`)
    expect(reportFor(report, sourceOf("child"))).toMatchObject({ status: "failed", errorType: "DigestMismatch" })
    expect((await headManifest(dst.url, targetRepository("child"), "1")).status).toBe(404)
    expect((await headManifest(dst.url, targetRepository("child"), child.digest)).status).toBe(404)
  })
})

describe("a layer cut off on every try (true Content-Length, early close)", () => {
  test("resumed and retried, then the image failed \"unavailable after retries\"; its tag and the layer are absent", async () => {
    const layer = layerOf("cut")
    const line = lineFor(run, sourceOf("cut"))
    expect(line.status, describeRun(run)).toBe("failed")
    expect(line.error).toContain("unavailable after retries")
    const gets = proxy.requests().filter((r) => r.method === "GET" && r.pathname === `/v2/${repository("cut")}/blobs/${layer.digest}`)
    // resumed with Range at least once, and retried as a whole (from byte 0) more than once
    expect(gets.some((g) => g.headers["range"] !== undefined)).toBe(true)
    expect(gets.filter((g) => g.headers["range"] === undefined).length).toBeGreaterThan(1)
    expect(gets.every((g) => g.fault === "truncate")).toBe(true)
    expect((await headManifest(dst.url, targetRepository("cut"), "1")).status).toBe(404)
    expect(await headBlob(dst.url, targetRepository("cut"), layer.digest)).toBe(404)
  })
})

describe("the rest of the run", () => {
  test("the clean image synced byte for byte; exit 1 because of the others", async () => {
    expect(run.code, describeRun(run)).toBe(1)
    expect(lineFor(run, sourceOf("clean")).status).toBe("synced")
    const tree = await verifyTree(dst.url, targetRepository("clean"), "1")
    expect(tree.digest).toBe(pushed.clean.digest)
    expect(tree.problems).toEqual([])
  })

  test("the only tag in the target is the clean image's", async () => {
    expect(await listTags(dst.url)).toEqual([{ repository: targetRepository("clean"), tag: "1" }])
    expect(report.images.map((i) => `${i.target} ${i.status}`).sort()).toEqual(
      NAMES.map((n) => `${targetOf(n)} ${n === "clean" ? "synced" : "failed"}`).sort()
    )
  })
})
