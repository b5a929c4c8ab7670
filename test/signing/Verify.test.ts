import { describe, expect, test } from "bun:test"
import { createHash, createPublicKey, sign, verify } from "node:crypto"
import { readFileSync } from "node:fs"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { layersOf, payloadFor, SIGNATURE_ANNOTATION, signatureLayer } from "../../src/signing/SimpleSigning.ts"
import type { SignatureLayer } from "../../src/signing/SimpleSigning.ts"
import { layerVerifies, verifySignature } from "../../src/signing/Verify.ts"
import { p256 } from "../fixtures/signing/CosignKeys.ts"
import { SIMPLE_SIGNING } from "../../src/model/MediaTypes.ts"

const FIXTURES = join(import.meta.dir, "..", "fixtures")
const upstream = (name: string) => readFileSync(join(FIXTURES, "cosign-upstream", name))

/** The real cosign v3 signature (SOURCE.md): payload, signature, key, and the .sig manifest it sits in. */
const payload = new Uint8Array(upstream("payload.json"))
const signatureB64 = upstream("signature.b64").toString("utf8")
const cosignPub = createPublicKey(upstream("cosign.pub").toString("utf8"))
const sigManifest = new Uint8Array(upstream("sig-manifest.json"))
const SIGNED_DIGEST = "sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268"
/** containers/image's signature/fixtures/cosign.pub: a different key. */
const otherPub = createPublicKey(readFileSync(join(FIXTURES, "cosign", "cosign.pub"), "utf8"))

const fixtureLayer = (): SignatureLayer => {
  const layers = layersOf(sigManifest)
  expect(layers).toHaveLength(1)
  return layers[0]!
}

/** One byte of the payload changed (a digit of the signed digest). */
const tampered = (): Uint8Array => {
  const copy = new Uint8Array(payload)
  const at = new TextDecoder().decode(copy).indexOf("f20c4316")
  copy[at] = "e".charCodeAt(0)
  return copy
}

describe("the real cosign fixture, checked independently first", () => {
  test("node:crypto verifies signature.b64 over payload.json with cosign.pub (the fixture is sound)", () => {
    expect(verify("sha256", payload, cosignPub, Buffer.from(signatureB64, "base64"))).toBe(true)
  })

  test("openssl verifies it too (Verified OK)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "verify-fixture-"))
    try {
      const sigPath = join(dir, "sig.der")
      await writeFile(sigPath, Buffer.from(signatureB64, "base64"))
      const r = Bun.spawnSync(
        [
          "openssl",
          "dgst",
          "-sha256",
          "-verify",
          join(FIXTURES, "cosign-upstream", "cosign.pub"),
          "-signature",
          sigPath,
          join(FIXTURES, "cosign-upstream", "payload.json")
        ],
        { stdout: "pipe", stderr: "pipe" }
      )
      expect(r.stdout.toString().trim()).toBe("Verified OK")
      expect(r.exitCode).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test("the manifest's layer describes payload.json and carries signature.b64", () => {
    const layer = fixtureLayer()
    expect(layer.mediaType).toBe(SIMPLE_SIGNING)
    expect(layer.digest).toBe(`sha256:${createHash("sha256").update(payload).digest("hex")}`)
    expect(layer.size).toBe(payload.length)
    expect(layer.annotations?.[SIGNATURE_ANNOTATION]).toBe(signatureB64)
  })
})

describe("verifySignature", () => {
  test("accepts the real cosign signature with its cosign.pub", () => {
    expect(verifySignature(payload, signatureB64, cosignPub)).toBe(true)
  })

  test("rejects it with the containers/image cosign.pub", () => {
    expect(verifySignature(payload, signatureB64, otherPub)).toBe(false)
  })

  test("rejects it when one payload byte is modified", () => {
    expect(verifySignature(tampered(), signatureB64, cosignPub)).toBe(false)
  })

  test("rejects a signature that is not base64 DER, without throwing", () => {
    expect(verifySignature(payload, "not a signature!", cosignPub)).toBe(false)
    expect(verifySignature(payload, "", cosignPub)).toBe(false)
  })

  test("accepts the raw r||s (IEEE P1363) form of a P-256 signature, as sigstore does", () => {
    const pair = p256()
    const raw = sign("sha256", payload, { key: pair.privateKey, dsaEncoding: "ieee-p1363" })
    expect(raw.length).toBe(64)
    expect(verifySignature(payload, raw.toString("base64"), pair.publicKey)).toBe(true)
  })
})

describe("layerVerifies", () => {
  test("accepts the layer from the real sig-manifest.json with payload.json for the signed digest and cosign.pub", () => {
    expect(layerVerifies(fixtureLayer(), payload, SIGNED_DIGEST, cosignPub)).toBe(true)
  })

  test("rejects it with the containers/image cosign.pub", () => {
    expect(layerVerifies(fixtureLayer(), payload, SIGNED_DIGEST, otherPub)).toBe(false)
  })

  test("rejects it when one payload byte is modified", () => {
    expect(layerVerifies(fixtureLayer(), tampered(), SIGNED_DIGEST, cosignPub)).toBe(false)
  })

  test("checks the payload's digest claim: a valid signature for another digest does not count", () => {
    const other = `sha256:${"0".repeat(64)}`
    expect(layerVerifies(fixtureLayer(), payload, other, cosignPub)).toBe(false)
  })

  test("a correctly signed payload that claims another digest is rejected for this digest", () => {
    const pair = p256()
    const claimed = `sha256:${"1".repeat(64)}`
    const wrongClaim = payloadFor("127.0.0.1:5000/external/app", claimed)
    const layer = signatureLayer(wrongClaim, sign("sha256", wrongClaim, pair.privateKey).toString("base64"))
    expect(layerVerifies(layer, wrongClaim, claimed, pair.publicKey)).toBe(true)
    expect(layerVerifies(layer, wrongClaim, `sha256:${"2".repeat(64)}`, pair.publicKey)).toBe(false)
  })

  test("the docker-reference is not checked: a signature survives a copy to another registry", () => {
    // cosign's SimpleClaimVerifier ignores docker-reference; the fixture names localhost:15381
    expect(layerVerifies(fixtureLayer(), payload, SIGNED_DIGEST, cosignPub)).toBe(true)
    expect(new TextDecoder().decode(payload)).toContain("\"docker-reference\":\"localhost:15381/tobby/fixture\"")
  })

  test("rejects a layer of another media type or without the signature annotation", () => {
    const layer = fixtureLayer()
    expect(layerVerifies({ ...layer, mediaType: "application/vnd.dsse.envelope.v1+json" }, payload, SIGNED_DIGEST, cosignPub)).toBe(false)
    expect(layerVerifies({ ...layer, annotations: {} }, payload, SIGNED_DIGEST, cosignPub)).toBe(false)
    const { annotations: _annotations, ...bare } = layer
    expect(layerVerifies(bare, payload, SIGNED_DIGEST, cosignPub)).toBe(false)
  })

  test("rejects a payload that is not a cosign simple-signing payload, even if signed", () => {
    const pair = p256()
    const notCosign = new TextEncoder().encode(
      `{"critical":{"image":{"docker-manifest-digest":"${SIGNED_DIGEST}"},"type":"atomic container signature"},"optional":null}`
    )
    const layer = signatureLayer(notCosign, sign("sha256", notCosign, pair.privateKey).toString("base64"))
    expect(layerVerifies(layer, notCosign, SIGNED_DIGEST, pair.publicKey)).toBe(false)
  })
})
