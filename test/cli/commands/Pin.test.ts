/**
 * `pin` and `pin --check` through the CLI on real docker-registry processes: tags resolved by
 * HEAD and written as name:tag@digest with nothing else in the file changed, a pinned file
 * syncing to the same target digests, drift named after an upstream re-push, and a pinned
 * entry whose target holds its digest found present without asking the source anything.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { readFile, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../../demo/LocalRegistry.ts"
import { pushImage } from "../../../demo/SampleImages.ts"
import type { PushedImage } from "../../../demo/SampleImages.ts"
import { skopeoDigest } from "../../support/Skopeo.ts"
import {
  AMD64,
  describeRun,
  makeTempDir,
  removeDir,
  resultLines,
  runCli,
  settledRequests,
  SMALL,
  stdoutLines,
  TWO_PLATFORMS
} from "../../integration/helpers.ts"

let src: LocalRegistry
let dir: string
let app: PushedImage
let tool: PushedImage
let single: PushedImage
let implicit: PushedImage
let already: PushedImage

beforeAll(async () => {
  src = await startRegistry()
  dir = await makeTempDir("pin")
  app = await pushImage(src.url, "team/app", "1.0", { platforms: TWO_PLATFORMS, seed: "app", ...SMALL })
  tool = await pushImage(src.url, "team/tool", "2.0", { platforms: TWO_PLATFORMS, seed: "tool", ...SMALL })
  single = await pushImage(src.url, "team/single", "1", { platforms: AMD64, index: false, seed: "single", ...SMALL })
  implicit = await pushImage(src.url, "team/implicit", "latest", { platforms: TWO_PLATFORMS, seed: "implicit", ...SMALL })
  already = await pushImage(src.url, "team/already", "1.0", { platforms: TWO_PLATFORMS, seed: "already", ...SMALL })
  await pushImage(src.url, "team/exporter", "1.0.0", { platforms: TWO_PLATFORMS, seed: "exporter", ...SMALL })
}, 60_000)

afterAll(async () => {
  await src?.stop()
  await removeDir(dir)
}, 60_000)

/** A hand-written file: comments, blank lines, every quoting style, entries pin leaves alone. */
const definitionText = (targetHost: string) =>
  `# Images we mirror (kept by hand)
targetRepoPrefix: "${targetHost}/mirror/"   # the team registry

images:
  # the app, plain
  - source: ${src.host}/team/app:1.0
  - source: "${src.host}/team/tool:2.0"
    tag: "2.0-mirror"     # our own tag
  - source: '${src.host}/team/single:1'
    amd64Only: true

  - source: ${src.host}/team/implicit      # no tag: latest
  - source: "${src.host}/team/already:1.0@${"DIGEST"}"   # pinned already
  - {source: ${src.host}/team/exporter, tags: {semver: "^1"}}
`

const writeText = async (name: string, text: string): Promise<string> => {
  const path = join(dir, name)
  await writeFile(path, text)
  return path
}

const manifestGets = (requests: ReadonlyArray<{ method: string; path: string }>) => requests.filter((r) => r.method === "GET" && r.path.includes("/manifests/"))

