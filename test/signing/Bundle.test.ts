/** Sigstore bundles as cosign v3 writes them with a key: shape, key hint, and verification by @sigstore/verify. */
import { describe, expect, test } from "bun:test"
import { bundleFromJSON } from "@sigstore/bundle"
import { toSignedEntity, Verifier } from "@sigstore/verify"
import { createHash, generateKeyPairSync, sign } from "node:crypto"
import type { KeyObject } from "node:crypto"
import { bundleBytes, keyHint, readBundle } from "../../src/signing/Bundle.ts"
import { verifyBundleWith } from "../../src/signing/BundleVerify.ts"
import { signStatement } from "../../src/signing/Statement.ts"

const IN_TOTO = "application/vnd.in-toto+json"
const DIGEST = `sha256:${"ab".repeat(32)}`

/** The PAE computed here, from the DSSE spec text, not with src. */
const pae = (type: string, payload: Uint8Array) =>
  Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `), Buffer.from(payload)])

const signed = (key: { privateKey: KeyObject; publicKey: KeyObject }, payload = signStatement(DIGEST)) =>
  bundleBytes({ payloadType: IN_TOTO, payload, signature: sign("sha256", pae(IN_TOTO, payload), key.privateKey).toString("base64") }, keyHint(key.publicKey))

/** @sigstore/verify with the key as the only trusted material and no log or timestamp, built here. */
const verifies = (bytes: Uint8Array, publicKey: KeyObject): boolean => {
  const verifier = new Verifier(
    { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [], publicKey: () => ({ publicKey, validFor: () => true }) },
    { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }
  )
  try {
    verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(new TextDecoder().decode(bytes)))))
    return true
  } catch {
    return false
  }
}

describe("Bundle", () => {
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" })
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 })
  const stranger = generateKeyPairSync("ec", { namedCurve: "P-256" })

  test("v0.3 media type, a public-key hint only, a DSSE envelope with the statement and one signature without keyid", () => {
    const json = JSON.parse(new TextDecoder().decode(signed(ec)))
    expect(Object.keys(json)).toEqual(["mediaType", "verificationMaterial", "dsseEnvelope"])
    expect(json.mediaType).toBe("application/vnd.dev.sigstore.bundle.v0.3+json")
    expect(json.verificationMaterial).toEqual({
      publicKey: { hint: createHash("sha256").update(ec.publicKey.export({ format: "der", type: "spki" })).digest("base64") }
    })
    expect(json.dsseEnvelope.payloadType).toBe(IN_TOTO)
    expect(Buffer.from(json.dsseEnvelope.payload, "base64").toString()).toBe(new TextDecoder().decode(signStatement(DIGEST)))
    expect(json.dsseEnvelope.signatures).toHaveLength(1)
    expect(Object.keys(json.dsseEnvelope.signatures[0])).toEqual(["sig"])
  })

  test("the sign statement is cosign v3's: in-toto v1, the digest as the only subject, predicate https://sigstore.dev/cosign/sign/v1", () => {
    expect(new TextDecoder().decode(signStatement(DIGEST))).toBe(
      `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"${
        "ab".repeat(32)
      }"},"annotations":{}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`
    )
  })

  test("@sigstore/verify accepts it with the signer's key (ECDSA P-256 and RSA) and refuses it with another", () => {
    expect(verifies(signed(ec), ec.publicKey)).toBe(true)
    expect(verifies(signed(rsa), rsa.publicKey)).toBe(true)
    expect(verifies(signed(ec), stranger.publicKey)).toBe(false)
  })

  test("verifyBundleWith: ok with the statement for the key, a reason otherwise", () => {
    const ok = verifyBundleWith(signed(ec), ec.publicKey)
    expect(ok.ok && ok.statement.predicateType).toBe("https://sigstore.dev/cosign/sign/v1")
    const bad = verifyBundleWith(signed(ec), stranger.publicKey)
    expect(bad.ok).toBe(false)
    const tampered = JSON.parse(new TextDecoder().decode(signed(ec)))
    tampered.dsseEnvelope.payload = Buffer.from(signStatement(`sha256:${"cd".repeat(32)}`)).toString("base64")
    expect(verifyBundleWith(new TextEncoder().encode(JSON.stringify(tampered)), ec.publicKey).ok).toBe(false)
  })

  test("readBundle refuses what is not a valid bundle", () => {
    expect(readBundle(new TextEncoder().encode("{}")).ok).toBe(false)
    expect(readBundle(new TextEncoder().encode("not json")).ok).toBe(false)
    expect(readBundle(signed(ec)).ok).toBe(true)
  })
})
