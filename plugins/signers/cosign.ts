/**
 * Signer plugin: delegates to the `cosign` CLI for KMS key references (`gcpkms://`,
 * `awskms://`, `azurekms://`, `hashivault://`), as the original tool signed with a GCP KMS
 * key. cosign only signs the payload (`sign-blob`); the signature image is still ours.
 * Contract: `cosign public-key --key REF` prints the public key PEM;
 * `cosign sign-blob --key REF --tlog-upload=false --yes --output-signature OUT PAYLOAD` writes
 * the base64 signature to OUT.
 */
import { Effect, Layer } from "effect"
import { createPublicKey } from "node:crypto"
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Exec } from "../../src/process/Exec.ts"
import { Signer } from "../../src/signing/Signer.ts"
import { SignKeyUnusable } from "../../src/signing/KeyLoader.ts"
import { SigningFailed } from "../../src/signing/Signer.ts"

/** Key references this signer handles. */
export const isKmsReference = (key: string): boolean => /^(gcpkms|awskms|azurekms|hashivault):\/\//.test(key)

/** Builds the signer: asks cosign for the public key now (so a bad reference fails before any copy). */
export const make = (keyRef: string, cosign = "cosign") =>
  Effect.gen(function*() {
    const exec = yield* Exec
    const pub = yield* exec.run([cosign, "public-key", "--key", keyRef]).pipe(
      Effect.mapError((e) => new SignKeyUnusable({ source: keyRef, problem: "not a key", detail: e.message }))
    )
    const publicKey = yield* Effect.try({
      try: () => createPublicKey(pub.stdout),
      catch: () => new SignKeyUnusable({ source: keyRef, problem: "not a key", detail: "cosign public-key printed no PEM public key" })
    })
    const sign = (payload: Uint8Array) =>
      Effect.acquireUseRelease(
        Effect.promise(() => mkdtemp(join(tmpdir(), "image-syncer-cosign-"))),
        (dir) =>
          Effect.gen(function*() {
            const payloadPath = join(dir, "payload.json")
            const sigPath = join(dir, "payload.sig")
            yield* Effect.promise(() => writeFile(payloadPath, payload))
            yield* exec.run([cosign, "sign-blob", "--key", keyRef, "--tlog-upload=false", "--yes", "--output-signature", sigPath, payloadPath])
            const sig = (yield* Effect.promise(() => readFile(sigPath, "utf8"))).trim()
            if (!/^[A-Za-z0-9+/]+=*$/.test(sig)) return yield* new SigningFailed({ detail: "cosign sign-blob wrote no base64 signature" })
            return sig
          }),
        (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
      ).pipe(Effect.catchTag("ProcessFailed", (e) => Effect.fail(new SigningFailed({ detail: e.message }))))
    return Signer.of({ name: `cosign ${keyRef}`, publicKey, sign })
  })

/** The Signer layer (needs Exec). */
export const layer = (keyRef: string, cosign?: string) => Layer.effect(Signer, make(keyRef, cosign))
