/**
 * Loads a signing key: cosign's encrypted format (`ENCRYPTED SIGSTORE PRIVATE KEY`, legacy
 * `ENCRYPTED COSIGN PRIVATE KEY`: scrypt + NaCl secretbox over a PKCS#8 DER key) or a plain
 * PEM (PKCS#8 `PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, `RSA PRIVATE KEY`). ECDSA P-256 and RSA.
 * Errors say which problem it is, never what the key or password was.
 */
import { xsalsa20poly1305 } from "@noble/ciphers/salsa.js"
import { Data, Either } from "effect"
import { createPrivateKey, createPublicKey, scryptSync } from "node:crypto"
import type { KeyObject } from "node:crypto"

/** A usable signing key pair. */
export interface SigningKey {
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  /** "ecdsa-p256" or "rsa" */
  readonly algorithm: "ecdsa-p256" | "rsa"
}

/** Why a key could not be loaded. */
export type KeyProblem = "wrong password" | "not a key" | "unsupported curve" | "unsupported key type" | "unsupported encryption"

/** The key cannot be used; `reason` says which problem (exit 2 before any registry is contacted). */
export class SignKeyUnusable extends Data.TaggedError("SignKeyUnusable")<{
  readonly source: string
  readonly problem: KeyProblem
  readonly detail: string
}> {
  override get message() {
    return `signing key ${this.source}: ${this.problem}${this.detail ? ` (${this.detail})` : ""}`
  }
}

/** scrypt N values go-securesystemslib accepts: legacy, standard, OWASP. */
const allowedN = new Set([32768, 65536, 131072])

interface EncryptedEnvelope {
  readonly kdf: { readonly name: string; readonly params: { readonly N: number; readonly r: number; readonly p: number }; readonly salt: string }
  readonly cipher: { readonly name: string; readonly nonce: string }
  readonly ciphertext: string
}

/** Decrypts a go-securesystemslib `encrypted` envelope (JSON). Left: which problem. */
export const decryptEnvelope = (json: string, password: string): Either.Either<Uint8Array, { problem: KeyProblem; detail: string }> => {
  let env: EncryptedEnvelope
  try {
    env = JSON.parse(json) as EncryptedEnvelope
  } catch {
    return Either.left({ problem: "not a key", detail: "encrypted block is not JSON" })
  }
  if (env?.kdf?.name !== "scrypt" || env?.cipher?.name !== "nacl/secretbox") {
    return Either.left({ problem: "unsupported encryption", detail: `kdf ${env?.kdf?.name}, cipher ${env?.cipher?.name}` })
  }
  const { N, r, p } = env.kdf.params ?? { N: 0, r: 0, p: 0 }
  if (!allowedN.has(N) || r !== 8 || p !== 1) {
    return Either.left({ problem: "unsupported encryption", detail: `unsupported scrypt parameters N=${N} r=${r} p=${p}` })
  }
  const salt = Buffer.from(env.kdf.salt, "base64")
  const nonce = Buffer.from(env.cipher.nonce, "base64")
  const sealed = Buffer.from(env.ciphertext, "base64")
  if (nonce.length !== 24 || sealed.length < 16) {
    return Either.left({ problem: "not a key", detail: "malformed nonce or ciphertext" })
  }
  // Node's default maxmem (32 MiB) is too small even for N = 2^15 with r = 8.
  const key = scryptSync(Buffer.from(password, "utf8"), salt, 32, { N, r, p, maxmem: 512 * 1024 * 1024 })
  try {
    return Either.right(xsalsa20poly1305(new Uint8Array(key), new Uint8Array(nonce)).decrypt(new Uint8Array(sealed)))
  } catch {
    return Either.left({ problem: "wrong password", detail: "" })
  }
}

/** DER of the OIDs id-ecPublicKey (1.2.840.10045.2.1) and prime256v1 (1.2.840.10045.3.1.7). */
const EC_PUBLIC_KEY_OID = Buffer.from("06072a8648ce3d0201", "hex")
const P256_OID = Buffer.from("06082a8648ce3d030107", "hex")
const includes = (haystack: Buffer, needle: Buffer) => haystack.indexOf(needle) >= 0