describe("pin", () => {
  let dst: LocalRegistry
  let original: string
  let file: string
  let run: Awaited<ReturnType<typeof runCli>>
  /** the source's requests during the pin run */
  let pinRequests: ReadonlyArray<{ method: string; path: string }>

  beforeAll(async () => {
    dst = await startRegistry()
    original = definitionText(dst.host).replace("DIGEST", already.digest)
    file = await writeText("pin.yaml", original)
    await src.resetRequests()
    run = await runCli(["pin", "-i", file], { home: dir })
    pinRequests = await settledRequests(src)
  }, 60_000)

  afterAll(async () => {
    await dst?.stop()
  }, 60_000)

  test("changes only the source scalars, in the quoting they were written in", async () => {
    expect(run.code, describeRun(run)).toBe(0)
    const expected = original
      .replace(`${src.host}/team/app:1.0\n`, `${src.host}/team/app:1.0@${app.digest}\n`)
      .replace(`"${src.host}/team/tool:2.0"`, `"${src.host}/team/tool:2.0@${tool.digest}"`)
      .replace(`'${src.host}/team/single:1'`, `'${src.host}/team/single:1@${single.digest}'`)
      .replace(`${src.host}/team/implicit `, `${src.host}/team/implicit:latest@${implicit.digest} `)
    expect(await readFile(file, "utf8")).toBe(expected)
  })

  test("pins the digest sync would copy: the index of a multi-platform image, the manifest of a single-platform one", async () => {
    expect(await skopeoDigest(`${src.host}/team/app:1.0`)).toBe(app.digest)
    expect(app.mediaType).toContain("index")
    expect(single.mediaType).not.toContain("index")
    expect(await readFile(file, "utf8")).toContain(`team/single:1@${single.digest}`)
  })

  test("prints one line per change and resolves tags with HEAD only", async () => {
    const lines = stdoutLines(run)
    expect(lines).toHaveLength(4)
    expect(lines[0]).toBe(`${file}:6: ${src.host}/team/app:1.0 -> ${src.host}/team/app:1.0@${app.digest}`)
    expect(manifestGets(pinRequests)).toEqual([])
    expect(pinRequests.filter((r) => r.method === "HEAD" && r.path.includes("/manifests/")).length).toBe(4)
  })

  test("a file with nothing left to pin is left untouched", async () => {
    const before = await stat(file)
    const again = await runCli(["pin", "-i", file], { home: dir })
    expect(again.code, describeRun(again)).toBe(0)
    expect(stdoutLines(again)).toEqual([])
    expect(again.stderr).toContain("nothing to pin")
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs)
  })

  test("syncing the pinned file gives the same target digests as the unpinned one", async () => {
    const other = await startRegistry()
    try {
      const unpinned = await writeText("unpinned.yaml", definitionText(other.host).replace("DIGEST", already.digest))
      const pinned = await writeText("pinned.yaml", (await readFile(file, "utf8")).replace(`${dst.host}/mirror/`, `${dst.host}/mirror/`))
      const a = await runCli(["-i", unpinned], { home: dir })
      const b = await runCli(["-i", pinned], { home: dir })
      expect(a.code, describeRun(a)).toBe(0)
      expect(b.code, describeRun(b)).toBe(0)
      const targetsA = resultLines(a).map((l) => l.target.replace(other.host, "HOST")).sort()
      const targetsB = resultLines(b).map((l) => l.target.replace(dst.host, "HOST")).sort()
      expect(targetsB).toEqual(targetsA)
      for (const line of resultLines(a)) {
        expect(await skopeoDigest(line.target.replace(other.host, dst.host))).toBe(await skopeoDigest(line.target))
      }
    } finally {
      await other.stop()
    }
  }, 60_000)

  test("a pinned entry whose target holds its digest is present without any request to the source", async () => {
    // only pinned entries: a tags rule lists the source's tags by design
    const pinnedOnly = (await readFile(file, "utf8")).split("\n").filter((l) => !l.includes("tags:")).join("\n")
    const path = await writeText("pinned-only.yaml", pinnedOnly)
    const first = await runCli(["-i", path], { home: dir })
    expect(first.code, describeRun(first)).toBe(0)
    await src.resetRequests()
    const second = await runCli(["-i", path], { home: dir })
    expect(second.code, describeRun(second)).toBe(0)
    expect(resultLines(second).map((l) => l.status)).toEqual(["present", "present", "present", "present", "present"])
    expect(await settledRequests(src)).toEqual([])
  }, 60_000)
})

describe("pin --check", () => {
  let pinned: string

  beforeAll(async () => {
    const dst = "127.0.0.1:1" // never contacted: --check asks the sources only
    pinned = await writeText("check.yaml", definitionText(dst).replace("DIGEST", already.digest))
    const run = await runCli(["pin", "-i", pinned], { home: dir })
    expect(run.code, describeRun(run)).toBe(0)
  }, 60_000)

  test("exits 0 on a freshly pinned file, with HEAD requests only", async () => {
    const before = await readFile(pinned, "utf8")
    await src.resetRequests()
    const run = await runCli(["pin", "--check", "-i", pinned], { home: dir })
    expect(run.code, describeRun(run)).toBe(0)
    expect(run.stdout).toContain("5 entries: 5 pinned and current, 0 not pinned, 0 drifted")
    expect(await readFile(pinned, "utf8")).toBe(before)
    const requests = await settledRequests(src)
    expect(manifestGets(requests)).toEqual([])
    expect(requests.filter((r) => r.method === "HEAD").length).toBe(5)
  })

  test("exits 1 and names each unpinned entry", async () => {
    const unpinned = await writeText("check-unpinned.yaml", definitionText("127.0.0.1:1").replace("DIGEST", already.digest))
    const run = await runCli(["pin", "--check", "-i", unpinned], { home: dir })
    expect(run.code, describeRun(run)).toBe(1)
    expect(stdoutLines(run).filter((l) => l.startsWith("not pinned: "))).toEqual([
      `not pinned: ${src.host}/team/app:1.0 (${unpinned}:6)`,
      `not pinned: ${src.host}/team/tool:2.0 (${unpinned}:7)`,
      `not pinned: ${src.host}/team/single:1 (${unpinned}:9)`,
      `not pinned: ${src.host}/team/implicit (${unpinned}:12)`
    ])
  })

  test("exits 1 and names the drift after a tag is re-pushed upstream with other content", async () => {
    const moved = await pushImage(src.url, "team/app", "1.0", { platforms: TWO_PLATFORMS, seed: "app-rebuilt", ...SMALL })
    const run = await runCli(["pin", "--check", "-i", pinned], { home: dir })
    expect(run.code, describeRun(run)).toBe(1)
    expect(stdoutLines(run)).toContain(`drift: ${src.host}/team/app:1.0 is now ${moved.digest}, pinned ${app.digest} (${pinned}:6)`)
    expect(run.stdout).toContain("1 drifted")
  })
})
