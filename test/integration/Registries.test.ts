/**
 * The registries teams push into, as they really behave: each personality (test/support/
 * registries/, one module per registry, each quirk cited there and in docs/registries.md) in
 * front of a real docker-registry, the seed's images (and one with a 6 MiB layer) synced at
 * -j 8 through the CLI: everything synced, the content as skopeo reads it equal to the
 * source's, no upload body without Content-Length, and a second run all present with no write.
 * Then what only some registries do: Harbor without the project (RepositoryNotFound naming
 * it), Artifactory wanting PATCH chunks (several, at most 4 MiB each), GHCR without a referrers
 * API (an upstream referrer arrives under the sha256-<hex> fallback tag), and Quay refusing an
 * upstream signature's type (the image synced, with a warning naming what was not carried).
 * ECR is in CloudEcr.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage, pushRawManifest, sha256Digest } from "../../demo/SampleImages.ts"
import type { PushedImage } from "../../demo/SampleImages.ts"
import { uploadBlob } from "../fixtures/signing/RegistryReads.ts"
import { pushSeed, seedImages } from "../support/SeedSet.ts"
import type { SeededImage } from "../support/SeedSet.ts"
import { skopeoDigest } from "../support/Skopeo.ts"
import { startAcr } from "../support/registries/Acr.ts"
import { startArtifactory } from "../support/registries/Artifactory.ts"
import { startArtifactRegistry } from "../support/registries/ArtifactRegistry.ts"
import { startGhcr } from "../support/registries/Ghcr.ts"
import { startHarbor } from "../support/registries/Harbor.ts"
import { startQuay } from "../support/registries/Quay.ts"
import { bodiesWithoutLength } from "../support/registries/StandIn.ts"
import type { StandIn } from "../support/registries/StandIn.ts"
import { AMD64, describeRun, makeTempDir, readReport, removeDir, resultLines, runCli, writeDefinition } from "./helpers.ts"
import type { CliRun } from "./helpers.ts"

const TIMEOUT = 120_000
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
const OCI_INDEX = "application/vnd.oci.image.index.v1+json"
const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"])

let src: LocalRegistry
let dir: string
let seed: Array<SeededImage>
/** a single-platform image with a 6 MiB layer: more than one chunk for a registry that wants PATCH */
let big: PushedImage
/** the upstream `.sig` of the keycloak index (a cosign simple-signing layer) */
let sigTag: string
/** the upstream referrer of the busybox index, listed in the source's sha256-<hex> fallback index */
let referrer: { digest: string; fallbackTag: string }

const enc = (s: string) => new TextEncoder().encode(s)
const tagOf = (digest: string) => digest.replace(":", "-")

beforeAll(async () => {
  src = await startRegistry()
  dir = await makeTempDir("registries")
  seed = await pushSeed(src.url, seedImages("registries"))
  big = await pushImage(src.url, "library/bigapp", "1", { platforms: AMD64, index: false, seed: "registries-big", layers: 1, layerSize: 6 * 1024 * 1024 })
  const keycloak = seed[0]!.pushed
  // a cosign-style upstream signature of the keycloak index
  const payload = enc(
    JSON.stringify({
      critical: {
        identity: { "docker-reference": "index.docker.io/bitnami/keycloak-gatekeeper" },
        image: { "docker-manifest-digest": keycloak.digest },
        type: "cosign container image signature"
      },
      optional: null
    })
  )
  const config = enc(JSON.stringify({ architecture: "", os: "", rootfs: { type: "layers", diff_ids: [sha256Digest(payload)] }, config: {} }))
  await uploadBlob(src.url, "bitnami/keycloak-gatekeeper", payload)
  await uploadBlob(src.url, "bitnami/keycloak-gatekeeper", config)
  const sig = enc(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", size: config.length, digest: sha256Digest(config) },
    layers: [{
      mediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
      size: payload.length,
      digest: sha256Digest(payload),
      annotations: { "dev.cosignproject.cosign/signature": "MEUCIQDupstream" }
    }]
  }))
  sigTag = `${tagOf(keycloak.digest)}.sig`
  await pushRawManifest(src.url, "bitnami/keycloak-gatekeeper", sigTag, sig, OCI_MANIFEST)
  // an OCI 1.1 referrer (an SBOM) of the busybox index, in the source's fallback index
  const busybox = seed[2]!.pushed
  const empty = enc("{}")
  const sbom = enc(JSON.stringify({ spdxVersion: "SPDX-2.3", name: "busybox", packages: [] }))
  await uploadBlob(src.url, "library/busybox", empty)
  await uploadBlob(src.url, "library/busybox", sbom)
  const artifact = enc(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: "application/spdx+json",
    config: { mediaType: "application/vnd.oci.empty.v1+json", size: empty.length, digest: sha256Digest(empty) },
    layers: [{ mediaType: "application/spdx+json", size: sbom.length, digest: sha256Digest(sbom) }],
    subject: { mediaType: busybox.mediaType, size: busybox.size, digest: busybox.digest }
  }))
  const artifactDigest = await pushRawManifest(src.url, "library/busybox", sha256Digest(artifact), artifact, OCI_MANIFEST)
  const fallback = enc(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [{ mediaType: OCI_MANIFEST, artifactType: "application/spdx+json", size: artifact.length, digest: artifactDigest }]
  }))
  referrer = { digest: artifactDigest, fallbackTag: tagOf(busybox.digest) }
  await pushRawManifest(src.url, "library/busybox", referrer.fallbackTag, fallback, OCI_INDEX)
}, TIMEOUT)

