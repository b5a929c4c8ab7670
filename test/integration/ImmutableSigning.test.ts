/**
 * A registry whose tags are immutable (ECR IMMUTABLE, Harbor immutability rules; the stand-in
 * refuses any rewrite of an existing tag with 400 TAG_INVALID) in front of the referrers
 * stand-in and a real docker-registry. A second legacy signature must rewrite the `.sig` tag:
 * the image fails with a message naming the refusal and suggesting `--signature-format
 * bundle`, which then succeeds — a referrer is added, nothing is rewritten.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { verify } from "node:crypto"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import { p256, pkcs8Pem, spkiPem } from "../fixtures/signing/CosignKeys.ts"
import { signedLineFor } from "../fixtures/signing/Lines.ts"
import { fetchSignature, sigTag } from "../fixtures/signing/RegistryReads.ts"
import { referrersFromApi, verifiedBundles } from "../fixtures/signing/Sigstore.ts"
import { startImmutableTagsRegistry } from "../support/registries/ImmutableTags.ts"
import type { ImmutableTagsRegistry } from "../support/registries/ImmutableTags.ts"
import { startReferrersRegistry } from "../support/registries/Referrers.ts"
import type { ReferrersRegistry } from "../support/registries/Referrers.ts"
import { describeRun, makeTempDir, readReport, removeDir, runCli, SMALL, TWO_PLATFORMS, writeDefinition } from "./helpers.ts"

let src: LocalRegistry
let behind: LocalRegistry
let referrers: ReferrersRegistry
let immutable: ImmutableTagsRegistry
let dir = ""
const key1 = p256()
const key2 = p256()
const paths = { key1: "", key2: "", pub2: "" }
const images: Array<{ readonly source: string; readonly digest: string; readonly repo: string }> = []
let file = ""

const sync = (args: ReadonlyArray<string>) => runCli(["-i", file, "-j", "8", ...args], { home: dir })

beforeAll(async () => {
  ;[src, behind] = await Promise.all([startRegistry(), startRegistry()])
  referrers = startReferrersRegistry(behind.url)
  immutable = startImmutableTagsRegistry(referrers.url)
  dir = await makeTempDir("immutable")
  for (let i = 0; i < 4; i++) {
    const pushed = await pushImage(src.url, `team/locked${i}`, "1.0", { platforms: TWO_PLATFORMS, seed: `immutable-${i}`, ...SMALL })
    images.push({ source: `team/locked${i}:1.0`, digest: pushed.digest, repo: `mirror/team/locked${i}` })
  }
  file = await writeDefinition(dir, "images.yaml", {
    targetRepoPrefix: `${immutable.host}/mirror/`,
    registries: { "docker.io": { mirror: src.host } },
    images: images.map((i) => ({ source: i.source }))
  })
  paths.key1 = join(dir, "key1.pem")
  paths.key2 = join(dir, "key2.pem")
  paths.pub2 = join(dir, "key2.pub")
  await writeFile(paths.key1, pkcs8Pem(key1.privateKey), { mode: 0o600 })
  await writeFile(paths.key2, pkcs8Pem(key2.privateKey), { mode: 0o600 })
  await writeFile(paths.pub2, spkiPem(key2.publicKey))
}, 60_000)

afterAll(async () => {
  await immutable?.stop()
  await referrers?.stop()
  await Promise.all([src?.stop(), behind?.stop()])
  await removeDir(dir)
}, 60_000)

describe("a second legacy signature on a registry with immutable tags", () => {
  let second: Awaited<ReturnType<typeof sync>>
  let report: Awaited<ReturnType<typeof readReport>>

  beforeAll(async () => {
    const first = await sync(["--sign-key", paths.key1])
    expect(first.code, describeRun(first)).toBe(0)
    const reportPath = join(dir, "second.json")
    second = await sync(["--sign-key", paths.key2, "--report", reportPath])
    report = await readReport(reportPath)
  }, 120_000)

  test("the stand-in refused the rewrite of each .sig tag with 400 TAG_INVALID", async () => {
    expect([...immutable.refused()].sort()).toEqual(images.map((i) => `${i.repo}:${sigTag(i.digest)}`).sort())
    const refusedPuts = immutable.requests().filter((r) => r.method === "PUT" && r.status === 400)
    expect(refusedPuts.length).toBeGreaterThanOrEqual(images.length)
  })

  test("exit 1; each image failed (SigningFailed) with a message naming the refusal and suggesting --signature-format bundle", () => {
    expect(second.code, describeRun(second)).toBe(1)
    for (const i of images) {
      const line = signedLineFor(second.stdout, i.source)
      expect(line.status, line.line).toBe("failed")
      const entry = report.images.find((r) => r.source === i.source)!
      expect(entry.errorType).toBe("SigningFailed")
      expect(entry.error).toContain(sigTag(i.digest))
      expect(entry.error).toContain("the registry refused to overwrite it")
      expect(entry.error).toContain("--signature-format bundle")
    }
  })

  test("the .sig tags still hold key1's signature alone", async () => {
    for (const i of images) {
      const found = await fetchSignature(behind.url, i.repo, i.digest)
      expect(found?.json.layers).toHaveLength(1)
      const sig = Buffer.from(found!.json.layers[0]!.annotations!["dev.cosignproject.cosign/signature"]!, "base64")
      expect(verify("sha256", found!.payloads[0]!, key1.publicKey, sig)).toBe(true)
    }
  })

  test("with --signature-format bundle the second key signs: exit 0, a bundle by key2 listed by the referrers API, nothing refused", async () => {
    const refusedBefore = immutable.refused().length
    const bundle = await sync(["--sign-key", paths.key2, "--signature-format", "bundle"])
    expect(bundle.code, describeRun(bundle)).toBe(0)
    for (const i of images) {
      expect(signedLineFor(bundle.stdout, i.source).marker).toBe("signed")
      const verified = await verifiedBundles(immutable.url, i.repo, await referrersFromApi(immutable.url, i.repo, i.digest), key2.publicKey)
      expect(verified, i.source).toHaveLength(1)
    }
    expect(immutable.refused().length).toBe(refusedBefore)
    const v = await runCli(["verify", "-i", file, "--key", paths.pub2], { home: dir })
    expect(v.code, describeRun(v)).toBe(0)
  }, 120_000)
})
