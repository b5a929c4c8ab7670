/**
 * `--attest`: a signed in-toto statement with an SLSA provenance v1 predicate for every image,
 * in cosign's forms (legacy `.att` DSSE layer on docker-registry; a bundle referrer on the
 * referrers stand-in). Checked independently of src/: the envelope's signature over the DSSE
 * PAE with node:crypto (bundles with @sigstore/verify), the subject, the source digest, the
 * tool's version. `verify --attest` passes on the synced list and names the image whose
 * attestation was removed. Eight images in flight.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import packageJson from "../../package.json" with { type: "json" }
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import { p256, writeKeyFiles } from "../fixtures/signing/CosignKeys.ts"
import { fetchBlob, fetchManifest, sigTag } from "../fixtures/signing/RegistryReads.ts"
import { referrersFromApi, SLSA_V1, verifiedBundles, verifyEnvelopeBytes } from "../fixtures/signing/Sigstore.ts"
import type { ReadStatement } from "../fixtures/signing/Sigstore.ts"
import { startReferrersRegistry } from "../support/registries/Referrers.ts"
import type { ReferrersRegistry } from "../support/registries/Referrers.ts"
import { describeRun, makeTempDir, readReport, removeDir, runCli, settledRequests, SMALL, TWO_PLATFORMS, writeDefinition, writeRequests } from "./helpers.ts"
import type { DefinitionSpec } from "./helpers.ts"

let src: LocalRegistry
let plain: LocalRegistry
let behind: LocalRegistry
let withApi: ReferrersRegistry
let dir = ""
const key = p256()
const paths = { key: "", pub: "" }

/** One entry: its source as written, what the definition adds, the digest the target gets and the source digest. */
interface Entry {
  readonly source: string
  readonly extra: { readonly platforms?: ReadonlyArray<string>; readonly tag?: string }
  readonly repo: string
  readonly tag: string
  readonly sourceDigest: string
  /** known after the sync for a platform subset */
  targetDigest: string
}
const entries: Array<Entry> = []

const definitionFor = (host: string, name: string) =>
  writeDefinition(dir, name, {
    targetRepoPrefix: `${host}/mirror/`,
    registries: { "docker.io": { mirror: src.host } },
    images: entries.map((e) => ({ source: e.source, ...e.extra })) as DefinitionSpec["images"]
  })
const sync = (file: string, args: ReadonlyArray<string>) => runCli(["-i", file, "-j", "8", ...args], { home: dir })

/** Checks one provenance statement against the entry. */
const expectProvenance = (s: ReadStatement, e: Entry, host: string) => {
  expect(s._type).toBe("https://in-toto.io/Statement/v1")
  expect(s.predicateType).toBe(SLSA_V1)
  expect(s.subject).toEqual([{ name: `${host}/${e.repo}`, digest: { sha256: e.targetDigest.slice(7) } }])
  const build = s.predicate.buildDefinition
  expect(build.buildType).toBe("urn:image-syncer:copy:v1")
  expect(build.externalParameters.source).toBe(e.source)
  expect(build.externalParameters.target).toBe(`${host}/${e.repo}:${e.tag}`)
  expect(build.resolvedDependencies[0].digest).toEqual({ sha256: e.sourceDigest.slice(7) })
  expect(build.resolvedDependencies[0].annotations).toEqual({ readFrom: src.host })
  expect(s.predicate.runDetails.builder.version).toEqual({ "image-syncer": packageJson.version })
  expect(s.predicate.runDetails.builder.id).toContain(packageJson.version)
  const { startedOn, finishedOn } = s.predicate.runDetails.metadata
  expect(Date.parse(startedOn)).toBeLessThanOrEqual(Date.parse(finishedOn))
}

beforeAll(async () => {
  ;[src, plain, behind] = await Promise.all([startRegistry(), startRegistry({ deleteEnabled: true }), startRegistry({ deleteEnabled: true })])
  withApi = startReferrersRegistry(behind.url)
  dir = await makeTempDir("attest")
  for (let i = 0; i < 7; i++) {
    const pushed = await pushImage(src.url, `team/svc${i}`, "3.1", { platforms: TWO_PLATFORMS, seed: `attest-${i}`, ...SMALL })
    const pinned = i === 1
    entries.push({
      source: pinned ? `team/svc${i}:3.1@${pushed.digest}` : `team/svc${i}:3.1`,
      extra: {},
      repo: `mirror/team/svc${i}`,
      tag: "3.1",
      sourceDigest: pushed.digest,
      targetDigest: pushed.digest
    })
  }
  // a platform subset: the target digest is its own, the source digest the index it was cut from
  const subset = await pushImage(src.url, "team/subset", "1.0", { platforms: TWO_PLATFORMS, seed: "attest-subset", ...SMALL })
  entries.push({
    source: "team/subset:1.0",
    extra: { platforms: ["linux/amd64"] },
    repo: "mirror/team/subset",
    tag: "1.0",
    sourceDigest: subset.digest,
    targetDigest: ""
  })
  Object.assign(paths, await writeKeyFiles(dir, key))
}, 60_000)

