import { describe, expect, test } from "bun:test"
import { Effect, Either, Option } from "effect"
import { Compare, TagConflict } from "../../src/pipeline/Compare.ts"
import type { Decision } from "../../src/pipeline/Compare.ts"
import type { ResolvedImage } from "../../src/pipeline/Resolve.ts"
import type { ManifestDescriptor } from "../../src/model/Manifest.ts"
import { parseDefinition } from "../../src/definition/Parse.ts"

const SOURCE_DIGEST = `sha256:${"a".repeat(64)}`
const OTHER_DIGEST = `sha256:${"b".repeat(64)}`
const INDEX = "application/vnd.oci.image.index.v1+json"

const image = (): ResolvedImage => {
  const parsed = parseDefinition(
    "images.yaml",
    "targetRepoPrefix: \"eu.gcr.io/kyma-project/external/\"\nimages:\n  - source: \"busybox:1.36\"\n"
  )
  if (Either.isLeft(parsed)) throw new Error(parsed.left.message)
  const entry = parsed.right.images[0]!
  const endpoint = { registry: "eu.gcr.io", host: "eu.gcr.io", scheme: "https" as const, skipTlsVerify: false, role: "target" as const }
  return {
    entry,
    source: {
      endpoint: { ...endpoint, registry: "docker.io", host: "registry-1.docker.io", role: "source" },
      repository: "library/busybox",
      reference: "1.36"
    },
    target: { endpoint, repository: entry.target.repository, reference: entry.target.tag },
    manifest: { digest: SOURCE_DIGEST, mediaType: INDEX, size: 100 },
    sourceDigest: SOURCE_DIGEST,
    warnings: []
  }
}

const compare = (target: Option.Option<ManifestDescriptor>) =>
  Effect.runPromise(
    Effect.flatMap(Compare, (c) => c.compare(image(), target)).pipe(Effect.either, Effect.provide(Compare.layer))
  )

describe("Compare", () => {
  test("no target tag: copy", async () => {
    expect(await compare(Option.none())).toEqual(Either.right<Decision>("copy"))
  })

  test("target holds the same digest: present (nothing to copy)", async () => {
    expect(await compare(Option.some({ digest: SOURCE_DIGEST, mediaType: INDEX, size: 100 }))).toEqual(Either.right<Decision>("present"))
  })

  test("same digest but another media type or size reported: still present (the digest is the identity)", async () => {
    const r = await compare(Option.some({ digest: SOURCE_DIGEST, mediaType: "application/vnd.docker.distribution.manifest.list.v2+json", size: 0 }))
    expect(r).toEqual(Either.right<Decision>("present"))
  })

  test("target holds another digest: a TagConflict naming the target and both digests", async () => {
    const r = await compare(Option.some({ digest: OTHER_DIGEST, mediaType: INDEX, size: 100 }))
    expect(Either.isLeft(r)).toBe(true)
    if (Either.isRight(r)) return
    const e = r.left
    expect(e).toBeInstanceOf(TagConflict)
    expect(e._tag).toBe("TagConflict")
    expect(e.target).toBe("eu.gcr.io/kyma-project/external/library/busybox:1.36")
    expect(e.sourceDigest).toBe(SOURCE_DIGEST)
    expect(e.targetDigest).toBe(OTHER_DIGEST)
    expect(e.message).toContain("eu.gcr.io/kyma-project/external/library/busybox:1.36")
    expect(e.message).toContain(SOURCE_DIGEST)
    expect(e.message).toContain(OTHER_DIGEST)
    expect(e.message).toContain("immutable")
  })
})
