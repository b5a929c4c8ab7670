/** The provenance statement of a copy: in-toto v1, SLSA provenance v1, what it names. */
import { describe, expect, test } from "bun:test"
import { provenanceStatement, readProvenance } from "../../src/signing/Provenance.ts"

const record = {
  subjectName: "registry.example/mirror/library/busybox",
  subjectDigest: `sha256:${"1".repeat(64)}`,
  parameters: { source: "busybox:1.36", target: "registry.example/mirror/library/busybox:1.36", platforms: ["linux/amd64"] },
  sourceReference: "docker.io/library/busybox:1.36",
  sourceDigest: `sha256:${"2".repeat(64)}`,
  sourceMediaType: "application/vnd.oci.image.index.v1+json",
  readFrom: "mirror.example:5000",
  copied: true,
  tool: { name: "image-syncer", version: "9.8.7" },
  startedMillis: Date.UTC(2026, 11, 4, 10, 0, 0),
  finishedMillis: Date.UTC(2026, 11, 4, 10, 0, 3)
}

describe("Provenance", () => {
  const json = JSON.parse(new TextDecoder().decode(provenanceStatement(record)))

  test("statement v1, subject the target with its digest, predicate SLSA provenance v1", () => {
    expect(json._type).toBe("https://in-toto.io/Statement/v1")
    expect(json.subject).toEqual([{ name: record.subjectName, digest: { sha256: "1".repeat(64) } }])
    expect(json.predicateType).toBe("https://slsa.dev/provenance/v1")
  })

  test("buildDefinition: our buildType, what the definition asked, the source with its resolved digest", () => {
    const b = json.predicate.buildDefinition
    expect(b.buildType).toBe("urn:image-syncer:copy:v1")
    expect(b.externalParameters).toEqual({ source: "busybox:1.36", target: record.parameters.target, platforms: ["linux/amd64"] })
    expect(b.internalParameters).toEqual({ copied: true })
    expect(b.resolvedDependencies).toEqual([{
      uri: "docker://docker.io/library/busybox:1.36",
      digest: { sha256: "2".repeat(64) },
      mediaType: record.sourceMediaType,
      annotations: { readFrom: "mirror.example:5000" }
    }])
  })

  test("runDetails: builder id and version from the tool, start and finish times", () => {
    expect(json.predicate.runDetails).toEqual({
      builder: { id: "urn:image-syncer:builder:9.8.7", version: { "image-syncer": "9.8.7" } },
      metadata: { startedOn: "2026-12-04T10:00:00.000Z", finishedOn: "2026-12-04T10:00:03.000Z" }
    })
  })

  test("read back: the source digests and builder; other statements are not provenance", () => {
    const read = readProvenance(provenanceStatement(record))
    expect(read?.sourceDigests).toEqual([record.sourceDigest])
    expect(read?.builderId).toBe("urn:image-syncer:builder:9.8.7")
    expect(readProvenance(new TextEncoder().encode(JSON.stringify({ ...json, predicateType: "https://sigstore.dev/cosign/sign/v1" })))).toBeUndefined()
    expect(readProvenance(new TextEncoder().encode("nope"))).toBeUndefined()
  })
})
