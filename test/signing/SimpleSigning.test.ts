import { describe, expect, test } from "bun:test"
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import {
  buildSignatureImage,
  dockerReference,
  layersOf,
  payloadFor,
  readPayload,
  SIGNATURE_ANNOTATION,
  signatureLayer
} from "../../src/signing/SimpleSigning.ts"
import { OCI_CONFIG, OCI_MANIFEST, SIMPLE_SIGNING } from "../../src/model/MediaTypes.ts"
import { signatureTag } from "../../src/model/Signatures.ts"

const UPSTREAM = join(import.meta.dir, "..", "fixtures", "cosign-upstream")
const fixture = (name: string) => readFileSync(join(UPSTREAM, name))

const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`
const text = (b: Uint8Array) => new TextDecoder().decode(b)
const HEX_A = "a".repeat(64)
const HEX_B = "0123456789abcdef".repeat(4)

interface ParsedManifest {
  schemaVersion: number
  mediaType: string
  config: { mediaType: string; size: number; digest: string }
  layers: Array<{ mediaType: string; size: number; digest: string; annotations?: Record<string, string> }>
}
interface ParsedConfig {
  architecture: string
  os: string
  created: string
  history: Array<{ created: string }>
  rootfs: { type: string; diff_ids: Array<string> }
  config: Record<string, never>
}

describe("payloadFor", () => {
  test("payload bytes are exactly cosign's compact JSON in Go struct order", () => {
    const payload = payloadFor("127.0.0.1:5000/team/app", `sha256:${HEX_A}`)
    expect(text(payload)).toBe(
      `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/team/app"},"image":{"docker-manifest-digest":"sha256:${HEX_A}"},"type":"cosign container image signature"},"optional":null}`
    )
  })

  test("payload equals the real cosign v3 payload byte for byte (cosign-upstream fixture)", () => {
    const payload = payloadFor(
      "localhost:15381/tobby/fixture",
      "sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268"
    )
    expect(Buffer.from(payload).equals(fixture("payload.json"))).toBe(true)
    expect(sha(payload)).toBe("sha256:3a29d26a2fc848d25ccf9c2288194ca90599e70ef69087644f186e5e7331f28b")
  })

  test("payload has no trailing newline and no whitespace", () => {
    const payload = text(payloadFor("r.example/a/b", `sha256:${HEX_B}`))
    expect(payload.endsWith("}")).toBe(true)
    expect(/\s/.test(payload.replace("cosign container image signature", ""))).toBe(false)
  })

  test("readPayload reads back the reference and digest claims", () => {
    expect(readPayload(payloadFor("r.example/a/b", `sha256:${HEX_B}`))).toEqual({ reference: "r.example/a/b", digest: `sha256:${HEX_B}` })
    expect(readPayload(fixture("payload.json"))).toEqual({
      reference: "localhost:15381/tobby/fixture",
      digest: "sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268"
    })
  })

  test("readPayload rejects non-JSON, a wrong type and a missing digest", () => {
    const enc = (s: string) => new TextEncoder().encode(s)
    expect(readPayload(enc("not json"))).toBeUndefined()
    expect(
      readPayload(
        enc(`{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"sha256:${HEX_A}"},"type":"something else"},"optional":null}`)
      )
    ).toBeUndefined()
    expect(readPayload(enc(`{"critical":{"identity":{"docker-reference":"x"},"image":{},"type":"cosign container image signature"},"optional":null}`)))
      .toBeUndefined()
  })
})

describe("dockerReference", () => {
  test("Docker Hub names (docker.io, registry-1.docker.io, index.docker.io) become index.docker.io", () => {
    expect(dockerReference("docker.io", "library/busybox")).toBe("index.docker.io/library/busybox")
    expect(dockerReference("registry-1.docker.io", "bitnami/keycloak-gatekeeper")).toBe("index.docker.io/bitnami/keycloak-gatekeeper")
    expect(dockerReference("index.docker.io", "library/postgres")).toBe("index.docker.io/library/postgres")
  })

  test("other registries are kept as they are, with host and port", () => {
    expect(dockerReference("127.0.0.1:5000", "external/library/busybox")).toBe("127.0.0.1:5000/external/library/busybox")
    expect(dockerReference("eu.gcr.io", "kyma-project/external/app")).toBe("eu.gcr.io/kyma-project/external/app")
  })
})

