/**
 * Several targets in one run (`targetRepoPrefix` as a list, `-r` repeated,
 * SYNCER_TARGET_REPO_PREFIX comma-separated), on real docker-registry processes with skopeo as
 * the checker: every target holds what a single-target run writes, the source registry serves
 * each manifest and blob once for the whole run (the seed's five images too, the configs of its
 * amd64Only images included), and a conflict on one target leaves the others synced.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage, pushRawManifest, SAMPLE_MEDIA_TYPES } from "../../demo/SampleImages.ts"
import type { PushedImage } from "../../demo/SampleImages.ts"
import { pushSeed, seedImages } from "../support/SeedSet.ts"
import type { SeededImage } from "../support/SeedSet.ts"
import { skopeoDigest } from "../support/Skopeo.ts"
import {
  describeRun,
  makeTempDir,
  readReport,
  removeDir,
  resultLines,
  runCli,
  settledRequests,
  SMALL,
  TWO_PLATFORMS,
  writeDefinition,
  writeRequests
} from "./helpers.ts"
import type { CliRun, Report } from "./helpers.ts"

const BASE = { seed: "several-base", size: 2048 } as const

let src: LocalRegistry
let targets: Array<LocalRegistry>
let single: LocalRegistry
let dir: string
const pushed: Record<string, PushedImage> = {}

const source = (name: string): string => `${src.host}/many/${name}:1`
const targetRef = (registry: LocalRegistry, prefix: string, name: string): string => `${registry.host}/${prefix}/${src.host.replace(":", "-")}/many/${name}:1`

beforeAll(async () => {
  ;[src, single, ...targets] = await Promise.all([startRegistry(), startRegistry(), startRegistry(), startRegistry(), startRegistry()])
  dir = await makeTempDir("several-targets")
  // two indexes sharing a base layer, one single-platform image
  for (const name of ["app", "web"]) {
    pushed[name] = await pushImage(src.url, `many/${name}`, "1", { platforms: TWO_PLATFORMS, seed: `several-${name}`, ...SMALL, sharedBaseLayer: BASE })
  }
  pushed["tool"] = await pushImage(src.url, "many/tool", "1", { platforms: TWO_PLATFORMS, seed: "several-tool", ...SMALL })
}, 60_000)

afterAll(async () => {
  await Promise.all([src?.stop(), single?.stop(), ...(targets ?? []).map((t) => t.stop())])
  await removeDir(dir)
}, 60_000)

describe("three targets from one definition", () => {
  let run: CliRun
  let report: Report
  let sourceGets: Array<string>

  beforeAll(async () => {
    const file = await writeDefinition(dir, "three.yaml", {
      targetRepoPrefix: targets.map((t) => `${t.host}/region/`),
      images: [{ source: source("app") }, { source: source("web") }]
    })
    const reportFile = join(dir, "three-report.json")
    await src.resetRequests()
    run = await runCli(["-i", file, "--report", reportFile, "--junit", join(dir, "three.xml")], { home: dir })
    sourceGets = (await settledRequests(src)).filter((r) => r.method === "GET" && r.path !== "/v2/").map((r) => r.path)
    report = await readReport(reportFile)
  }, 120_000)

  test("exit 0; one result line and one report entry per image and target; the report in definition and prefix order", () => {
    expect(run.code, describeRun(run)).toBe(0)
    const expected = ["app", "web"].flatMap((name) => targets.map((t) => targetRef(t, "region", name)))
    // stdout lines come as images finish
    expect(resultLines(run).map((l) => l.target).sort()).toEqual([...expected].sort())
    expect(resultLines(run).every((l) => l.status === "synced")).toBe(true)
    expect(report.images.map((i) => i.target)).toEqual(expected)
  })

  test("the JUnit file has one case per image and target", async () => {
    const xml = await Bun.file(join(dir, "three.xml")).text()
    expect(xml.match(/<testcase /g)?.length).toBe(6)
  })

  test("every target holds the digests a single-target run writes", async () => {
    const file = await writeDefinition(dir, "single.yaml", {
      targetRepoPrefix: `${single.host}/region/`,
      images: [{ source: source("app") }, { source: source("web") }]
    })
    const one = await runCli(["-i", file], { home: dir })
    expect(one.code, describeRun(one)).toBe(0)
    for (const name of ["app", "web"]) {
      const expected = await skopeoDigest(targetRef(single, "region", name))
      expect(expected).toBe(pushed[name]!.digest)
      for (const t of targets) expect(await skopeoDigest(targetRef(t, "region", name))).toBe(expected)
    }
  }, 60_000)

  test("the source served each manifest and each blob once for the whole run (the shared base layer too)", () => {
    const counts = new Map<string, number>()
    for (const path of sourceGets) counts.set(path, (counts.get(path) ?? 0) + 1)
    expect([...counts].filter(([, n]) => n > 1)).toEqual([])
    const blobGets = sourceGets.filter((p) => p.includes("/blobs/"))
    const distinctBlobs = new Set([...pushed["app"]!.blobs, ...pushed["web"]!.blobs])
    expect(blobGets.length).toBe(distinctBlobs.size)
    const manifestGets = sourceGets.filter((p) => p.includes("/manifests/"))
    // each index and its two children
    expect(manifestGets.length).toBe(6)
  })
})

describe("a conflict on one of three targets", () => {
  test("the conflicting target is a conflict (untouched); the other two are synced; exit 1", async () => {
    const planted = await pushRawManifest(
      targets[1]!.url,
      `conflict/${src.host.replace(":", "-")}/many/tool`,
      "1",
      new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: SAMPLE_MEDIA_TYPES.oci.index, manifests: [] })),
      SAMPLE_MEDIA_TYPES.oci.index
    )
    const file = await writeDefinition(dir, "conflict.yaml", {
      targetRepoPrefix: targets.map((t) => `${t.host}/conflict/`),
      images: [{ source: source("tool") }]
    })
    await targets[1]!.resetRequests()
    const reportFile = join(dir, "conflict-report.json")
    const run = await runCli(["-i", file, "--report", reportFile], { home: dir })
    expect(run.code, describeRun(run)).toBe(1)
    const report = await readReport(reportFile)
    expect(report.images.map((i) => i.status)).toEqual(["synced", "conflict", "synced"])
    expect(report.images[1]!.errorType).toBe("TagConflict")
    expect(report.images[1]!.error).toContain(planted)
    expect(await writeRequests(targets[1]!)).toEqual([])
    expect(await skopeoDigest(targetRef(targets[1]!, "conflict", "tool"))).toBe(planted)
    for (const t of [targets[0]!, targets[2]!]) expect(await skopeoDigest(targetRef(t, "conflict", "tool"))).toBe(pushed["tool"]!.digest)
  }, 60_000)
})

describe("targets from the command line", () => {
  test("-r given twice: every image planned for both prefixes, in the order given", async () => {
    const file = await writeDefinition(dir, "flags.yaml", { images: [{ source: source("tool") }] })
    const run = await runCli(["-i", file, "--dry-run", "-r", `${targets[0]!.host}/one/`, "-r", `${targets[1]!.host}/two/`], { home: dir })
    expect(run.code, describeRun(run)).toBe(0)
    expect(resultLines(run).map((l) => [l.status, l.target])).toEqual([
      ["planned", targetRef(targets[0]!, "one", "tool")],
      ["planned", targetRef(targets[1]!, "two", "tool")]
    ])
  }, 60_000)

  test("SYNCER_TARGET_REPO_PREFIX with two comma-separated prefixes does the same", async () => {
    const file = await writeDefinition(dir, "env.yaml", { images: [{ source: source("tool") }] })
    const run = await runCli(["-i", file, "--dry-run"], {
      home: dir,
      env: { SYNCER_TARGET_REPO_PREFIX: `${targets[0]!.host}/one/,${targets[1]!.host}/two/` }
    })
    expect(run.code, describeRun(run)).toBe(0)
    expect(resultLines(run).map((l) => l.target)).toEqual([targetRef(targets[0]!, "one", "tool"), targetRef(targets[1]!, "two", "tool")])
  }, 60_000)

  test("the same prefix twice on the command line: exit 2, nothing contacted", async () => {
    const file = await writeDefinition(dir, "twice.yaml", { images: [{ source: source("tool") }] })
    await src.resetRequests()
    const run = await runCli(["-i", file, "-r", `${targets[0]!.host}/one/`, "-r", `${targets[0]!.host}/one/`], { home: dir })
    expect(run.code, describeRun(run)).toBe(2)
    expect(run.stderr).toContain("given twice")
    expect(await settledRequests(src)).toEqual([])
  }, 60_000)
})

describe("the seed's five images, to one target and to three", () => {
  let seed: ReadonlyArray<SeededImage> = []
  beforeAll(async () => {
    seed = await pushSeed(src.url, seedImages("several-seed"))
  }, 60_000)

  for (const count of [1, 3]) {
    test(
      `${count} target${
        count === 1 ? "" : "s"
      }: the source registry's access log holds every manifest GET and every blob GET exactly once (the amd64Only images' configs too)`,
      async () => {
        const file = await writeDefinition(dir, `seed-${count}.yaml`, {
          targetRepoPrefix: targets.slice(0, count).map((t) => `${t.host}/seed-${count}/`),
          registries: { "docker.io": { mirror: src.host } },
          images: seed.map(({ image, source }) => ({
            source,
            ...(image.tag === undefined ? {} : { tag: image.tag }),
            ...(image.amd64Only === undefined ? {} : { amd64Only: image.amd64Only })
          }))
        })
        expect(seed.filter((s) => s.image.amd64Only === true)).toHaveLength(2)
        await src.resetRequests()
        const run = await runCli(["-i", file, "-j", "8"], { home: dir })
        const gets = (await settledRequests(src)).filter((r) => r.method === "GET")
        expect(run.code, describeRun(run)).toBe(0)
        expect(resultLines(run).map((l) => l.status)).toEqual(Array<string>(5 * count).fill("synced"))

        // Manifests by what they hold: a GET by tag counts for the digest the tag names.
        const digestOf = new Map<string, string>(
          seed.flatMap(({ image, pushed }) =>
            image.sourceTag === undefined ? [] : [[`/v2/${image.repository}/manifests/${image.sourceTag}`, pushed.digest] as const]
          )
        )
        const manifestGets = gets.filter((r) => r.path.includes("/manifests/")).map((r) => digestOf.get(r.path) ?? r.path.slice(r.path.lastIndexOf("/") + 1))
        const manifests = seed.flatMap(({ pushed }) => [pushed.digest, ...pushed.children.map((c) => c.digest)])
        expect(manifestGets.sort()).toEqual([...manifests].sort())

        const blobGets = gets.filter((r) => r.path.includes("/blobs/")).map((r) => r.path.slice(r.path.lastIndexOf("/") + 1))
        const blobs = new Set(seed.flatMap(({ pushed }) => pushed.blobs))
        expect(blobGets.sort()).toEqual([...blobs].sort())
      },
      120_000
    )
  }
})
