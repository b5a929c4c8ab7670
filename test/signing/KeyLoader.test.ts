import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { generateKeyPairSync, sign, verify } from "node:crypto"
import type { KeyObject } from "node:crypto"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { decryptEnvelope, loadPublicKey, loadSigningKey, SignKeyUnusable } from "../../src/signing/KeyLoader.ts"
import type { KeyProblem, SigningKey } from "../../src/signing/KeyLoader.ts"
import { encryptCosignKey, encryptEnvelope, p256, pemBlock, pemBodyLines, pkcs8Pem, spkiPem } from "../fixtures/signing/CosignKeys.ts"

const vectors = JSON.parse(readFileSync(join(import.meta.dir, "..", "fixtures", "securesystemslib", "vectors.json"), "utf8")) as {
  passphrase: string
  plaintext: string
  TestDecrypt: string
  kdfVectors: Record<string, string>
  TestUnsupportedKDFParameters: string
}

const PASSWORD = "PLANTED-PW-keyloader-7f3a9c"
const SOURCE = "/keys/cosign.key"
const text = (b: Uint8Array) => new TextDecoder().decode(b)

/** Runs openssl with stdin; its stdout, or throws with stderr. */
const openssl = (args: ReadonlyArray<string>, stdin = ""): string => {
  const r = Bun.spawnSync(["openssl", ...args], { stdin: Buffer.from(stdin), stdout: "pipe", stderr: "pipe" })
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr.toString()}`)
  return r.stdout.toString()
}

/** The DER SPKI of a public key, for comparing keys. */
const spki = (key: KeyObject) => key.export({ format: "der", type: "spki" }).toString("hex")

const loaded = (pem: string, password: string): SigningKey => {
  const r = loadSigningKey(pem, password, SOURCE)
  if (Either.isLeft(r)) throw new Error(`expected the key to load, got: ${r.left.message}`)
  return r.right
}

/** Loads and expects the given problem; the message names the source and never the key or password. */
const expectProblem = (pem: string, password: string, problem: KeyProblem): SignKeyUnusable => {
  const r = loadSigningKey(pem, password, SOURCE)
  if (Either.isRight(r)) throw new Error(`expected ${problem}, but the key loaded`)
  expect(r.left).toBeInstanceOf(SignKeyUnusable)
  expect(r.left.problem).toBe(problem)
  expect(r.left.source).toBe(SOURCE)
  expect(r.left.message).toStartWith(`signing key ${SOURCE}: ${problem}`)
  expectNoSecrets(r.left, pem, password)
  return r.left
}

/** Neither the password nor any base64 line of the PEM appears in the error. */
const expectNoSecrets = (e: SignKeyUnusable, pem: string, password: string) => {
  const all = `${e.message}\n${e.detail}\n${JSON.stringify(e)}\n${String(e)}`
  if (password !== "") expect(all).not.toContain(password)
  const body = pemBodyLines(pem)
  for (const line of body) expect(all).not.toContain(line)
  if (body.length > 0) expect(all).not.toContain(body.join(""))
}

/** The loaded key signs (DER ECDSA / RSA PKCS#1 v1.5) what the original public key verifies. */
const expectSameKeyPair = (key: SigningKey, original: { publicKey: KeyObject }) => {
  expect(spki(key.publicKey)).toBe(spki(original.publicKey))
  const data = Buffer.from("payload bytes")
  expect(verify("sha256", data, original.publicKey, sign("sha256", data, key.privateKey))).toBe(true)
}

describe("decryptEnvelope (go-securesystemslib format)", () => {
  test("the go-securesystemslib TestDecrypt vector decrypts to \"reallyimportant\" with \"supersecret\"", () => {
    expect(vectors.passphrase).toBe("supersecret")
    const r = decryptEnvelope(vectors.TestDecrypt, "supersecret")
    if (Either.isLeft(r)) throw new Error(`decrypt failed: ${r.left.problem}`)
    expect(text(r.right)).toBe("reallyimportant")
    expect(text(r.right)).toBe(vectors.plaintext)
  })

  test("the Legacy, Standard and OWASP scrypt vectors (N = 32768, 65536, 131072) decrypt with \"supersecret\"", () => {
    expect(Object.keys(vectors.kdfVectors).sort()).toEqual(["Legacy", "OWASP", "Standard"])
    for (const [name, envelope] of Object.entries(vectors.kdfVectors)) {
      const r = decryptEnvelope(envelope, "supersecret")
      if (Either.isLeft(r)) throw new Error(`${name}: decrypt failed: ${r.left.problem}`)
      // these vectors hold the base64 of the plaintext
      expect(Buffer.from(text(r.right), "base64").toString("utf8"), name).toBe("reallyimportant")
    }
  })

  test("a wrong password → \"wrong password\"", () => {
    const r = decryptEnvelope(vectors.TestDecrypt, "notsosecret")
    expect(Either.isLeft(r) && r.left.problem).toBe("wrong password")
  })

  test("the TestUnsupportedKDFParameters vector (N=99 r=99 p=99) → \"unsupported encryption\"", () => {
    const r = decryptEnvelope(vectors.TestUnsupportedKDFParameters, "supersecret")
    expect(Either.isLeft(r) && r.left.problem).toBe("unsupported encryption")
  })

  test("scrypt N outside 32768/65536/131072 → \"unsupported encryption\"", () => {
    const envelope = encryptEnvelope(new TextEncoder().encode("x"), "pw", { N: 16384 })
    const r = decryptEnvelope(envelope, "pw")
    expect(Either.isLeft(r) && r.left.problem).toBe("unsupported encryption")
  })

  test("another KDF or cipher name → \"unsupported encryption\"", () => {
    const env = JSON.parse(vectors.TestDecrypt) as { kdf: { name: string }; cipher: { name: string } }
    const otherKdf = JSON.stringify({ ...env, kdf: { ...env.kdf, name: "argon2id" } })
    const otherCipher = JSON.stringify({ ...env, cipher: { ...env.cipher, name: "aes-gcm" } })
    for (const e of [otherKdf, otherCipher]) {
      const r = decryptEnvelope(e, "supersecret")
      expect(Either.isLeft(r) && r.left.problem).toBe("unsupported encryption")
    }
  })

  test("an envelope that is not JSON → \"not a key\"", () => {
    const r = decryptEnvelope("definitely { not json", "supersecret")
    expect(Either.isLeft(r) && r.left.problem).toBe("not a key")
  })

  test("an envelope built independently (node scrypt + @noble/ciphers) decrypts to its plaintext", () => {
    const plaintext = new TextEncoder().encode("independent plaintext")
    const r = decryptEnvelope(encryptEnvelope(plaintext, "pw"), "pw")
    if (Either.isLeft(r)) throw new Error(`decrypt failed: ${r.left.problem}`)
    expect(text(r.right)).toBe("independent plaintext")
  })
})

describe("loadSigningKey: cosign encrypted keys", () => {
  const pair = p256()

  test("ENCRYPTED SIGSTORE PRIVATE KEY (cosign ≥ 2.0.1) loads with its password as ECDSA P-256", () => {
    const pem = encryptCosignKey(pair.privateKey, PASSWORD, { pemType: "ENCRYPTED SIGSTORE PRIVATE KEY" })
    expect(pem).toStartWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
    const key = loaded(pem, PASSWORD)
    expect(key.algorithm).toBe("ecdsa-p256")
    expectSameKeyPair(key, pair)
  })

  test("legacy ENCRYPTED COSIGN PRIVATE KEY loads with its password as ECDSA P-256", () => {
    const pem = encryptCosignKey(pair.privateKey, PASSWORD, { pemType: "ENCRYPTED COSIGN PRIVATE KEY" })
    expect(pem).toStartWith("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n")
    const key = loaded(pem, PASSWORD)
    expect(key.algorithm).toBe("ecdsa-p256")
    expectSameKeyPair(key, pair)
  })

  test("a key encrypted with the empty password loads with the empty password", () => {
    const pem = encryptCosignKey(pair.privateKey, "")
    const key = loaded(pem, "")
    expectSameKeyPair(key, pair)
  })

  test("a key encrypted with the empty password and a non-empty password given → \"wrong password\"", () => {
    expectProblem(encryptCosignKey(pair.privateKey, ""), PASSWORD, "wrong password")
  })

  test("a wrong password → \"wrong password\", and the message names neither password nor key", () => {
    const pem = encryptCosignKey(pair.privateKey, PASSWORD)
    const e = expectProblem(pem, "PLANTED-WRONG-pw-41d2", "wrong password")
    expectNoSecrets(e, pem, PASSWORD)
  })

  test("unsupported scrypt parameters inside a PEM → \"unsupported encryption\"", () => {
    expectProblem(encryptCosignKey(pair.privateKey, PASSWORD, { N: 16384 }), PASSWORD, "unsupported encryption")
  })

  test("an encrypted P-384 key → \"unsupported curve\"", () => {
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" })
    expectProblem(encryptCosignKey(p384.privateKey, PASSWORD), PASSWORD, "unsupported curve")
  })

  test("an encrypted ed25519 key → \"unsupported key type\"", () => {
    const ed = generateKeyPairSync("ed25519")
    expectProblem(encryptCosignKey(ed.privateKey, PASSWORD), PASSWORD, "unsupported key type")
  })

  test("an encrypted envelope whose plaintext is not PKCS#8 → \"not a key\"", () => {
    const pem = pemBlock("ENCRYPTED SIGSTORE PRIVATE KEY", Buffer.from(encryptEnvelope(new TextEncoder().encode("not der"), PASSWORD)))
    expectProblem(pem, PASSWORD, "not a key")
  })

  test("an encrypted PEM whose body is not a JSON envelope → \"not a key\"", () => {
    expectProblem(pemBlock("ENCRYPTED COSIGN PRIVATE KEY", Buffer.from("garbage, not json")), PASSWORD, "not a key")
  })
})

describe("loadSigningKey: plain PEM keys", () => {
  test("PKCS#8 `PRIVATE KEY` P-256 loads as ECDSA P-256 (no password needed)", () => {
    const pair = p256()
    const pem = pkcs8Pem(pair.privateKey)
    expect(pem).toStartWith("-----BEGIN PRIVATE KEY-----")
    const key = loaded(pem, "")
    expect(key.algorithm).toBe("ecdsa-p256")
    expectSameKeyPair(key, pair)
  })

  test("SEC1 `EC PRIVATE KEY` P-256 loads as ECDSA P-256", () => {
    const pair = p256()
    const pem = pair.privateKey.export({ format: "pem", type: "sec1" }).toString()
    expect(pem).toStartWith("-----BEGIN EC PRIVATE KEY-----")
    const key = loaded(pem, "")
    expect(key.algorithm).toBe("ecdsa-p256")
    expectSameKeyPair(key, pair)
  })

  test("RSA keys (PKCS#1 `RSA PRIVATE KEY` and PKCS#8) load as RSA", () => {
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 })
    const pkcs1 = pair.privateKey.export({ format: "pem", type: "pkcs1" }).toString()
    expect(pkcs1).toStartWith("-----BEGIN RSA PRIVATE KEY-----")
    for (const pem of [pkcs1, pkcs8Pem(pair.privateKey)]) {
      const key = loaded(pem, "")
      expect(key.algorithm).toBe("rsa")
      expectSameKeyPair(key, pair)
    }
  })

  test("PKCS#8 `ENCRYPTED PRIVATE KEY` loads with its password; a wrong one → \"wrong password\"", () => {
    const pair = p256()
    const pem = pair.privateKey.export({ format: "pem", type: "pkcs8", cipher: "aes-256-cbc", passphrase: PASSWORD }).toString()
    expect(pem).toStartWith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    expectSameKeyPair(loaded(pem, PASSWORD), pair)
    expectProblem(pem, "PLANTED-WRONG-pw-41d2", "wrong password")
  })

  test("P-384 keys (PKCS#8 and SEC1) → \"unsupported curve\"", () => {
    const pair = generateKeyPairSync("ec", { namedCurve: "P-384" })
    expectProblem(pkcs8Pem(pair.privateKey), "", "unsupported curve")
    expectProblem(pair.privateKey.export({ format: "pem", type: "sec1" }).toString(), "", "unsupported curve")
  })

  // Bun's crypto cannot even generate these curves, so openssl makes them.
  test("secp256k1 and brainpoolP256r1 keys made by openssl, PKCS#8 and SEC1 → \"unsupported curve\"", () => {
    for (const curve of ["secp256k1", "brainpoolP256r1"]) {
      const sec1 = openssl(["ecparam", "-name", curve, "-genkey", "-noout"])
      expect(sec1).toStartWith("-----BEGIN EC PRIVATE KEY-----")
      const pkcs8 = openssl(["pkcs8", "-topk8", "-nocrypt"], sec1)
      expect(pkcs8).toStartWith("-----BEGIN PRIVATE KEY-----")
      expectProblem(pkcs8, "", "unsupported curve")
      expectProblem(sec1, "", "unsupported curve")
    }
  })

  test("ed25519 → \"unsupported key type\"", () => {
    const pair = generateKeyPairSync("ed25519")
    const e = expectProblem(pkcs8Pem(pair.privateKey), "", "unsupported key type")
    expect(e.detail).toContain("ed25519")
  })

  test("garbage → \"not a key\"", () => {
    expectProblem("this is not a key at all\n", "", "not a key")
    expectProblem("", "", "not a key")
    expectProblem("{\"type\":\"service_account\"}", "", "not a key")
  })

  test("a `PRIVATE KEY` block with a corrupted body → \"not a key\", body not echoed", () => {
    const pem = pkcs8Pem(p256().privateKey)
    const lines = pem.split("\n")
    const corrupted = [lines[0], lines[1]!.slice(0, 20), ...lines.slice(2)].join("\n")
    expectProblem(corrupted, "", "not a key")
  })

  test("a public key given as signing key → \"not a key\"", () => {
    expectProblem(spkiPem(p256().publicKey), "", "not a key")
  })
})

describe("loadPublicKey", () => {
  test("an SPKI `PUBLIC KEY` PEM loads (cosign.pub)", () => {
    const pub = readFileSync(join(import.meta.dir, "..", "fixtures", "cosign-upstream", "cosign.pub"), "utf8")
    const r = loadPublicKey(pub, "cosign.pub")
    if (Either.isLeft(r)) throw new Error(r.left.message)
    expect(r.right.asymmetricKeyType).toBe("ec")
    expect(r.right.asymmetricKeyDetails?.namedCurve).toBe("prime256v1")
  })

  test("an `RSA PUBLIC KEY` PEM loads", () => {
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 })
    const pem = pair.publicKey.export({ format: "pem", type: "pkcs1" }).toString()
    expect(pem).toStartWith("-----BEGIN RSA PUBLIC KEY-----")
    const r = loadPublicKey(pem, "rsa.pub")
    expect(Either.isRight(r) && spki(r.right)).toBe(spki(pair.publicKey))
  })

  test("garbage → \"not a key\" naming the source", () => {
    const r = loadPublicKey("nope", "k.pub")
    if (Either.isRight(r)) throw new Error("expected a failure")
    expect(r.left.problem).toBe("not a key")
    expect(r.left.message).toStartWith("signing key k.pub: not a key")
  })
})
