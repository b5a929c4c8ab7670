/** DSSE envelopes for legacy `.att` layers: PAE, JSON shape, the layer's annotations, verification with the key. */
import { describe, expect, test } from "bun:test"
import { generateKeyPairSync, sign, verify } from "node:crypto"
import { attestationLayer, envelopeBytes, preAuthEncoding, readEnvelope } from "../../src/signing/Dsse.ts"
import { verifyEnvelopeWith } from "../../src/signing/DsseVerify.ts"

const IN_TOTO = "application/vnd.in-toto+json"
const statement = new TextEncoder().encode(
  JSON.stringify({
    _type: "https://in-toto.io/Statement/v1",
    subject: [{ digest: { sha256: "ab".repeat(32) } }],
    predicateType: "https://slsa.dev/provenance/v1",
    predicate: {}
  })
)

describe("Dsse", () => {
  const key = generateKeyPairSync("ec", { namedCurve: "P-256" })

  test("PAE is DSSEv1 SP len(type) SP type SP len(payload) SP payload", () => {
    expect(new TextDecoder().decode(preAuthEncoding("a/b", new TextEncoder().encode("héllo")))).toBe("DSSEv1 3 a/b 6 héllo")
  })

  test("envelope JSON: payload, payloadType, signatures [{sig}] (cosign's field order, no keyid); read back equal", () => {
    const sig = sign("sha256", preAuthEncoding(IN_TOTO, statement), key.privateKey).toString("base64")
    const bytes = envelopeBytes({ payloadType: IN_TOTO, payload: statement, signature: sig })
    const json = JSON.parse(new TextDecoder().decode(bytes))
    expect(Object.keys(json)).toEqual(["payload", "payloadType", "signatures"])
    expect(json.signatures).toEqual([{ sig }])
    expect(verify("sha256", preAuthEncoding(IN_TOTO, Buffer.from(json.payload, "base64")), key.publicKey, Buffer.from(sig, "base64"))).toBe(true)
    const back = readEnvelope(bytes)
    expect(back?.signature).toBe(sig)
    expect(Buffer.from(back!.payload).equals(Buffer.from(statement))).toBe(true)
  })

  test("verifyEnvelopeWith: the statement for the signer's key, undefined for another key or a broken envelope", () => {
    const sig = sign("sha256", preAuthEncoding(IN_TOTO, statement), key.privateKey).toString("base64")
    const bytes = envelopeBytes({ payloadType: IN_TOTO, payload: statement, signature: sig })
    expect(verifyEnvelopeWith(bytes, key.publicKey)?.predicateType).toBe("https://slsa.dev/provenance/v1")
    expect(verifyEnvelopeWith(bytes, generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey)).toBeUndefined()
    expect(verifyEnvelopeWith(new TextEncoder().encode("{\"payload\":\"\"}"), key.publicKey)).toBeUndefined()
  })

  test("the legacy .att layer: DSSE media type, the envelope's digest and size, predicateType annotated", () => {
    const bytes = new TextEncoder().encode("{\"x\":1}")
    expect(attestationLayer(bytes, "https://slsa.dev/provenance/v1")).toEqual({
      mediaType: "application/vnd.dsse.envelope.v1+json",
      digest: "sha256:5041bf1f713df204784353e82f6a4a535931cb64f1f4b4a5aeaffcb720918b22",
      size: 7,
      annotations: { predicateType: "https://slsa.dev/provenance/v1" }
    })
  })
})
