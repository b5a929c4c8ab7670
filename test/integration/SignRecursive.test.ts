/**
 * `--sign-recursive`: an index and every child carry a signature by the key — what
 * containers/image checks, by the instance digest, when it pulls one platform of a
 * multi-platform image (cosign sign --recursive). Legacy on docker-registry (`.sig` per
 * digest), bundle on the referrers stand-in; 3-platform indexes, eight images in flight.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { verify } from "node:crypto"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage, pushRawManifest } from "../../demo/SampleImages.ts"
import { p256, writeKeyFiles } from "../fixtures/signing/CosignKeys.ts"
import { signedLineFor } from "../fixtures/signing/Lines.ts"
import { expectedPayload, fetchSignature, sha256 } from "../fixtures/signing/RegistryReads.ts"
import { fallbackIndex, referrersFromApi, verifiedBundles } from "../fixtures/signing/Sigstore.ts"
import { startReferrersRegistry } from "../support/registries/Referrers.ts"
import type { ReferrersRegistry } from "../support/registries/Referrers.ts"
import { describeRun, makeTempDir, readReport, removeDir, runCli, SMALL, writeDefinition, writeRequests } from "./helpers.ts"

const THREE = [
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "arm64", variant: "v8" },
  { os: "linux", architecture: "s390x" }
] as const

let src: LocalRegistry
let plain: LocalRegistry
let behind: LocalRegistry
let withApi: ReferrersRegistry
let dir = ""
const key = p256()
const paths = { key: "", pub: "" }
interface Image {
  readonly source: string
  readonly digest: string
  readonly children: ReadonlyArray<string>
  readonly repo: string
}
const images: Array<Image> = []

const definitionFor = (host: string, name: string, list: ReadonlyArray<Image> = images) =>
  writeDefinition(dir, name, {
    targetRepoPrefix: `${host}/mirror/`,
    registries: { "docker.io": { mirror: src.host } },
    images: list.map((i) => ({ source: i.source }))
  })
const sync = async (file: string, args: ReadonlyArray<string>) => runCli(["-i", file, "-j", "8", ...args], { home: dir })

/** node:crypto: the `.sig` of `digest` has a layer naming it and the target repository, signed by the key. */
const legacySigned = async (registry: LocalRegistry, repo: string, digest: string): Promise<boolean> => {
  const found = await fetchSignature(registry.url, repo, digest)
  if (found === undefined) return false
  return found.json.layers.some((l, n) =>
    new TextDecoder().decode(found.payloads[n]!) === expectedPayload(`${registry.host}/${repo}`, digest) &&
    verify("sha256", found.payloads[n]!, key.publicKey, Buffer.from(l.annotations?.["dev.cosignproject.cosign/signature"] ?? "", "base64"))
  )
}

beforeAll(async () => {
  ;[src, plain, behind] = await Promise.all([startRegistry(), startRegistry(), startRegistry()])
  withApi = startReferrersRegistry(behind.url)
  dir = await makeTempDir("recursive")
  for (let i = 0; i < 8; i++) {
    const pushed = await pushImage(src.url, `team/multi${i}`, "2.0", { platforms: THREE, seed: `recursive-${i}`, ...SMALL })
    images.push({ source: `team/multi${i}:2.0`, digest: pushed.digest, children: pushed.children.map((c) => c.digest), repo: `mirror/team/multi${i}` })
  }
  Object.assign(paths, await writeKeyFiles(dir, key))
}, 60_000)

afterAll(async () => {
  await withApi?.stop()
  await Promise.all([src?.stop(), plain?.stop(), behind?.stop()])
  await removeDir(dir)
}, 60_000)

describe("legacy: a .sig for the index and for each of its three children", () => {
  test("the images are 3-platform indexes", () => {
    for (const i of images) expect(i.children).toHaveLength(3)
  })

  test("synced with --sign-recursive: index and children signed (node:crypto over the exact payloads); report childrenSigned 3", async () => {
    const reportPath = join(dir, "legacy.json")
    const run = await sync(await definitionFor(plain.host, "legacy.yaml", images.slice(0, 6)), [
      "--sign-key",
      paths.key,
      "--sign-recursive",
      "--report",
      reportPath
    ])
    expect(run.code, describeRun(run)).toBe(0)
    const report = await readReport(reportPath)
    for (const i of images.slice(0, 6)) {
      expect(signedLineFor(run.stdout, i.source).marker).toBe("signed")
      for (const digest of [i.digest, ...i.children]) expect(await legacySigned(plain, i.repo, digest), `${i.source} ${digest}`).toBe(true)
      expect((report.images.find((r) => r.source === i.source) as unknown as { childrenSigned: number }).childrenSigned).toBe(3)
    }
  }, 120_000)

  test("a second run writes nothing", async () => {
    await plain.resetRequests()
    const again = await sync(await definitionFor(plain.host, "legacy-2.yaml", images.slice(0, 6)), ["--sign-key", paths.key, "--sign-recursive"])
    expect(again.code, describeRun(again)).toBe(0)
    for (const i of images.slice(0, 6)) expect(signedLineFor(again.stdout, i.source).marker).toBe("signature present")
    expect(await writeRequests(plain)).toEqual([])
  }, 120_000)

  test("an index already present and unsigned gets all four signed", async () => {
    const late = images.slice(6)
    const file = await definitionFor(plain.host, "late.yaml", late)
    const unsigned = await sync(file, [])
    expect(unsigned.code, describeRun(unsigned)).toBe(0)
    for (const i of late) for (const digest of [i.digest, ...i.children]) expect(await legacySigned(plain, i.repo, digest)).toBe(false)
    const signed = await sync(file, ["--sign-key", paths.key, "--sign-recursive"])
    expect(signed.code, describeRun(signed)).toBe(0)
    for (const i of late) {
      const line = signedLineFor(signed.stdout, i.source)
      expect(line.status).toBe("present")
      expect(line.marker).toBe("signed")
      for (const digest of [i.digest, ...i.children]) expect(await legacySigned(plain, i.repo, digest), digest).toBe(true)
    }
  }, 120_000)

  test("verify --sign-recursive: 0 when every child is signed; 1 naming the child for an index signed without it", async () => {
    const ok = await runCli(["verify", "-i", await definitionFor(plain.host, "legacy-verify.yaml"), "--key", paths.pub, "--sign-recursive"], { home: dir })
    expect(ok.code, describeRun(ok)).toBe(0)
    const pushed = await pushImage(src.url, "team/flat", "1.0", { platforms: THREE, seed: "recursive-flat", ...SMALL })
    const flat = [{ source: "team/flat:1.0", digest: pushed.digest, children: pushed.children.map((c) => c.digest), repo: "mirror/team/flat" }]
    const file = await definitionFor(plain.host, "flat.yaml", flat)
    expect((await sync(file, ["--sign-key", paths.key])).code).toBe(0)
    expect((await runCli(["verify", "-i", file, "--key", paths.pub], { home: dir })).code).toBe(0)
    const deep = await runCli(["verify", "-i", file, "--key", paths.pub, "--sign-recursive"], { home: dir })
    expect(deep.code, describeRun(deep)).toBe(1)
    expect(deep.stdout).toMatch(
      new RegExp(`^unsigned\\s+${plain.host}/mirror/team/flat:1.0 ${pushed.digest} : .*child ${flat[0]!.children[0]!.slice(0, 19)}`, "m")
    )
  }, 120_000)
})

