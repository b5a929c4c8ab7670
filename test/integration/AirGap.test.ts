/**
 * The air-gapped flow end to end, with the real CLI and real registries: `export` from
 * registry A into a layout directory and a .tar, then registry A is stopped, then
 * `--from DIR` / `--from X.tar` syncs into registry B. Digests in B are the ones computed at
 * push time, upstream `.sig` tags arrive too, skopeo reads the layout we wrote, and a second
 * export downloads no blob again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { createHash } from "node:crypto"
import { existsSync } from "node:fs"
import { cp, mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage } from "../../demo/SampleImages.ts"
import {
  AMD64,
  describeRun,
  headManifest,
  lineFor,
  makeTempDir,
  removeDir,
  runCli,
  settledRequests,
  SMALL,
  stdoutLines,
  TWO_PLATFORMS,
  writeDefinition
} from "./helpers.ts"
import type { CliRun } from "./helpers.ts"

let a: LocalRegistry
let b: LocalRegistry
let dir: string
let imagesFile: string
let layoutDir: string
let layoutTar: string
let multi: PushedImage
let single: PushedImage
let pinned: PushedImage
let signed: PushedImage
let upstreamSig: PushedImage

/** Hooks run CLI processes and registries: give them the tests' own budget (bunfig), not bun's 5 s hook default. */
const HOOK_TIMEOUT_MS = 60_000

const sigTag = (digest: string) => `${digest.replace(":", "-")}.sig`
/** The definition's sources, as written. */
const src = {
  multi: () => `${a.host}/airgap/multi:1`,
  single: () => `${a.host}/airgap/single:1`,
  pinned: () => `${a.host}/airgap/pinned@${pinned.digest}`,
  signed: () => `${a.host}/airgap/signed:1`
}
/** The target repository of a source repository under a prefix path. */
const targetRepo = (prefix: string, repository: string) => `${prefix}/${a.host.replace(":", "-")}/airgap/${repository}`

/** `skopeo inspect --raw` of any transport (the shared helper only speaks docker://). */
const skopeoRaw = async (ref: string): Promise<Uint8Array> => {
  const proc = Bun.spawn(["skopeo", "inspect", "--raw", ref], { stdin: "ignore", stdout: "pipe", stderr: "pipe" })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).arrayBuffer(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`skopeo inspect --raw ${ref} failed (exit ${code}): ${stderr.trim()}`)
  return new Uint8Array(stdout)
}

/** GET /v2/…/blobs/… requests in A's log since the last reset. */
const blobGets = async () => (await settledRequests(a)).filter((r) => r.method === "GET" && /^\/v2\/.+\/blobs\/sha256:/.test(r.path))

beforeAll(async () => {
  ;[a, b] = await Promise.all([startRegistry(), startRegistry()])
  dir = await makeTempDir("airgap")
  layoutDir = join(dir, "layout")
  layoutTar = join(dir, "layout.tar")
  multi = await pushImage(a.url, "airgap/multi", "1", { platforms: TWO_PLATFORMS, seed: "airgap-multi", ...SMALL })
  single = await pushImage(a.url, "airgap/single", "1", { platforms: AMD64, index: false, seed: "airgap-single", ...SMALL })
  pinned = await pushImage(a.url, "airgap/pinned", "orig", { platforms: TWO_PLATFORMS, seed: "airgap-pinned", ...SMALL })
  signed = await pushImage(a.url, "airgap/signed", "1", { platforms: TWO_PLATFORMS, seed: "airgap-signed", ...SMALL })
  // An upstream cosign-style signature next to the image: a manifest under `sha256-<hex>.sig`.
  upstreamSig = await pushImage(a.url, "airgap/signed", sigTag(signed.digest), {
    platforms: AMD64,
    index: false,
    seed: "airgap-sig",
    layers: 1,
    layerSize: 200
  })
  imagesFile = await writeDefinition(dir, "images.yaml", {
    targetRepoPrefix: `${b.host}/fromdir/`,
    images: [
      { source: src.multi() },
      { source: src.single(), amd64Only: true },
      { source: src.pinned(), tag: "p1" },
      { source: src.signed() }
    ]
  })
}, HOOK_TIMEOUT_MS)

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  await removeDir(dir)
}, 60_000)

