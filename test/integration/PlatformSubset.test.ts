/**
 * `platforms:` end to end, on real docker-registry processes with skopeo as the checker: a
 * four-platform index is written as an index of our own holding only the listed children
 * (byte for byte, annotated with the source index's digest); the same list gives the same
 * digest on the next run (present); another list for the same tag is a conflict; a platform
 * the index lacks fails naming what it offers; a single-platform image passes when listed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage, pushRawManifest, SAMPLE_MEDIA_TYPES } from "../../demo/SampleImages.ts"
import type { PushedImage } from "../../demo/SampleImages.ts"
import { SOURCE_INDEX_ANNOTATION } from "../../src/model/PlatformSubset.ts"
import { signatureTag } from "../../src/model/Signatures.ts"
import { skopeoDigest, skopeoInspectRaw } from "../support/Skopeo.ts"
import {
  describeRun,
  headManifest,
  lineFor,
  makeTempDir,
  readReport,
  removeDir,
  reportFor,
  runCli,
  settledRequests,
  SMALL,
  writeDefinition,
  writeRequests
} from "./helpers.ts"
import type { CliRun, Report } from "./helpers.ts"

const FOUR = [
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "arm64", variant: "v8" },
  { os: "linux", architecture: "arm", variant: "v7" },
  { os: "linux", architecture: "s390x" }
] as const

interface IndexJson {
  readonly mediaType: string
  readonly manifests: ReadonlyArray<{ readonly digest: string; readonly platform?: { readonly architecture: string } }>
  readonly annotations?: Record<string, string>
}

const decode = (bytes: Uint8Array): IndexJson => JSON.parse(new TextDecoder().decode(bytes)) as IndexJson

let src: LocalRegistry
let dst: LocalRegistry
let dir: string
let four: PushedImage
let arm64: PushedImage

const multi = (): string => `${src.host}/sub/multi:1`
const single = (): string => `${src.host}/sub/arm64:1`
const targetRepo = (repo: string): string => `subset/${src.host.replace(":", "-")}/sub/${repo}`

beforeAll(async () => {
  ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
  dir = await makeTempDir("platform-subset")
  four = await pushImage(src.url, "sub/multi", "1", { platforms: FOUR, seed: "subset-four", ...SMALL })
  arm64 = await pushImage(src.url, "sub/arm64", "1", { platforms: [FOUR[1]], index: false, seed: "subset-arm64", ...SMALL })
}, 60_000)

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()])
  await removeDir(dir)
}, 60_000)

describe("platforms: [linux/amd64, linux/arm64] on a four-platform index", () => {
  let run: CliRun
  let report: Report
  let file: string

  beforeAll(async () => {
    file = await writeDefinition(dir, "two.yaml", {
      targetRepoPrefix: `${dst.host}/subset/`,
      images: [{ source: multi(), platforms: ["linux/amd64", "linux/arm64"] }]
    })
    const reportFile = join(dir, "two-report.json")
    run = await runCli(["-i", file, "--report", reportFile], { home: dir })
    report = await readReport(reportFile)
  }, 60_000)

  test("synced, exit 0", () => {
    expect(run.code, describeRun(run)).toBe(0)
    expect(lineFor(run, multi()).status).toBe("synced")
  })

  test("the target tag holds an index of exactly the two listed children, each byte-identical to the source's", async () => {
    const target = `${dst.host}/${targetRepo("multi")}:1`
    const written = decode(await skopeoInspectRaw(target))
    expect(written.manifests.map((m) => m.platform?.architecture)).toEqual(["amd64", "arm64"])
    expect(written.manifests.map((m) => m.digest)).toEqual([four.children[0]!.digest, four.children[1]!.digest])
    for (const child of written.manifests) {
      const ours = await skopeoInspectRaw(`${dst.host}/${targetRepo("multi")}@${child.digest}`)
      const theirs = await skopeoInspectRaw(`${src.host}/sub/multi@${child.digest}`)
      expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true)
    }
    // the children left out were not copied
    for (const left of four.children.slice(2)) {
      expect((await headManifest(dst.url, targetRepo("multi"), left.digest)).status).toBe(404)
    }
  })

  test("the index names the source index it was cut from; the report gives both digests", async () => {
    const target = `${dst.host}/${targetRepo("multi")}:1`
    const written = decode(await skopeoInspectRaw(target))
    expect(written.annotations?.[SOURCE_INDEX_ANNOTATION]).toBe(four.digest)
    expect(written.mediaType).toBe(four.mediaType)
    const image = reportFor(report, multi())
    expect(image.digest).toBe(await skopeoDigest(target))
    expect(image.digest).not.toBe(four.digest)
    expect(image.sourceDigest).toBe(four.digest)
  })

  test("a second run with the same list finds it present and writes nothing", async () => {
    await dst.resetRequests()
    const again = await runCli(["-i", file], { home: dir })
    expect(again.code, describeRun(again)).toBe(0)
    expect(lineFor(again, multi()).status).toBe("present")
    expect(lineFor(again, multi()).digest).toBe(reportFor(report, multi()).digest!)
    expect(await writeRequests(dst)).toEqual([])
  }, 60_000)

  test("another list for the same tag is a conflict naming both digests; the target keeps its index", async () => {
    const before = await skopeoDigest(`${dst.host}/${targetRepo("multi")}:1`)
    const changed = await writeDefinition(dir, "three.yaml", {
      targetRepoPrefix: `${dst.host}/subset/`,
      images: [{ source: multi(), platforms: ["linux/amd64", "linux/arm64", "linux/s390x"] }]
    })
    await dst.resetRequests()
    const conflict = await runCli(["-i", changed], { home: dir })
    expect(conflict.code, describeRun(conflict)).toBe(1)
    const line = lineFor(conflict, multi())
    expect(line.status).toBe("conflict")
    expect(line.error).toContain(before)
    expect(line.digest).not.toBe(before)
    expect(await writeRequests(dst)).toEqual([])
    expect(await skopeoDigest(`${dst.host}/${targetRepo("multi")}:1`)).toBe(before)
  }, 60_000)
})

describe("platforms that do not fit the source", () => {
  test("a platform the index lacks: failed with PlatformMismatch naming it and what the index offers; nothing written", async () => {
    const file = await writeDefinition(dir, "missing.yaml", {
      targetRepoPrefix: `${dst.host}/missing/`,
      images: [{ source: multi(), platforms: ["linux/amd64", "windows/amd64"] }]
    })
    const reportFile = join(dir, "missing-report.json")
    await dst.resetRequests()
    const run = await runCli(["-i", file, "--report", reportFile], { home: dir })
    expect(run.code, describeRun(run)).toBe(1)
    const image = reportFor(await readReport(reportFile), multi())
    expect(image.status).toBe("failed")
    expect(image.errorType).toBe("PlatformMismatch")
    expect(image.error).toContain("windows/amd64")
    expect(image.error).toContain("linux/arm/v7")
    expect(await writeRequests(dst)).toEqual([])
  }, 60_000)

  test("a single-platform image listed in platforms is synced as it is; one not listed fails naming its platform", async () => {
    const file = await writeDefinition(dir, "single.yaml", {
      targetRepoPrefix: `${dst.host}/single/`,
      images: [
        { source: single(), platforms: ["linux/arm64"] },
        { source: single(), tag: "other", platforms: ["linux/amd64"] }
      ]
    })
    const reportFile = join(dir, "single-report.json")
    const run = await runCli(["-i", file, "--report", reportFile], { home: dir })
    expect(run.code, describeRun(run)).toBe(1)
    const report = await readReport(reportFile)
    const [listed, notListed] = report.images
    expect(listed!.status, describeRun(run)).toBe("synced")
    expect(await skopeoDigest(`${dst.host}/single/${src.host.replace(":", "-")}/sub/arm64:1`)).toBe(arm64.digest)
    expect(listed!.sourceDigest).toBeUndefined()
    expect(notListed!.status).toBe("failed")
    expect(notListed!.errorType).toBe("PlatformMismatch")
    expect(notListed!.error).toContain("linux/arm64")
  }, 60_000)

  test("the file's platforms apply to every entry without its own", async () => {
    const file = await writeDefinition(dir, "default.yaml", {
      targetRepoPrefix: `${dst.host}/default/`,
      platforms: ["linux/arm/v7"],
      images: [{ source: multi() }]
    })
    const run = await runCli(["-i", file], { home: dir })
    expect(run.code, describeRun(run)).toBe(0)
    const written = decode(await skopeoInspectRaw(`${dst.host}/default/${src.host.replace(":", "-")}/sub/multi:1`))
    expect(written.manifests.map((m) => m.digest)).toEqual([four.children[2]!.digest])
  }, 60_000)

  test("export keeps the whole index; --from cuts the same subset (same digest as a direct sync) into two targets", async () => {
    const direct = await writeDefinition(dir, "direct.yaml", {
      targetRepoPrefix: `${dst.host}/direct/`,
      images: [{ source: multi(), platforms: ["linux/s390x", "linux/amd64"] }]
    })
    const directReport = join(dir, "direct-report.json")
    expect((await runCli(["-i", direct, "--report", directReport], { home: dir })).code).toBe(0)
    const expected = reportFor(await readReport(directReport), multi()).digest
    const layout = join(dir, "layout")
    const exported = await runCli(["export", "-i", direct, "--to", layout], { home: dir })
    expect(exported.code, describeRun(exported)).toBe(0)
    expect(exported.stdout).toContain(four.digest)
    const imported = await writeDefinition(dir, "imported.yaml", {
      targetRepoPrefix: [`${dst.host}/air1/`, `${dst.host}/air2/`],
      images: [{ source: multi(), platforms: ["linux/s390x", "linux/amd64"] }]
    })
    const run = await runCli(["-i", imported, "--from", layout], { home: dir })
    expect(run.code, describeRun(run)).toBe(0)
    for (const prefix of ["air1", "air2"]) {
      expect(await skopeoDigest(`${dst.host}/${prefix}/${src.host.replace(":", "-")}/sub/multi:1`)).toBe(expected!)
    }
  }, 60_000)

  test("the source index's signature is not carried onto a subset, and the image's warning says so", async () => {
    const signed = await pushImage(src.url, "sub/signed", "1", { platforms: FOUR, seed: "subset-signed", ...SMALL })
    const emptyIndex = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: SAMPLE_MEDIA_TYPES.oci.index, manifests: [] }))
    await pushRawManifest(src.url, "sub/signed", signatureTag(signed.digest), emptyIndex, SAMPLE_MEDIA_TYPES.oci.index)
    const file = await writeDefinition(dir, "signed.yaml", {
      targetRepoPrefix: `${dst.host}/signed/`,
      images: [{ source: `${src.host}/sub/signed:1`, platforms: ["linux/amd64"] }]
    })
    const reportFile = join(dir, "signed-report.json")
    const run = await runCli(["-i", file, "--report", reportFile], { home: dir })
    expect(run.code, describeRun(run)).toBe(0)
    const image = reportFor(await readReport(reportFile), `${src.host}/sub/signed:1`)
    expect(image.warnings?.join(" ")).toContain(`signatures (over ${signed.digest}) are not carried`)
    const repo = `signed/${src.host.replace(":", "-")}/sub/signed`
    expect((await headManifest(dst.url, repo, signatureTag(signed.digest))).status).toBe(404)
    expect((await headManifest(dst.url, repo, signatureTag(image.digest!))).status).toBe(404)
  }, 60_000)

  test("with --transport skopeo: exit 2 before any request, naming the entry and the oci transport", async () => {
    const file = await writeDefinition(dir, "skopeo.yaml", {
      targetRepoPrefix: `${dst.host}/skopeo/`,
      images: [{ source: multi(), platforms: ["linux/amd64"] }]
    })
    await Promise.all([src.resetRequests(), dst.resetRequests()])
    const run = await runCli(["-i", file, "--transport", "skopeo"], { home: dir })
    expect(run.code, describeRun(run)).toBe(2)
    expect(run.stderr).toContain(`${file}:3:5`)
    expect(run.stderr).toContain("--transport oci")
    expect(run.stderr).not.toContain("    at ")
    expect(await settledRequests(src)).toEqual([])
    expect(await settledRequests(dst)).toEqual([])
  }, 60_000)
})