const pemBlock = (text: string): { type: string; body: Buffer } | undefined => {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text)
  if (!m) return undefined
  return { type: m[1]!, body: Buffer.from(m[2]!.replace(/\s+/g, ""), "base64") }
}

const usable = (privateKey: KeyObject, source: string): Either.Either<SigningKey, SignKeyUnusable> => {
  const type = privateKey.asymmetricKeyType
  if (type === "ec") {
    const curve = privateKey.asymmetricKeyDetails?.namedCurve
    if (curve !== "prime256v1") {
      return Either.left(new SignKeyUnusable({ source, problem: "unsupported curve", detail: `${curve ?? "unknown"}; only P-256 is supported` }))
    }
    return Either.right({ privateKey, publicKey: createPublicKey(privateKey), algorithm: "ecdsa-p256" })
  }
  if (type === "rsa") return Either.right({ privateKey, publicKey: createPublicKey(privateKey), algorithm: "rsa" })
  return Either.left(new SignKeyUnusable({ source, problem: "unsupported key type", detail: `${type ?? "unknown"}; ECDSA P-256 or RSA expected` }))
}

/** Loads a key from PEM text; `source` names it in errors (a path, never content). */
export const loadSigningKey = (pem: string, password: string, source: string): Either.Either<SigningKey, SignKeyUnusable> => {
  const block = pemBlock(pem)
  if (!block) return Either.left(new SignKeyUnusable({ source, problem: "not a key", detail: "no PEM block found" }))
  if (block.type === "ENCRYPTED SIGSTORE PRIVATE KEY" || block.type === "ENCRYPTED COSIGN PRIVATE KEY") {
    const der = decryptEnvelope(block.body.toString("utf8"), password)
    if (Either.isLeft(der)) return Either.left(new SignKeyUnusable({ source, ...der.left }))
    try {
      return usable(createPrivateKey({ key: Buffer.from(der.right), format: "der", type: "pkcs8" }), source)
    } catch {
      return Either.left(new SignKeyUnusable({ source, problem: "not a key", detail: "decrypted data is not a PKCS#8 key" }))
    }
  }
  if (block.type === "PRIVATE KEY" || block.type === "EC PRIVATE KEY" || block.type === "RSA PRIVATE KEY") {
    try {
      return usable(createPrivateKey({ key: pem, format: "pem" }), source)
    } catch (e) {
      // An EC key whose DER does not name P-256 is on a curve we (and often the runtime) cannot use.
      const ec = block.type === "EC PRIVATE KEY" || includes(block.body, EC_PUBLIC_KEY_OID)
      const unsupportedCurve = block.type !== "RSA PRIVATE KEY" &&
        (/curve|unsupported/i.test(String(e)) || (ec && !includes(block.body, P256_OID)))
      return Either.left(
        new SignKeyUnusable({ source, problem: unsupportedCurve ? "unsupported curve" : "not a key", detail: `${block.type} could not be parsed` })
      )
    }
  }
  if (block.type === "ENCRYPTED PRIVATE KEY") {
    try {
      return usable(createPrivateKey({ key: pem, format: "pem", passphrase: password }), source)
    } catch {
      return Either.left(new SignKeyUnusable({ source, problem: "wrong password", detail: "PKCS#8 encrypted key" }))
    }
  }
  return Either.left(new SignKeyUnusable({ source, problem: "not a key", detail: `PEM block "${block.type}" is not a private key` }))
}

/** Loads a public key (SPKI `PUBLIC KEY` or `RSA PUBLIC KEY`) for verification. */
export const loadPublicKey = (pem: string, source: string): Either.Either<KeyObject, SignKeyUnusable> => {
  try {
    const key = createPublicKey({ key: pem, format: "pem" })
    return Either.right(key)
  } catch {
    return Either.left(new SignKeyUnusable({ source, problem: "not a key", detail: "expected a PUBLIC KEY PEM" }))
  }
}