afterAll(async () => {
  await withApi?.stop()
  await Promise.all([src?.stop(), plain?.stop(), behind?.stop()])
  await removeDir(dir)
}, 60_000)

describe("--attest without --sign-key", () => {
  test("exit 2 with a clear message; no registry contacted", async () => {
    await Promise.all([src.resetRequests(), plain.resetRequests()])
    const run = await sync(await definitionFor(plain.host, "no-key.yaml"), ["--attest"])
    expect(run.code, describeRun(run)).toBe(2)
    expect(run.stderr).toContain("--attest (SYNCER_ATTEST) needs --sign-key")
    expect(run.stdout).toBe("")
    expect(await settledRequests(src)).toEqual([])
    expect(await settledRequests(plain)).toEqual([])
    const env = await runCli(["-i", await definitionFor(plain.host, "no-key-env.yaml")], { home: dir, env: { SYNCER_ATTEST: "true" } })
    expect(env.code, describeRun(env)).toBe(2)
  })
})

describe("--attest in a dry run", () => {
  test("every image planned, wouldSign and wouldAttest in the report; nothing written", async () => {
    await plain.resetRequests()
    const reportPath = join(dir, "dry.json")
    const run = await sync(await definitionFor(plain.host, "dry.yaml"), [
      "--dry-run",
      "--sign-key",
      paths.key,
      "--signature-format",
      "both",
      "--attest",
      "--report",
      reportPath
    ])
    expect(run.code, describeRun(run)).toBe(0)
    for (const r of (await readReport(reportPath)).images as unknown as Array<Record<string, unknown>>) {
      expect(r["status"]).toBe("planned")
      expect(r["wouldSign"]).toBe(true)
      expect(r["wouldAttest"]).toBe(true)
      expect(r["attested"]).toBe(false)
    }
    expect(await writeRequests(plain)).toEqual([])
  }, 60_000)
})

