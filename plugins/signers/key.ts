/**
 * Signer plugin: a key file (`--sign-key FILE`): cosign's encrypted format or a plain PEM.
 * The password is the caller's (the CLI reads SYNCER_SIGN_KEY_PASSWORD, else COSIGN_PASSWORD: cli/Config.ts).
 */
import { Effect, Either, Layer } from "effect"
import { sign } from "node:crypto"
import { readTextCapped } from "../../src/model/InputFile.ts"
import { loadSigningKey, SignKeyUnusable } from "../../src/signing/KeyLoader.ts"
import type { SigningKey } from "../../src/signing/KeyLoader.ts"
import { Signer } from "../../src/signing/Signer.ts"
import type { SignerShape } from "../../src/signing/Signer.ts"

/** Reads and decrypts the key now, so a bad key stops the run before any registry is contacted. */
export const load = (path: string, password: string): Effect.Effect<SigningKey, SignKeyUnusable> =>
  Effect.tryPromise({
    try: () => readTextCapped(path),
    catch: (e) => {
      const code = (e as { code?: string }).code
      return new SignKeyUnusable({
        source: path,
        problem: "not a key",
        detail: code === "ENOENT"
          ? "file not found"
          : code === "EISDIR"
          ? "is a directory"
          : code === "ETOOBIG"
          ? "larger than 4 MiB"
          : "cannot be read"
      })
    }
  }).pipe(Effect.flatMap((pem) => Either.match(loadSigningKey(pem, password, path), { onLeft: Effect.fail, onRight: Effect.succeed })))

/** A Signer over a loaded key. */
export const make = (key: SigningKey, name: string): SignerShape => ({
  name,
  publicKey: key.publicKey,
  // DER-encoded ECDSA (node's default) or PKCS#1 v1.5 RSA, over SHA-256 of the exact payload.
  sign: (payload) => Effect.sync(() => sign("sha256", payload, key.privateKey).toString("base64"))
})

/** The Signer layer for a loaded key. */
export const layer = (key: SigningKey, name: string) => Layer.succeed(Signer, make(key, name))