describe("signatureTag", () => {
  test("sha256:<hex> becomes sha256-<hex>.sig", () => {
    expect(signatureTag(`sha256:${HEX_B}`)).toBe(`sha256-${HEX_B}.sig`)
  })

  test("other suffixes: .att, .sbom, and none for the referrers fallback tag", () => {
    expect(signatureTag(`sha256:${HEX_B}`, ".att")).toBe(`sha256-${HEX_B}.att`)
    expect(signatureTag(`sha256:${HEX_B}`, ".sbom")).toBe(`sha256-${HEX_B}.sbom`)
    expect(signatureTag(`sha256:${HEX_B}`, "")).toBe(`sha256-${HEX_B}`)
  })
})

describe("signature manifest layout", () => {
  const payload1 = payloadFor("127.0.0.1:5000/external/app", `sha256:${HEX_A}`)
  const layer1 = signatureLayer(payload1, "MEUCIQDfirst==")
  const image1 = buildSignatureImage([layer1])
  const manifest1 = JSON.parse(text(image1.manifest)) as ParsedManifest
  const config1 = JSON.parse(text(image1.config)) as ParsedConfig

  test("signatureLayer: simple-signing media type, payload digest and size, signature annotation only", () => {
    expect(layer1).toEqual({
      mediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
      digest: sha(payload1),
      size: payload1.length,
      annotations: { "dev.cosignproject.cosign/signature": "MEUCIQDfirst==" }
    })
    expect(SIMPLE_SIGNING).toBe("application/vnd.dev.cosign.simplesigning.v1+json")
    expect(SIGNATURE_ANNOTATION).toBe("dev.cosignproject.cosign/signature")
  })

  test("the manifest is an OCI image manifest with an OCI config descriptor", () => {
    expect(manifest1.schemaVersion).toBe(2)
    expect(manifest1.mediaType).toBe("application/vnd.oci.image.manifest.v1+json")
    expect(OCI_MANIFEST).toBe("application/vnd.oci.image.manifest.v1+json")
    expect(manifest1.config).toEqual({ mediaType: "application/vnd.oci.image.config.v1+json", size: image1.config.length, digest: sha(image1.config) })
    expect(OCI_CONFIG).toBe("application/vnd.oci.image.config.v1+json")
    expect(Object.keys(manifest1)).toEqual(["schemaVersion", "mediaType", "config", "layers"])
  })

  test("digests are over the exact bytes returned", () => {
    expect(image1.manifestDigest).toBe(sha(image1.manifest))
    expect(image1.configDigest).toBe(sha(image1.config))
  })

  test("one layer per signature, carrying the signature annotation", () => {
    expect(manifest1.layers).toEqual([
      { mediaType: SIMPLE_SIGNING, size: payload1.length, digest: sha(payload1), annotations: { [SIGNATURE_ANNOTATION]: "MEUCIQDfirst==" } }
    ])
  })

  test("the config mimics ggcr's empty image plus one appended layer per signature", () => {
    expect(config1).toEqual({
      architecture: "",
      created: "0001-01-01T00:00:00Z",
      history: [{ created: "0001-01-01T00:00:00Z" }],
      os: "",
      rootfs: { type: "layers", diff_ids: [sha(payload1)] },
      config: {}
    })
  })

  test("rebuilding the real cosign v3 .sig manifest from its layer gives the same bytes and digest", () => {
    const real = fixture("sig-manifest.json")
    const rebuilt = buildSignatureImage(layersOf(real))
    // the 233-byte config cosign wrote is sha256:2122b6ad… (SOURCE.md); ours is the same
    expect(rebuilt.config.length).toBe(233)
    expect(rebuilt.configDigest).toBe("sha256:2122b6ad0794d3fdae43a4b477cf1d95d4a38d3c5f10631e199676039b876e37")
    expect(Buffer.from(rebuilt.manifest).equals(real)).toBe(true)
    expect(rebuilt.manifestDigest).toBe("sha256:b6872674fc1bef936d1400f22f94b090f3e3eaf53c1b26362d39f3701cd08053")
  })

  test("appending a second signature keeps the first layer descriptor byte-identical and adds diff_ids and history", () => {
    const payload2 = payloadFor("127.0.0.1:5000/external/app", `sha256:${HEX_A}`)
    const layer2 = signatureLayer(payload2, "MEYCIQCsecond==")
    const image2 = buildSignatureImage([...layersOf(image1.manifest), layer2])
    const bytes1 = text(image1.manifest)
    const bytes2 = text(image2.manifest)
    // the first descriptor as serialised in the first manifest, found verbatim in the second
    const firstDescriptor = bytes1.slice(bytes1.indexOf("\"layers\":[") + "\"layers\":[".length, bytes1.lastIndexOf("]}"))
    expect(firstDescriptor.startsWith("{\"mediaType\"")).toBe(true)
    expect(bytes2).toContain(`"layers":[${firstDescriptor},{`)
    const manifest2 = JSON.parse(bytes2) as ParsedManifest
    expect(manifest2.layers).toHaveLength(2)
    expect(manifest2.layers[0]).toEqual(manifest1.layers[0]!)
    expect(manifest2.layers[1]).toEqual({
      mediaType: SIMPLE_SIGNING,
      size: payload2.length,
      digest: sha(payload2),
      annotations: { [SIGNATURE_ANNOTATION]: "MEYCIQCsecond==" }
    })
    const config2 = JSON.parse(text(image2.config)) as ParsedConfig
    expect(config2.rootfs.diff_ids).toEqual([sha(payload1), sha(payload2)])
    expect(config2.history).toHaveLength(2)
    expect(manifest2.config.digest).toBe(sha(image2.config))
    expect(manifest2.config.size).toBe(image2.config.length)
    expect(image2.manifestDigest).not.toBe(image1.manifestDigest)
  })

  test("appending to the real cosign manifest keeps its layer byte-identical", () => {
    const real = fixture("sig-manifest.json").toString("utf8")
    const realLayer = real.slice(real.indexOf("\"layers\":[") + "\"layers\":[".length, real.lastIndexOf("]}"))
    const ours = signatureLayer(
      payloadFor("127.0.0.1:5000/external/fixture", "sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268"),
      "MEUCIQDours=="
    )
    const appended = text(buildSignatureImage([...layersOf(new TextEncoder().encode(real)), ours]).manifest)
    expect(appended).toContain(`"layers":[${realLayer},{`)
  })

  // The module promises bytes "never re-serialised afterwards"; an existing layer written by
  // another tool must come back exactly as it was, whatever its key order or extra fields.
  test("appending keeps an existing layer byte-identical when it is serialised in OCI's documented key order (mediaType, digest, size)", () => {
    const payload = payloadFor("index.docker.io/library/app", `sha256:${HEX_A}`)
    const foreign = `{"mediaType":"${SIMPLE_SIGNING}","digest":"${
      sha(payload)
    }","size":${payload.length},"annotations":{"${SIGNATURE_ANNOTATION}":"MEUCIQDforeign=="}}`
    const existing = new TextEncoder().encode(
      `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":{"mediaType":"${OCI_CONFIG}","digest":"sha256:${HEX_B}","size":233},"layers":[${foreign}]}`
    )
    const ours = signatureLayer(payloadFor("127.0.0.1:5000/external/app", `sha256:${HEX_A}`), "MEUCIQDours==")
    const appended = text(buildSignatureImage([...layersOf(existing), ours]).manifest)
    expect(appended).toContain(`"layers":[${foreign},{`)
  })

  test("appending keeps descriptor fields of an existing layer that cosign itself does not write (urls, artifactType)", () => {
    const payload = payloadFor("index.docker.io/library/app", `sha256:${HEX_A}`)
    const foreign = `{"mediaType":"${SIMPLE_SIGNING}","size":${payload.length},"digest":"${
      sha(payload)
    }","urls":["https://example.com/payload"],"artifactType":"application/vnd.example","annotations":{"${SIGNATURE_ANNOTATION}":"MEUCIQDforeign=="}}`
    const existing = new TextEncoder().encode(
      `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":{"mediaType":"${OCI_CONFIG}","size":233,"digest":"sha256:${HEX_B}"},"layers":[${foreign}]}`
    )
    const ours = signatureLayer(payloadFor("127.0.0.1:5000/external/app", `sha256:${HEX_A}`), "MEUCIQDours==")
    const appended = buildSignatureImage([...layersOf(existing), ours])
    const first = (JSON.parse(text(appended.manifest)) as { layers: Array<Record<string, unknown>> }).layers[0]!
    expect(first["urls"]).toEqual(["https://example.com/payload"])
    expect(first["artifactType"]).toBe("application/vnd.example")
    expect(text(appended.manifest)).toContain(`"layers":[${foreign},{`)
  })

  test("layersOf reads the layers of a manifest (with each descriptor's exact text), and none of a manifest without layers", () => {
    const read = layersOf(image1.manifest)
    expect(read.map(({ raw: _raw, ...fields }) => fields)).toEqual([layer1])
    expect(text(image1.manifest)).toContain(`"layers":[${read[0]!.raw}]`)
    expect(layersOf(new TextEncoder().encode("{\"schemaVersion\":2}"))).toEqual([])
  })
})