describe("legacy: a DSSE layer in sha256-<hex>.att", () => {
  const attOf = async (e: Entry) => {
    const att = await fetchManifest(plain.url, e.repo, sigTag(e.targetDigest, ".att"))
    if (att === undefined) return undefined
    const json = JSON.parse(new TextDecoder().decode(att.bytes)) as {
      layers: Array<{ mediaType: string; digest: string; annotations?: Record<string, string> }>
    }
    return { manifest: att, layers: json.layers }
  }

  beforeAll(async () => {
    const reportPath = join(dir, "legacy.json")
    const run = await sync(await definitionFor(plain.host, "legacy.yaml"), ["--sign-key", paths.key, "--attest", "--report", reportPath])
    expect(run.code, describeRun(run)).toBe(0)
    const report = await readReport(reportPath)
    for (const e of entries) {
      const r = report.images.find((x) => x.source === e.source) as unknown as { digest: string; attested: unknown; attestationDigest?: string }
      e.targetDigest = r.digest
      expect(r.attested, e.source).toBe(true)
      expect(r.attestationDigest).toMatch(/^sha256:/)
    }
  }, 120_000)

  test("the subset really has its own digest", () => {
    const subset = entries.find((e) => e.extra.platforms !== undefined)!
    expect(subset.targetDigest).not.toBe(subset.sourceDigest)
  })

  test("each image's .att layer: DSSE media type and predicateType annotation; the envelope verifies with the key over its PAE", async () => {
    for (const e of entries) {
      const att = await attOf(e)
      expect(att, e.source).toBeDefined()
      expect(att!.layers).toHaveLength(1)
      expect(att!.layers[0]!.mediaType).toBe("application/vnd.dsse.envelope.v1+json")
      expect(att!.layers[0]!.annotations).toEqual({ predicateType: SLSA_V1 })
      const envelope = await fetchBlob(plain.url, e.repo, att!.layers[0]!.digest)
      const statement = verifyEnvelopeBytes(envelope, key.publicKey)
      expect(statement, e.source).toBeDefined()
      expect(verifyEnvelopeBytes(envelope, p256().publicKey)).toBeUndefined()
      expectProvenance(statement!, e, plain.host)
    }
  })

  test("a second run writes nothing", async () => {
    await plain.resetRequests()
    const again = await sync(await definitionFor(plain.host, "legacy-2.yaml"), ["--sign-key", paths.key, "--attest"])
    expect(again.code, describeRun(again)).toBe(0)
    expect(await writeRequests(plain)).toEqual([])
  }, 120_000)

  test("verify --attest: exit 0 on the synced list; 1 naming the image whose attestation was removed", async () => {
    const file = await definitionFor(plain.host, "legacy-verify.yaml")
    const ok = await runCli(["verify", "-i", file, "--key", paths.pub, "--attest"], { home: dir })
    expect(ok.code, describeRun(ok)).toBe(0)
    expect(ok.stdout).toContain(`${entries.length} images: ${entries.length} verified, 0 not verified`)
    const victim = entries[2]!
    const att = await attOf(victim)
    const del = await fetch(`${plain.url}/v2/${victim.repo}/manifests/${att!.manifest.digest}`, { method: "DELETE", proxy: false })
    expect(del.status).toBe(202)
    const bad = await runCli(["verify", "-i", file, "--key", paths.pub, "--attest"], { home: dir })
    expect(bad.code, describeRun(bad)).toBe(1)
    expect(bad.stdout).toMatch(new RegExp(`^unattested\\s+${plain.host}/${victim.repo}:${victim.tag} ${victim.targetDigest} : no provenance attestation`, "m"))
    expect(bad.stdout).toContain(`${entries.length} images: ${entries.length - 1} verified, 1 not verified`)
    // the next sync puts it back, and only it
    await plain.resetRequests()
    const again = await sync(await definitionFor(plain.host, "legacy-3.yaml"), ["--sign-key", paths.key, "--attest"])
    expect(again.code, describeRun(again)).toBe(0)
    const puts = (await writeRequests(plain)).filter((r) => r.method === "PUT" && r.path.includes("/manifests/"))
    expect(puts.map((r) => r.path)).toEqual([`/v2/${victim.repo}/manifests/${sigTag(victim.targetDigest, ".att")}`])
    expect((await runCli(["verify", "-i", file, "--key", paths.pub, "--attest"], { home: dir })).code).toBe(0)
  }, 120_000)
})

describe("bundle: a provenance bundle as a referrer (referrers API)", () => {
  test("each image has a verifying provenance bundle; verify --attest 0, then 1 naming the image whose bundle was deleted", async () => {
    const file = await definitionFor(withApi.host, "bundle.yaml")
    const run = await sync(file, ["--sign-key", paths.key, "--signature-format", "bundle", "--attest"])
    expect(run.code, describeRun(run)).toBe(0)
    const provenance = new Map<string, string>()
    for (const e of entries) {
      const verified = (await verifiedBundles(withApi.url, e.repo, await referrersFromApi(withApi.url, e.repo, e.targetDigest), key.publicKey))
        .filter((b) => b.statement.predicateType === SLSA_V1)
      expect(verified, e.source).toHaveLength(1)
      expect(verified[0]!.referrer.manifest.annotations?.["dev.sigstore.bundle.predicateType"]).toBe(SLSA_V1)
      expectProvenance(verified[0]!.statement, e, withApi.host)
      provenance.set(e.source, verified[0]!.referrer.digest)
    }
    const ok = await runCli(["verify", "-i", file, "--key", paths.pub, "--attest", "--signature-format", "bundle"], { home: dir })
    expect(ok.code, describeRun(ok)).toBe(0)
    const victim = entries[4]!
    const del = await fetch(`${withApi.url}/v2/${victim.repo}/manifests/${provenance.get(victim.source)}`, { method: "DELETE", proxy: false })
    expect(del.status).toBe(202)
    const bad = await runCli(["verify", "-i", file, "--key", paths.pub, "--attest"], { home: dir })
    expect(bad.code, describeRun(bad)).toBe(1)
    expect(bad.stdout).toMatch(new RegExp(`^unattested\\s+${withApi.host}/${victim.repo}:${victim.tag} `, "m"))
    expect(bad.stdout).toContain(`${entries.length - 1} verified, 1 not verified`)
  }, 180_000)
})
