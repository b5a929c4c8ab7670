/** Verifying cosign signatures over exact payload bytes: used for idempotence and by `verify`. */
import { verify } from "node:crypto"
import type { KeyObject } from "node:crypto"
import { readPayload, SIGNATURE_ANNOTATION } from "./SimpleSigning.ts"
import type { SignatureLayer } from "./SimpleSigning.ts"
import { SIMPLE_SIGNING } from "../model/MediaTypes.ts"

/** True when `signatureB64` is `key`'s signature over `payload` (DER, or raw r||s for P-256). */
export const verifySignature = (payload: Uint8Array, signatureB64: string, key: KeyObject): boolean => {
  const sig = Buffer.from(signatureB64, "base64")
  try {
    if (verify("sha256", payload, key, sig)) return true
    if (key.asymmetricKeyType === "ec" && sig.length === 64) {
      return verify("sha256", payload, { key, dsaEncoding: "ieee-p1363" }, sig)
    }
  } catch {
    // a malformed signature simply does not verify
  }
  return false
}

/** True when the layer is a simple-signing payload for `digest` signed by `key`. */
export const layerVerifies = (
  layer: SignatureLayer,
  payload: Uint8Array,
  digest: string,
  key: KeyObject
): boolean => {
  const sig = layer.annotations?.[SIGNATURE_ANNOTATION]
  if (layer.mediaType !== SIMPLE_SIGNING || !sig) return false
  const claims = readPayload(payload)
  return claims !== undefined && claims.digest === digest && verifySignature(payload, sig, key)
}