afterAll(async () => {
  await src?.stop()
  await removeDir(dir)
}, 60_000)

/** The definition: the seed and the big image into `target`, read through a docker.io mirror on the source. */
const definitionFor = (name: string, target: string) =>
  writeDefinition(dir, `${name}.yaml`, {
    targetRepoPrefix: `${target}/external/`,
    registries: { "docker.io": { mirror: src.host } },
    images: [
      ...seed.map(({ image, source }) => ({ source, ...(image.tag === undefined ? {} : { tag: image.tag }), ...(image.amd64Only ? { amd64Only: true } : {}) })),
      { source: "bigapp:1", amd64Only: true }
    ]
  })

/** Every image of the run and the digest its target should hold. */
const expected = () => [
  ...seed.map((s) => ({ target: s.targetPath, digest: s.pushed.digest })),
  { target: "external/library/bigapp:1", digest: big.digest }
]

const sync = (file: string, extra: ReadonlyArray<string> = []) => runCli(["-i", file, "-j", "8", "--report", `${file}.report.json`, ...extra], { home: dir })

const statuses = (run: CliRun) => resultLines(run).map((l) => l.status)

/** Sync twice through `standIn`: the first run writes everything (content checked with skopeo), the second writes nothing. */
const syncTwice = async (name: string, standIn: StandIn) => {
  const file = await definitionFor(name, standIn.host)
  const first = await sync(file)
  expect(first.code, describeRun(first)).toBe(0)
  expect(statuses(first)).toEqual(Array(expected().length).fill("synced"))
  for (const { target, digest } of expected()) expect(await skopeoDigest(`${standIn.host}/${target}`)).toBe(digest)
  expect(bodiesWithoutLength(standIn.requests)).toEqual([])
  const firstRequests = [...standIn.requests]
  standIn.clearRequests()
  const second = await sync(file)
  expect(second.code, describeRun(second)).toBe(0)
  expect(statuses(second)).toEqual(Array(expected().length).fill("present"))
  expect(standIn.requests.filter((r) => WRITES.has(r.method))).toEqual([])
  return { first, firstRequests, file }
}

const personalities: ReadonlyArray<readonly [string, () => Promise<StandIn>]> = [
  ["Artifact Registry (monolithic uploads only)", () => startArtifactRegistry()],
  ["Artifactory (the blob by PATCH before the closing PUT)", () => startArtifactory()],
  ["GHCR (no referrers API, PATCH chunks at most 4 MiB)", () => startGhcr()],
  ["ACR (no Content-Range with a unit)", () => startAcr()],
  ["Quay (an artifact allow-list)", () => startQuay()],
  ["Harbor (the project exists)", () => startHarbor({ projects: ["external"] })]
]

describe("the seed's images into each registry personality, at -j 8", () => {
  for (const [name, start] of personalities) {
    test(`${name}: synced (skopeo reads the same digests), every upload body with a Content-Length, a second run all present with no write`, async () => {
      const standIn = await start()
      try {
        await syncTwice(name.split(" ")[0]!.toLowerCase(), standIn)
      } finally {
        await standIn.stop()
      }
    }, TIMEOUT)
  }
})

