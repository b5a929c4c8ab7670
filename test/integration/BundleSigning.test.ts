/**
 * `--signature-format bundle`: what `cosign sign --key` v3 writes — a sigstore bundle in an
 * OCI 1.1 artifact whose subject is the image — on a registry with the referrers API (the
 * stand-in in front of docker-registry) and on one without (docker-registry 2.8, which answers
 * 404 on /referrers/: the `sha256-<hex>` fallback index, entries already there kept). Every
 * check reads the registries with plain fetch and verifies with @sigstore/verify, the key as
 * trusted material, no transparency log. Eight images in flight.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage, pushRawManifest } from "../../demo/SampleImages.ts"
import { p256, spkiPem, writeKeyFiles } from "../fixtures/signing/CosignKeys.ts"
import { signedLineFor } from "../fixtures/signing/Lines.ts"
import { fetchSignature, sha256, uploadBlob } from "../fixtures/signing/RegistryReads.ts"
import {
  BUNDLE_TYPE,
  COSIGN_SIGN,
  fallbackIndex,
  readBundleReferrer,
  referrersFromApi,
  verifiedBundles,
  verifyBundleBytes
} from "../fixtures/signing/Sigstore.ts"
import { startReferrersRegistry } from "../support/registries/Referrers.ts"
import type { ReferrersRegistry } from "../support/registries/Referrers.ts"
import { AMD64, describeRun, makeTempDir, readReport, removeDir, runCli, SMALL, TWO_PLATFORMS, writeDefinition, writeRequests } from "./helpers.ts"
import type { CliRun } from "./helpers.ts"

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
const OCI_INDEX = "application/vnd.oci.image.index.v1+json"
const enc = (s: string) => new TextEncoder().encode(s)

let src: LocalRegistry
let plain: LocalRegistry
let behind: LocalRegistry
let withApi: ReferrersRegistry
let dir = ""
const key = p256()
const stranger = p256()
const paths = { key: "", pub: "", strangerPub: "" }
const images: Array<{ readonly source: string; readonly digest: string; readonly mediaType: string; readonly size: number; readonly repo: string }> = []

const definitionFor = (host: string, name: string) =>
  writeDefinition(dir, name, {
    targetRepoPrefix: `${host}/mirror/`,
    registries: { "docker.io": { mirror: src.host } },
    images: images.map((i) => ({ source: i.source, ...(i.mediaType === OCI_MANIFEST ? { amd64Only: true } : {}) }))
  })
const sync = (file: string, args: ReadonlyArray<string>) => runCli(["-i", file, "-j", "8", ...args], { home: dir })
const bundleArgs = () => ["--sign-key", paths.key, "--signature-format", "bundle"]

beforeAll(async () => {
  ;[src, plain, behind] = await Promise.all([startRegistry(), startRegistry(), startRegistry()])
  withApi = startReferrersRegistry(behind.url)
  dir = await makeTempDir("bundle")
  for (let i = 0; i < 8; i++) {
    const single = i % 4 === 3
    const spec = single ? { platforms: AMD64, index: false, seed: `bundle-${i}`, ...SMALL } : { platforms: TWO_PLATFORMS, seed: `bundle-${i}`, ...SMALL }
    const pushed = await pushImage(src.url, `team/app${i}`, "1.0", spec)
    images.push({ source: `team/app${i}:1.0`, digest: pushed.digest, mediaType: pushed.mediaType, size: pushed.size, repo: `mirror/team/app${i}` })
  }
  paths.strangerPub = join(dir, "stranger.pub")
  Object.assign(paths, await writeKeyFiles(dir, key))
  await writeFile(paths.strangerPub, spkiPem(stranger.publicKey))
}, 60_000)

afterAll(async () => {
  await withApi?.stop()
  await Promise.all([src?.stop(), plain?.stop(), behind?.stop()])
  await removeDir(dir)
}, 60_000)

describe("a registry with the referrers API (stand-in in front of docker-registry)", () => {
  let run: CliRun
  let report: Awaited<ReturnType<typeof readReport>>

  beforeAll(async () => {
    const reportPath = join(dir, "api.json")
    run = await sync(await definitionFor(withApi.host, "api.yaml"), [...bundleArgs(), "--report", reportPath])
    report = await readReport(reportPath)
  }, 120_000)

  test("exit 0; every image synced and (signed); the report names each bundle's referrer", () => {
    expect(run.code, describeRun(run)).toBe(0)
    for (const i of images) {
      expect(signedLineFor(run.stdout, i.source).marker).toBe("signed")
      const entry = report.images.find((r) => r.source === i.source) as unknown as { bundleDigest?: string; signatureDigest?: string }
      expect(entry.bundleDigest).toMatch(/^sha256:[a-f0-9]{64}$/)
      expect(entry.signatureDigest).toBeUndefined()
    }
  })

  test("the referrers API lists one bundle per image; it verifies with the key (@sigstore/verify, no log) and its statement's subject is the target digest", async () => {
    for (const i of images) {
      const listed = await referrersFromApi(withApi.url, i.repo, i.digest)
      const bundles = listed.filter((l) => l.artifactType === BUNDLE_TYPE)
      expect(bundles, i.source).toHaveLength(1)
      expect(bundles[0]!.annotations?.["dev.sigstore.bundle.content"]).toBe("dsse-envelope")
      expect(bundles[0]!.annotations?.["dev.sigstore.bundle.predicateType"]).toBe(COSIGN_SIGN)
      const stored = await readBundleReferrer(withApi.url, i.repo, bundles[0]!.digest)
      expect(stored.manifest.artifactType).toBe(BUNDLE_TYPE)
      expect(stored.manifest.config).toEqual(
        { mediaType: "application/vnd.oci.empty.v1+json", size: 2, digest: sha256(enc("{}")), artifactType: BUNDLE_TYPE } as never
      )
      expect(stored.manifest.subject).toEqual({ mediaType: i.mediaType, size: i.size, digest: i.digest })
      const statement = verifyBundleBytes(stored.bundle, key.publicKey)
      expect(statement.predicateType).toBe(COSIGN_SIGN)
      expect(statement.subject.map((s) => `sha256:${s.digest["sha256"]}`)).toEqual([i.digest])
      expect(() => verifyBundleBytes(stored.bundle, stranger.publicKey)).toThrow()
    }
  })

  test("no fallback tag and no .sig are written where the registry keeps the list itself", async () => {
    for (const i of images) {
      expect(await fallbackIndex(behind.url, i.repo, i.digest), i.source).toBeUndefined()
      expect(await fetchSignature(behind.url, i.repo, i.digest)).toBeUndefined()
    }
  })

  test("a second run writes nothing", async () => {
    withApi.resetRequests()
    const again = await sync(await definitionFor(withApi.host, "api-2.yaml"), bundleArgs())
    expect(again.code, describeRun(again)).toBe(0)
    for (const i of images) expect(signedLineFor(again.stdout, i.source).marker).toBe("signature present")
    expect(withApi.requests().filter((r) => !["GET", "HEAD"].includes(r.method))).toEqual([])
    expect(withApi.requests().some((r) => r.path.includes("/referrers/"))).toBe(true)
  }, 120_000)

  test("verify: either format satisfies it; --signature-format bundle too; legacy and a stranger's key do not", async () => {
    const file = await definitionFor(withApi.host, "api-verify.yaml")
    const either = await runCli(["verify", "-i", file, "--key", paths.pub], { home: dir })
    expect(either.code, describeRun(either)).toBe(0)
    const bundle = await runCli(["verify", "-i", file, "--key", paths.pub, "--signature-format", "bundle"], { home: dir })
    expect(bundle.code, describeRun(bundle)).toBe(0)
    const legacy = await runCli(["verify", "-i", file, "--key", paths.pub, "--signature-format", "legacy"], { home: dir })
    expect(legacy.code, describeRun(legacy)).toBe(1)
    expect(legacy.stdout).toContain("no legacy .sig signature by this key")
    const other = await runCli(["verify", "-i", file, "--key", paths.strangerPub], { home: dir })
    expect(other.code, describeRun(other)).toBe(1)
    expect(other.stdout).toContain(`${images.length} images: 0 verified, ${images.length} not verified`)
  }, 60_000)
})

describe("a registry without the referrers API (docker-registry 2.8): the sha256-<hex> fallback index", () => {
  let run: CliRun
  const foreign = { digest: "", descriptor: "" }

  beforeAll(async () => {
    // The images are there already, unsigned, and the first has a referrer from another tool in its fallback index.
    const unsigned = await sync(await definitionFor(plain.host, "plain-0.yaml"), [])
    expect(unsigned.code, describeRun(unsigned)).toBe(0)
    const first = images[0]!
    const sbom = enc(JSON.stringify({ spdxVersion: "SPDX-2.3", name: "app0" }))
    await uploadBlob(plain.url, first.repo, enc("{}"))
    await uploadBlob(plain.url, first.repo, sbom)
    const sbomManifest = enc(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/spdx+json",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha256(enc("{}")), size: 2 },
      layers: [{ mediaType: "application/spdx+json", digest: sha256(sbom), size: sbom.length }],
      subject: { mediaType: first.mediaType, digest: first.digest, size: first.size }
    }))
    foreign.digest = await pushRawManifest(plain.url, first.repo, sha256(sbomManifest), sbomManifest, OCI_MANIFEST)
    foreign.descriptor = `{"mediaType":"${OCI_MANIFEST}","digest":"${foreign.digest}","size":${sbomManifest.length},"artifactType":"application/spdx+json"}`
    const index = enc(`{"schemaVersion":2,"mediaType":"${OCI_INDEX}","manifests":[${foreign.descriptor}]}`)
    await pushRawManifest(plain.url, first.repo, `sha256-${first.digest.slice(7)}`, index, OCI_INDEX)
    run = await sync(await definitionFor(plain.host, "plain.yaml"), bundleArgs())
  }, 120_000)

  test("the stand-in's premise: docker-registry answers 404 on /referrers/", async () => {
    const res = await fetch(`${plain.url}/v2/${images[0]!.repo}/referrers/${images[0]!.digest}`, { proxy: false })
    await res.arrayBuffer()
    expect(res.status).toBe(404)
  })

  test("exit 0; the present images are signed", () => {
    expect(run.code, describeRun(run)).toBe(0)
    for (const i of images) {
      const line = signedLineFor(run.stdout, i.source)
      expect(line.status).toBe("present")
      expect(line.marker).toBe("signed")
    }
  })

  test("each fallback index lists a bundle that verifies with the key and names the target digest", async () => {
    for (const i of images) {
      const index = await fallbackIndex(plain.url, i.repo, i.digest)
      expect(index, i.source).toBeDefined()
      const verified = await verifiedBundles(plain.url, i.repo, index!.entries, key.publicKey)
      expect(verified, i.source).toHaveLength(1)
      expect(verified[0]!.statement.subject.map((s) => `sha256:${s.digest["sha256"]}`)).toEqual([i.digest])
      expect(verified[0]!.referrer.manifest.subject?.digest).toBe(i.digest)
      const entry = index!.entries.find((e) => e.digest === verified[0]!.referrer.digest)!
      expect(entry.artifactType).toBe(BUNDLE_TYPE)
      expect(entry.annotations?.["dev.sigstore.bundle.predicateType"]).toBe(COSIGN_SIGN)
    }
  })

  test("the entry another tool put there stays, first and byte for byte", async () => {
    const index = await fallbackIndex(plain.url, images[0]!.repo, images[0]!.digest)
    const text = new TextDecoder().decode(index!.bytes)
    expect(index!.entries.map((e) => e.digest)[0]).toBe(foreign.digest)
    expect(index!.entries).toHaveLength(2)
    expect(text.startsWith(`{"schemaVersion":2,"mediaType":"${OCI_INDEX}","manifests":[${foreign.descriptor},`)).toBe(true)
  })

  test("a second run writes nothing", async () => {
    await plain.resetRequests()
    const again = await sync(await definitionFor(plain.host, "plain-2.yaml"), bundleArgs())
    expect(again.code, describeRun(again)).toBe(0)
    for (const i of images) expect(signedLineFor(again.stdout, i.source).marker).toBe("signature present")
    expect(await writeRequests(plain)).toEqual([])
    expect(plain.requests().length).toBeGreaterThan(images.length)
  }, 120_000)

  test("--signature-format both adds the legacy .sig beside the bundle; verify --signature-format both passes", async () => {
    const file = await definitionFor(plain.host, "plain-both.yaml")
    const both = await sync(file, ["--sign-key", paths.key, "--signature-format", "both"])
    expect(both.code, describeRun(both)).toBe(0)
    for (const i of images) {
      expect(signedLineFor(both.stdout, i.source).marker).toBe("signed")
      const index = await fallbackIndex(plain.url, i.repo, i.digest)
      expect((await verifiedBundles(plain.url, i.repo, index!.entries, key.publicKey)).length, "still one bundle").toBe(1)
      expect((await fetchSignature(plain.url, i.repo, i.digest))?.json.layers).toHaveLength(1)
    }
    const v = await runCli(["verify", "-i", file, "--key", paths.pub, "--signature-format", "both"], { home: dir })
    expect(v.code, describeRun(v)).toBe(0)
  }, 120_000)
})
