/**
 * Does a sigstore bundle carry a valid signature by our key? Checked with @sigstore/verify,
 * the key as the only trusted material and no transparency log or timestamp required: what
 * `cosign verify --key … --insecure-ignore-tlog=true` accepts. Used for idempotence (a bundle
 * by the same key means nothing is written) and by `verify`.
 */
import { toSignedEntity, Verifier } from "@sigstore/verify"
import type { KeyObject } from "node:crypto"
import { bundleEnvelope, readBundle } from "./Bundle.ts"
import type { Envelope } from "./Dsse.ts"
import { readStatement } from "./Statement.ts"
import type { Statement } from "./Statement.ts"

/** A bundle checked against a key: its envelope and statement, or why it does not count. */
export type BundleCheck =
  | { readonly ok: true; readonly envelope: Envelope; readonly statement: Statement }
  | { readonly ok: false; readonly reason: string }

/** Verifies bundle bytes with `publicKey` (whatever hint the bundle names, as cosign does with --key). */
export const verifyBundleWith = (bytes: Uint8Array, publicKey: KeyObject): BundleCheck => {
  const read = readBundle(bytes)
  if (!read.ok) return { ok: false, reason: read.reason }
  const envelope = bundleEnvelope(read.bundle)
  if (envelope === undefined) return { ok: false, reason: "the bundle holds no DSSE envelope" }
  // Only the key is asked for: log entries and timestamps are not (--insecure-ignore-tlog).
  const keyOnly = { ...read.bundle, verificationMaterial: { ...read.bundle.verificationMaterial, tlogEntries: [], timestampVerificationData: undefined } }
  const verifier = new Verifier(
    {
      certificateAuthorities: [],
      timestampAuthorities: [],
      tlogs: [],
      ctlogs: [],
      publicKey: () => ({ publicKey, validFor: () => true })
    },
    { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }
  )
  try {
    verifier.verify(toSignedEntity(keyOnly))
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : "does not verify" }
  }
  const statement = readStatement(envelope.payload)
  if (statement === undefined) return { ok: false, reason: "the envelope's payload is not an in-toto statement" }
  return { ok: true, envelope, statement }
}
