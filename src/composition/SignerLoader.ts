/**
 * Picks the signer of `--sign-key`: a KMS reference goes to the cosign CLI (plugins/signers/
 * cosign.ts), anything else is a key file (plugins/signers/key.ts). The key is loaded now, so
 * a bad key stops the run before any registry is contacted.
 */
import { Effect, Layer } from "effect"
import { Exec } from "../process/Exec.ts"
import { Signer } from "../signing/Signer.ts"
import * as CosignSigner from "../../plugins/signers/cosign.ts"
import * as KeySigner from "../../plugins/signers/key.ts"

/** True when `--sign-key` names a KMS key rather than a file. */
export const isKmsReference = CosignSigner.isKmsReference

/** The Signer layer of a key reference, loaded now; `password` decrypts an encrypted key file. */
export const loadSigner = (reference: string, password: string) =>
  isKmsReference(reference)
    ? CosignSigner.make(reference).pipe(Effect.provide(Exec.layer), Effect.map((signer) => Layer.succeed(Signer, signer)))
    : KeySigner.load(reference, password).pipe(Effect.map((key) => KeySigner.layer(key, `key ${reference}`)))
