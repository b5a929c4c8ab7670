/** The OCI 1.1 artifact manifest of a bundle, as cosign v3 pushes it. */
import { describe, expect, test } from "bun:test"
import { createHash } from "node:crypto"
import { bundleReferrer, EMPTY_CONFIG_DIGEST, rfc3339Seconds } from "../../src/signing/Referrer.ts"

const sha = (b: Uint8Array | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`

describe("Referrer", () => {
  const bundle = new TextEncoder().encode("{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\"}")
  const subject = { mediaType: "application/vnd.oci.image.index.v1+json", size: 500, digest: `sha256:${"c".repeat(64)}` }
  const made = bundleReferrer({ bundle, subject, predicateType: "https://sigstore.dev/cosign/sign/v1", createdMillis: Date.UTC(2026, 11, 4, 10, 0, 0, 789) })
  const json = JSON.parse(new TextDecoder().decode(made.manifest))

  test("artifactType the bundle type, empty config {}, one layer (the bundle), subject the signed manifest", () => {
    expect(json.schemaVersion).toBe(2)
    expect(json.mediaType).toBe("application/vnd.oci.image.manifest.v1+json")
    expect(json.artifactType).toBe("application/vnd.dev.sigstore.bundle.v0.3+json")
    expect(json.config).toEqual({
      mediaType: "application/vnd.oci.empty.v1+json",
      size: 2,
      digest: sha("{}"),
      artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json"
    })
    expect(EMPTY_CONFIG_DIGEST).toBe("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
    expect(json.layers).toEqual([{ mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", size: bundle.length, digest: sha(bundle) }])
    expect(json.subject).toEqual(subject)
  })

  test("annotations: content dsse-envelope, the predicate type, created in RFC 3339 seconds", () => {
    expect(json.annotations).toEqual({
      "dev.sigstore.bundle.content": "dsse-envelope",
      "dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1",
      "org.opencontainers.image.created": "2026-12-04T10:00:00Z"
    })
    expect(rfc3339Seconds(0)).toBe("1970-01-01T00:00:00Z")
  })

  test("digest over the exact bytes; the index descriptor carries artifactType and the annotations", () => {
    expect(made.digest).toBe(sha(made.manifest))
    expect(made.bundleDigest).toBe(sha(bundle))
    expect(made.descriptor).toEqual({
      mediaType: json.mediaType,
      size: made.manifest.length,
      digest: made.digest,
      annotations: json.annotations,
      artifactType: json.artifactType
    })
  })
})
