/**
 * The seed example (examples/images.yaml: five Docker Hub names) read through a docker.io
 * mirror on loopback, synced into a second registry by the CLI as a real subprocess.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { parse } from "yaml"
import { readFile } from "node:fs/promises"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { buildImage, pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage, SampleImageSpec } from "../../demo/SampleImages.ts"
import { skopeoCopy, skopeoDigest } from "../support/Skopeo.ts"
import {
  AMD64,
  describeRun,
  headManifest,
  lineFor,
  makeTempDir,
  readReport,
  removeDir,
  REPO_ROOT,
  reportFor,
  resultLines,
  runCli,
  SMALL,
  stdoutLines,
  TWO_PLATFORMS,
  writeDefinition,
  writeRequests
} from "./helpers.ts"
import type { CliRun, Report } from "./helpers.ts"

/** One seed entry: where it lives in the mirror, what it is, how the definition names it. */
interface SeedImage {
  /** Docker Hub path in the mirror */
  readonly repository: string
  readonly spec: SampleImageSpec
  /** source tag; undefined → pushed by digest only and pinned in the definition */
  readonly sourceTag: string | undefined
  readonly tag?: string
  readonly amd64Only?: boolean
  /** target repository under the prefix, and target tag */
  readonly targetPath: string
  readonly targetTag: string
}

const SEED: ReadonlyArray<SeedImage> = [
  {
    repository: "bitnami/keycloak-gatekeeper",
    spec: { platforms: TWO_PLATFORMS, seed: "keycloak-gatekeeper", ...SMALL, sharedBaseLayer: { seed: "debian-10", size: 2048 } },
    sourceTag: "9.0.3",
    targetPath: "bitnami/keycloak-gatekeeper",
    targetTag: "9.0.3"
  },
  {
    repository: "bitnami/postgres-exporter",
    spec: { platforms: TWO_PLATFORMS, seed: "postgres-exporter-old", ...SMALL, sharedBaseLayer: { seed: "debian-10", size: 2048 } },
    sourceTag: "0.8.0-debian-10-r28",
    targetPath: "bitnami/postgres-exporter",
    targetTag: "0.8.0-debian-10-r28"
  },
  {
    repository: "library/busybox",
    spec: { platforms: TWO_PLATFORMS, seed: "busybox", ...SMALL },
    sourceTag: undefined,
    tag: "1.32.0-v1",
    targetPath: "library/busybox",
    targetTag: "1.32.0-v1"
  },
  {
    repository: "bitnami/postgres-exporter",
    spec: { platforms: AMD64, index: false, seed: "postgres-exporter-new", ...SMALL },
    sourceTag: "0.11.1-debian-11-r69",
    amd64Only: true,
    targetPath: "bitnami/postgres-exporter",
    targetTag: "0.11.1-debian-11-r69"
  },
  {
    repository: "library/postgres",
    spec: { platforms: AMD64, index: false, seed: "postgres-alpine", ...SMALL },
    sourceTag: undefined,
    tag: "v20230508-11.19-alpine3.17",
    amd64Only: true,
    targetPath: "library/postgres",
    targetTag: "v20230508-11.19-alpine3.17"
  }
]

/** The entry's `source` as written in the definition (Docker Hub short names, like the seed). */
const sourceOf = (image: SeedImage, digest: string): string => {
  const short = image.repository.startsWith("library/") ? image.repository.slice("library/".length) : image.repository
  return image.sourceTag === undefined ? `${short}@${digest}` : `${short}:${image.sourceTag}`
}

let src: LocalRegistry
let dst: LocalRegistry
let third: LocalRegistry
let dir: string
let imagesFile: string
let reportFile: string
let pushed: Array<{ readonly image: SeedImage; readonly pushed: PushedImage; readonly source: string; readonly target: string }>
let first: CliRun
let firstReport: Report

beforeAll(async () => {
  ;[src, dst, third] = await Promise.all([startRegistry(), startRegistry(), startRegistry()])
  dir = await makeTempDir("seed")
  pushed = []
  for (const image of SEED) {
    // a digest-pinned image is pushed by digest only, as it would be found upstream
    const reference = image.sourceTag ?? buildImage(image.spec).top.digest
    const result = await pushImage(src.url, image.repository, reference, image.spec)
    pushed.push({
      image,
      pushed: result,
      source: sourceOf(image, result.digest),
      target: `${dst.host}/external/${image.targetPath}:${image.targetTag}`
    })
  }
  imagesFile = await writeDefinition(dir, "images.yaml", {
    targetRepoPrefix: `${dst.host}/external/`,
    registries: { "docker.io": { mirror: src.host } },
    images: pushed.map(({ image, source }) => ({
      source,
      ...(image.tag === undefined ? {} : { tag: image.tag }),
      ...(image.amd64Only === undefined ? {} : { amd64Only: image.amd64Only })
    }))
  })
  reportFile = join(dir, "report.json")
  await dst.resetRequests()
  first = await runCli(["-i", imagesFile, "--report", reportFile], { home: dir })
  firstReport = await readReport(reportFile)
}, 60_000)

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop(), third?.stop()])
  await removeDir(dir)
}, 60_000)

