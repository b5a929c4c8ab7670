/**
 * Sigstore bundles v0.3 as `cosign sign --key` / `cosign attest --key` v3 write them without a
 * transparency log (`--tlog-upload=false`): a DSSE envelope over an in-toto statement, and as
 * verification material only a public-key hint, base64(SHA-256(SPKI DER)) of the key
 * (cosign `internal/key/svkeypair.go`; sigstore-go `sign/signer.go` Bundle). Serialised and
 * validated with @sigstore/bundle (the protobuf-specs JSON mapping cosign's protojson uses).
 */
import { bundleFromJSON, bundleToJSON, isBundleWithDsseEnvelope } from "@sigstore/bundle"
import type { Bundle } from "@sigstore/bundle"
import { createHash } from "node:crypto"
import type { KeyObject } from "node:crypto"
import { SIGSTORE_BUNDLE_V03 } from "../model/MediaTypes.ts"
import type { Envelope } from "./Dsse.ts"

/** cosign's public-key hint: base64 of the SHA-256 of the key's SPKI DER. */
export const keyHint = (publicKey: KeyObject): string => createHash("sha256").update(publicKey.export({ format: "der", type: "spki" })).digest("base64")

/** The bundle JSON bytes for a signed envelope and the signer's key hint. */
export const bundleBytes = (envelope: Envelope, hint: string): Uint8Array => {
  const bundle: Bundle = {
    mediaType: SIGSTORE_BUNDLE_V03,
    verificationMaterial: {
      content: { $case: "publicKey", publicKey: { hint } },
      tlogEntries: [],
      timestampVerificationData: undefined
    },
    content: {
      $case: "dsseEnvelope",
      dsseEnvelope: {
        payload: Buffer.from(envelope.payload),
        payloadType: envelope.payloadType,
        signatures: [{ sig: Buffer.from(envelope.signature, "base64"), keyid: "" }]
      }
    }
  }
  return new TextEncoder().encode(JSON.stringify(bundleToJSON(bundle)))
}

/** A bundle read back: valid by @sigstore/bundle's rules, or why not. */
export type ReadBundle = { readonly ok: true; readonly bundle: Bundle } | { readonly ok: false; readonly reason: string }

/** Parses and validates bundle bytes (any version @sigstore/bundle reads). */
export const readBundle = (bytes: Uint8Array): ReadBundle => {
  try {
    return { ok: true, bundle: bundleFromJSON(JSON.parse(new TextDecoder().decode(bytes))) }
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : "not a bundle" }
  }
}

/** The envelope a bundle carries, when its content is a DSSE envelope with one signature. */
export const bundleEnvelope = (bundle: Bundle): Envelope | undefined => {
  if (!isBundleWithDsseEnvelope(bundle)) return undefined
  const env = bundle.content.dsseEnvelope
  const first = env.signatures[0]
  if (first === undefined) return undefined
  return { payloadType: env.payloadType, payload: new Uint8Array(env.payload), signature: Buffer.from(first.sig).toString("base64") }
}