describe("bundle: a referrer bundle for the index and for each child (referrers API)", () => {
  test("synced with --sign-recursive --signature-format bundle: four verifying bundles per image; a second run writes nothing", async () => {
    const file = await definitionFor(withApi.host, "bundle.yaml")
    const run = await sync(file, ["--sign-key", paths.key, "--signature-format", "bundle", "--sign-recursive"])
    expect(run.code, describeRun(run)).toBe(0)
    for (const i of images) {
      for (const digest of [i.digest, ...i.children]) {
        const verified = await verifiedBundles(withApi.url, i.repo, await referrersFromApi(withApi.url, i.repo, digest), key.publicKey)
        expect(verified, `${i.source} ${digest}`).toHaveLength(1)
        expect(verified[0]!.statement.subject.map((s) => `sha256:${s.digest["sha256"]}`)).toEqual([digest])
      }
    }
    withApi.resetRequests()
    const again = await sync(file, ["--sign-key", paths.key, "--signature-format", "bundle", "--sign-recursive"])
    expect(again.code, describeRun(again)).toBe(0)
    expect(withApi.requests().filter((r) => !["GET", "HEAD"].includes(r.method))).toEqual([])
    const v = await runCli(["verify", "-i", file, "--key", paths.pub, "--sign-recursive", "--signature-format", "bundle"], { home: dir })
    expect(v.code, describeRun(v)).toBe(0)
  }, 180_000)
})

describe("a child two indexes share, both synced at once", () => {
  test("it gets one signature per format: one .sig layer, one bundle in its fallback index; the index stays an index", async () => {
    // app:a and app:b are two indexes of one repository listing the same linux/amd64 manifest
    const a = await pushImage(src.url, "team/shared", "a", { platforms: THREE, seed: "shared-a", ...SMALL })
    const b = await pushImage(src.url, "team/shared", "tmp-b", { platforms: THREE, seed: "shared-b", ...SMALL })
    const index = JSON.parse(new TextDecoder().decode(b.manifestBytes)) as {
      manifests: Array<{ digest: string; size: number; mediaType: string; platform: unknown }>
    }
    const fromA = JSON.parse(new TextDecoder().decode(a.manifestBytes)) as typeof index
    index.manifests[0] = fromA.manifests[0]!
    const bBytes = new TextEncoder().encode(JSON.stringify(index))
    await pushRawManifest(
      src.url,
      "team/shared",
      "b",
      bBytes,
      index.manifests[0]!.mediaType.includes("oci") ? "application/vnd.oci.image.index.v1+json" : "application/vnd.docker.distribution.manifest.list.v2+json"
    )
    const shared = a.children[0]!.digest
    expect(index.manifests[0]!.digest).toBe(shared)
    const list = [
      { source: "team/shared:a", digest: a.digest, children: a.children.map((c) => c.digest), repo: "mirror/team/shared" },
      { source: "team/shared:b", digest: sha256(bBytes), children: index.manifests.map((m) => m.digest), repo: "mirror/team/shared" }
    ]
    const file = await definitionFor(plain.host, "shared.yaml", list)
    const run = await sync(file, ["--sign-key", paths.key, "--signature-format", "both", "--sign-recursive"])
    expect(run.code, describeRun(run)).toBe(0)
    expect((await fetchSignature(plain.url, "mirror/team/shared", shared))?.json.layers).toHaveLength(1)
    const fallback = await fallbackIndex(plain.url, "mirror/team/shared", shared)
    expect(fallback?.entries).toHaveLength(1)
    expect(await verifiedBundles(plain.url, "mirror/team/shared", fallback!.entries, key.publicKey)).toHaveLength(1)
    for (const i of list) for (const digest of [i.digest, ...i.children]) expect(await legacySigned(plain, i.repo, digest), digest).toBe(true)
  }, 120_000)
})
