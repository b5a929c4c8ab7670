/** Cutting a platform subset out of an index: listed children in source order, their attestations, provenance, the same bytes every time. */
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { sha256Digest } from "../../src/model/Digest.ts"
import type { RawManifest } from "../../src/model/Manifest.ts"
import { parsePlatform } from "../../src/model/Platform.ts"
import type { Platform } from "../../src/model/Platform.ts"
import { SOURCE_INDEX_ANNOTATION, subsetIndex } from "../../src/model/PlatformSubset.ts"

const INDEX = "application/vnd.oci.image.index.v1+json"
const MANIFEST = "application/vnd.oci.image.manifest.v1+json"
const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`

const child = (n: number, platform: Record<string, string>, annotations?: Record<string, string>) => ({
  mediaType: MANIFEST,
  digest: d(n),
  size: 500 + n,
  platform,
  ...(annotations ? { annotations } : {})
})

const raw = (json: unknown): RawManifest => {
  const bytes = new TextEncoder().encode(JSON.stringify(json, null, 3))
  return { digest: sha256Digest(bytes), mediaType: INDEX, size: bytes.length, bytes }
}

// a buildx-style index: two images, each with its attestation manifest, plus two more platforms
const source = raw({
  schemaVersion: 2,
  mediaType: INDEX,
  manifests: [
    child(1, { os: "linux", architecture: "amd64" }),
    child(2, { os: "linux", architecture: "arm64", variant: "v8" }),
    child(3, { os: "linux", architecture: "arm", variant: "v7" }),
    child(4, { os: "linux", architecture: "s390x" }),
    child(5, { os: "unknown", architecture: "unknown" }, { "vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": d(1) }),
    child(6, { os: "unknown", architecture: "unknown" }, { "vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": d(3) })
  ],
  annotations: { "org.opencontainers.image.created": "2026-01-01T00:00:00Z" }
})

const wanted = (...names: ReadonlyArray<string>): ReadonlyArray<Platform> => names.map((n) => Either.getOrThrow(parsePlatform(n)))
const json = (m: RawManifest) =>
  JSON.parse(new TextDecoder().decode(m.bytes)) as {
    schemaVersion: number
    mediaType: string
    manifests: Array<{ digest: string }>
    annotations: Record<string, string>
  }

describe("subsetIndex", () => {
  test("keeps the listed children in the source's order, with the attestations that refer to them", () => {
    const cut = Either.getOrThrow(subsetIndex(source, wanted("linux/arm/v7", "linux/amd64")))
    expect(cut.filtered).toBe(true)
    expect(json(cut.index).manifests.map((m) => m.digest)).toEqual([d(1), d(3), d(5), d(6)])
  })

  test("keeps every other field and annotation, adds the source index's digest, and is a digest of its own bytes", () => {
    const cut = Either.getOrThrow(subsetIndex(source, wanted("linux/amd64")))
    const written = json(cut.index)
    expect(written.schemaVersion).toBe(2)
    expect(written.mediaType).toBe(INDEX)
    expect(written.annotations).toEqual({ "org.opencontainers.image.created": "2026-01-01T00:00:00Z", [SOURCE_INDEX_ANNOTATION]: source.digest })
    expect(cut.index.digest).toBe(sha256Digest(cut.index.bytes))
    expect(cut.index.size).toBe(cut.index.bytes.length)
    expect(cut.index.mediaType).toBe(INDEX)
  })

  test("the same source and list give the same bytes; cutting a cut again changes nothing", () => {
    const once = Either.getOrThrow(subsetIndex(source, wanted("linux/amd64", "linux/arm64")))
    const twice = Either.getOrThrow(subsetIndex(source, wanted("linux/amd64", "linux/arm64")))
    expect(Buffer.from(twice.index.bytes).equals(Buffer.from(once.index.bytes))).toBe(true)
    const again = Either.getOrThrow(subsetIndex(once.index, wanted("linux/amd64", "linux/arm64")))
    expect(again.filtered).toBe(false)
    expect(again.index.digest).toBe(once.index.digest)
  })

  test("every child listed: the source index itself, unchanged", () => {
    const all = Either.getOrThrow(subsetIndex(source, wanted("linux/amd64", "linux/arm64", "linux/arm", "linux/s390x")))
    expect(all.filtered).toBe(false)
    expect(all.index).toBe(source)
  })

  test("a platform the index lacks: what is missing and what it offers, attestations left out", () => {
    const problem = subsetIndex(source, wanted("linux/amd64", "windows/amd64", "linux/ppc64le"))
    expect(Either.isLeft(problem)).toBe(true)
    if (Either.isLeft(problem)) {
      expect(problem.left.missing).toEqual(["windows/amd64", "linux/ppc64le"])
      expect(problem.left.offered).toEqual(["linux/amd64", "linux/arm64/v8", "linux/arm/v7", "linux/s390x"])
    }
  })
})