/** The `exported <source> <digest>` line of a source. */
const exportedLine = (run: CliRun, source: string) => {
  const lines = stdoutLines(run).filter((l) => l.split(/\s+/)[1] === source)
  if (lines.length !== 1) throw new Error(`expected one line for ${source}\n${describeRun(run)}`)
  return lines[0]!.split(/\s+/)
}

const expectAllExported = (run: CliRun) => {
  expect(run.code, describeRun(run)).toBe(0)
  for (const [source, image] of [[src.multi(), multi], [src.single(), single], [src.pinned(), pinned], [src.signed(), signed]] as const) {
    const [status, , digest] = exportedLine(run, source)
    expect(status).toBe("exported")
    expect(digest).toBe(image.digest)
  }
  expect(stdoutLines(run).at(-1)).toBe("4 images: 4 exported, 0 failed")
}

describe("on the connected side", () => {
  test("export --to DIR writes every image and its upstream .sig", async () => {
    const run = await runCli(["export", "-i", imagesFile, "--to", layoutDir], { home: dir })
    expectAllExported(run)
    expect(exportedLine(run, src.signed()).join(" ")).toContain(sigTag(signed.digest))
  })

  test("export --to X.tar writes the same layout as one archive", async () => {
    const run = await runCli(["export", "-i", imagesFile, "--to", layoutTar], { home: dir })
    expectAllExported(run)
    expect(await Bun.file(layoutTar).exists()).toBe(true)
  })

  test("skopeo reads the layout by our ref names (with \":\" and \"/\" in them), directory and archive", async () => {
    const sha = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`
    const refs: Array<[string, string]> = [
      [`${a.host}/airgap/multi:1`, multi.digest],
      [`${a.host}/airgap/single:1`, single.digest],
      [`${a.host}/airgap/pinned@${pinned.digest}`, pinned.digest],
      [`${a.host}/airgap/signed:${sigTag(signed.digest)}`, upstreamSig.digest]
    ]
    for (const [ref, digest] of refs) {
      expect(sha(await skopeoRaw(`oci:${layoutDir}:${ref}`))).toBe(digest)
    }
    expect(sha(await skopeoRaw(`oci-archive:${layoutTar}:${a.host}/airgap/multi:1`))).toBe(multi.digest)
  })

  test("re-running export (directory and archive) downloads no blob again", async () => {
    await a.resetRequests()
    const again = await runCli(["export", "-i", imagesFile, "--to", layoutDir], { home: dir })
    expectAllExported(again)
    expect(await blobGets()).toEqual([])
    const againTar = await runCli(["export", "-i", imagesFile, "--to", layoutTar], { home: dir })
    expectAllExported(againTar)
    expect(await blobGets()).toEqual([])
  })

  test("an interrupted .tar export resumes from the work dir it kept next to the archive", async () => {
    // What an interrupted run leaves: `.X.tar.export` holding the blobs downloaded so far.
    const archive = join(dir, "resumed.tar")
    const kept = join(dir, ".resumed.tar.export")
    await cp(layoutDir, kept, { recursive: true })
    await a.resetRequests()
    const run = await runCli(["export", "-i", imagesFile, "--to", archive], { home: dir })
    expectAllExported(run)
    expect(await blobGets()).toEqual([])
    expect(await Bun.file(archive).exists()).toBe(true)
    expect(existsSync(kept)).toBe(false)
  })

  test("a source that cannot be exported: its own failed line, the others exported, exit 1", async () => {
    const file = await writeDefinition(dir, "partial.yaml", {
      targetRepoPrefix: `${b.host}/fromdir/`,
      images: [{ source: src.multi() }, { source: `${a.host}/airgap/missing:1` }]
    })
    const run = await runCli(["export", "-i", file, "--to", join(dir, "partial")], { home: dir })
    expect(run.code, describeRun(run)).toBe(1)
    expect(exportedLine(run, src.multi())[0]).toBe("exported")
    expect(exportedLine(run, `${a.host}/airgap/missing:1`).join(" ")).toMatch(/^failed .* : source image .* not found/)
    expect(stdoutLines(run).at(-1)).toBe("2 images: 1 exported, 1 failed")
  })

  test("export with bad input exits 2 before any request: a non-layout --to, an archive that is not a layout", async () => {
    const notLayout = join(dir, "not-a-layout")
    await mkdir(notLayout)
    await writeFile(join(notLayout, "notes.txt"), "mine")
    const notTar = join(dir, "notes.tar")
    await writeFile(notTar, "x".repeat(4096))
    await a.resetRequests()
    for (const to of [notLayout, notTar]) {
      const run = await runCli(["export", "-i", imagesFile, "--to", to], { home: dir })
      expect(run.code, describeRun(run)).toBe(2)
      expect(run.stderr.trim().split("\n")).toHaveLength(1)
      expect(run.stderr).toStartWith(`error: --to ${to}: `)
    }
    expect(await readFile(notTar, "utf8")).toBe("x".repeat(4096))
    expect(existsSync(join(dir, ".notes.tar.export"))).toBe(false)
    expect(await settledRequests(a)).toEqual([])
  })
})

describe("on the air-gapped side (registry A stopped)", () => {
  let fromDir: CliRun
  let fromTar: CliRun

  beforeAll(async () => {
    await a.stop()
    fromDir = await runCli(["-i", imagesFile, "--from", layoutDir], { home: dir })
    fromTar = await runCli(["-i", imagesFile, "--from", layoutTar, "-r", `${b.host}/fromtar/`], { home: dir })
  }, HOOK_TIMEOUT_MS)

  for (const [label, prefix, run] of [["--from DIR", "fromdir", () => fromDir], ["--from X.tar", "fromtar", () => fromTar]] as const) {
    test(`${label}: every image synced into B with the digest computed at push time`, async () => {
      expect(run().code, describeRun(run())).toBe(0)
      const expected = [
        [src.multi(), "multi", "1", multi],
        [src.single(), "single", "1", single],
        [src.pinned(), "pinned", "p1", pinned],
        [src.signed(), "signed", "1", signed]
      ] as const
      for (const [source, repository, tag, image] of expected) {
        expect(lineFor(run(), source).status).toBe("synced")
        expect(lineFor(run(), source).digest).toBe(image.digest)
        const head = await headManifest(b.url, targetRepo(prefix, repository), tag)
        expect(head.digest).toBe(image.digest)
        for (const child of image.children) {
          expect((await headManifest(b.url, targetRepo(prefix, repository), child.digest)).status).toBe(200)
        }
      }
    })

    test(`${label}: the upstream .sig arrived in B, byte for byte`, async () => {
      const head = await headManifest(b.url, targetRepo(prefix, "signed"), sigTag(signed.digest))
      expect(head.status).toBe(200)
      expect(head.digest).toBe(upstreamSig.digest)
    })
  }

  test("--from a missing directory: exit 2, one clear line, no registry request", async () => {
    await b.resetRequests()
    const missing = join(dir, "no-such-layout")
    const run = await runCli(["-i", imagesFile, "--from", missing], { home: dir })
    expect(run.code, describeRun(run)).toBe(2)
    expect(run.stdout).toBe("")
    expect(run.stderr.trim().split("\n")).toEqual([`error: layout ${missing}: does not exist`])
    expect(await settledRequests(b)).toEqual([])
  })
})
