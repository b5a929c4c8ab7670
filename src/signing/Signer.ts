/**
 * The Signer service interface: turns payload bytes into a signature. Implementations live
 * in plugins/signers (a key file, or the cosign CLI for KMS keys) and are swappable.
 */
import { Context, Data } from "effect"
import type { Effect } from "effect"
import type { KeyObject } from "node:crypto"

/** Signing failed (key, registry or signer trouble). */
export class SigningFailed extends Data.TaggedError("SigningFailed")<{ readonly detail: string }> {
  override get message() {
    return `signing failed: ${this.detail}`
  }
}

/** The Signer service shape. */
export interface SignerShape {
  /** for messages and logs: "key cosign.key", "cosign gcpkms://…" */
  readonly name: string
  /** the public key, to recognise our own signatures (idempotence) */
  readonly publicKey: KeyObject
  /** ASN.1 DER signature over SHA-256 of the payload, standard base64 */
  readonly sign: (payload: Uint8Array) => Effect.Effect<string, SigningFailed>
}

/** The Signer tag. */
export class Signer extends Context.Tag("syncer/Signer")<Signer, SignerShape>() {}