describe("what only some registries do", () => {
  test("Harbor without the project: every image failed as RepositoryNotFound naming the project, exit 1, nothing written", async () => {
    const harbor = await startHarbor({ projects: [] })
    try {
      const file = await definitionFor("harbor-missing", harbor.host)
      const run = await sync(file)
      expect(run.code, describeRun(run)).toBe(1)
      const report = await readReport(`${file}.report.json`)
      expect(report.images).toHaveLength(expected().length)
      for (const image of report.images) {
        expect(image.status).toBe("failed")
        expect(image.errorType).toBe("RepositoryNotFound")
        expect(image.error).toContain(`project external does not exist on ${harbor.host}`)
      }
      expect(harbor.requests.filter((r) => WRITES.has(r.method) && r.answeredBy === "upstream")).toEqual([])
    } finally {
      await harbor.stop()
    }
  }, TIMEOUT)

  test("Artifactory: after the whole-blob PUT is refused once, blobs go as PATCH chunks; the 6 MiB layer in several, none over 4 MiB", async () => {
    const artifactory = await startArtifactory()
    try {
      const { firstRequests } = await syncTwice("artifactory-chunks", artifactory)
      const patches = firstRequests.filter((r) => r.method === "PATCH" && r.path.includes("/external/library/bigapp/"))
      const chunked = patches.filter((r) => (r.contentLength ?? 0) > 0)
      const sizes = chunked.map((r) => r.contentLength ?? 0)
      expect(Math.max(...sizes)).toBeLessThanOrEqual(4 * 1024 * 1024)
      // the 6 MiB layer alone needs two chunks
      expect(sizes.filter((s) => s === 4 * 1024 * 1024).length).toBeGreaterThanOrEqual(1)
      expect(chunked.every((r) => /^\d+-\d+$/.test(r.contentRange ?? ""))).toBe(true)
    } finally {
      await artifactory.stop()
    }
  }, TIMEOUT)

  test("GHCR without a referrers API: the busybox image's upstream referrer arrives under the sha256-<hex> fallback tag", async () => {
    const ghcr = await startGhcr()
    try {
      await syncTwice("ghcr-referrers", ghcr)
      const res = await fetch(`${ghcr.upstream.url}/v2/external/library/busybox/manifests/${referrer.fallbackTag}`, { headers: { accept: OCI_INDEX } })
      expect(res.status).toBe(200)
      const index = (await res.json()) as { manifests: Array<{ digest: string; artifactType?: string }> }
      expect(index.manifests.map((m) => m.digest)).toContain(referrer.digest)
      const referred = await fetch(`${ghcr.upstream.url}/v2/external/library/busybox/manifests/${referrer.digest}`, {
        method: "HEAD",
        headers: { accept: OCI_MANIFEST }
      })
      expect(referred.status).toBe(200)
    } finally {
      await ghcr.stop()
    }
  }, TIMEOUT)

  test("Quay refusing the type of an upstream signature: the image synced, with a warning naming the signature not carried", async () => {
    // an allow-list without cosign's simple-signing layer type
    const quay = await startQuay({ allowedArtifactTypes: { "application/vnd.cncf.helm.config.v1+json": ["application/tar+gzip"] } })
    try {
      const file = await definitionFor("quay-refused", quay.host)
      const run = await sync(file)
      expect(run.code, describeRun(run)).toBe(0)
      const report = await readReport(`${file}.report.json`)
      const keycloak = report.images.find((i) => i.source === seed[0]!.source)!
      expect(keycloak.status).toBe("synced")
      expect(keycloak.warnings?.some((w) => w.includes(`upstream ${sigTag} not carried: ${quay.host} refused it (MANIFEST_INVALID`))).toBe(true)
      expect(run.stderr).toContain(`upstream ${sigTag} not carried`)
      expect(await skopeoDigest(`${quay.host}/${seed[0]!.targetPath}`)).toBe(seed[0]!.pushed.digest)
      // busybox's SBOM referrer (an empty config) is refused by that list too; the images without upstream artifacts say nothing
      const busybox = report.images.find((i) => i.source === seed[2]!.source)!
      expect(busybox.status).toBe("synced")
      expect(busybox.warnings?.some((w) => w.includes(`upstream referrers (${referrer.fallbackTag}) not carried`))).toBe(true)
      const others = report.images.filter((i) => i !== keycloak && i !== busybox)
      expect(others.every((i) => !(i.warnings ?? []).some((w) => w.includes("not carried")))).toBe(true)
    } finally {
      await quay.stop()
    }
  }, TIMEOUT)
})