describe("seed example through a docker.io mirror", () => {
  test("the generated definition lists the same five images as examples/images.yaml", async () => {
    const example = parse(await readFile(join(REPO_ROOT, "examples", "images.yaml"), "utf8")) as {
      images: Array<{ source: string; tag?: string; amd64Only?: boolean }>
    }
    const names = (s: string) => s.replace(/[:@].*$/, "")
    expect(pushed.map((p) => names(p.source))).toEqual(example.images.map((i) => names(i.source)))
    expect(pushed.map((p) => p.image.tag)).toEqual(example.images.map((i) => i.tag))
    expect(pushed.map((p) => p.image.amd64Only)).toEqual(example.images.map((i) => i.amd64Only))
  })

  test("first run exits 0 and all five images are synced", () => {
    expect(first.code, describeRun(first)).toBe(0)
    for (const { source, target, pushed: p } of pushed) {
      const line = lineFor(first, source)
      expect(line.status, line.line).toBe("synced")
      expect(line.target).toBe(target)
      expect(line.digest).toBe(p.digest)
    }
  })

  test("every target digest equals the source digest byte for byte", async () => {
    for (const { source, target, pushed: p, image } of pushed) {
      const sourceRef = `${src.host}/${image.repository}${image.sourceTag === undefined ? `@${p.digest}` : `:${image.sourceTag}`}`
      expect(await skopeoDigest(sourceRef), source).toBe(p.digest)
      expect(await skopeoDigest(target), target).toBe(p.digest)
    }
  })

  test("index children are present in the target by digest", async () => {
    const indexes = pushed.filter((p) => p.pushed.children.length > 0)
    expect(indexes).toHaveLength(3)
    for (const { image, pushed: p } of indexes) {
      for (const child of p.children) {
        const head = await headManifest(dst.url, `external/${image.targetPath}`, child.digest)
        expect(head.status, `${image.targetPath}@${child.digest}`).toBe(200)
        expect(head.digest).toBe(child.digest)
      }
    }
  })

  test("skopeo can copy every target image to a third registry, digests preserved", async () => {
    for (const { target, image, pushed: p } of pushed) {
      const copy = `${third.host}/copied/${image.targetPath}:${image.targetTag}`
      await skopeoCopy(target, copy, { all: true })
      expect(await skopeoDigest(copy), copy).toBe(p.digest)
    }
  })

  test("stdout has one line per image and a summary line", () => {
    const lines = stdoutLines(first)
    expect(lines, describeRun(first)).toHaveLength(6)
    expect(resultLines(first)).toHaveLength(5)
    expect(new Set(resultLines(first).map((l) => l.source))).toEqual(new Set(pushed.map((p) => p.source)))
    expect(lines[5]).toBe("5 images: 5 synced, 0 present, 0 planned, 0 conflict, 0 failed")
  })

  test("--report JSON has images[] with source as written, target, digest, status", () => {
    expect(firstReport.images).toHaveLength(5)
    for (const { source, target, pushed: p } of pushed) {
      const entry = reportFor(firstReport, source)
      expect(entry.source).toBe(source)
      expect(entry.target).toBe(target)
      expect(entry.digest).toBe(p.digest)
      expect(entry.status).toBe("synced")
    }
    // busybox@sha256:… stays as written: not normalised to docker.io/library/…
    expect(firstReport.images.some((i) => /^busybox@sha256:[0-9a-f]{64}$/.test(i.source))).toBe(true)
  })

  test("second run writes nothing to the target, every image present, exit 0", async () => {
    await dst.resetRequests()
    const second = await runCli(["-i", imagesFile], { home: dir })
    expect(second.code, describeRun(second)).toBe(0)
    for (const { source, pushed: p } of pushed) {
      const line = lineFor(second, source)
      expect(line.status, line.line).toBe("present")
      expect(line.digest).toBe(p.digest)
    }
    expect(await writeRequests(dst)).toEqual([])
    // the registry did see the run's reads, so the empty write list is meaningful
    expect(dst.requests().filter((r) => r.method === "HEAD").length).toBeGreaterThanOrEqual(5)
  })
})
