/**
 * Does a DSSE envelope (a legacy `.att` layer) carry a valid signature by our key over its
 * pre-authentication encoding? Then its statement is returned. What `cosign
 * verify-attestation --key` checks of the legacy form.
 */
import type { KeyObject } from "node:crypto"
import { preAuthEncoding, readEnvelope } from "./Dsse.ts"
import { readStatement } from "./Statement.ts"
import type { Statement } from "./Statement.ts"
import { verifySignature } from "./Verify.ts"

/** The statement of envelope bytes whose signature verifies with `publicKey`; undefined otherwise. */
export const verifyEnvelopeWith = (bytes: Uint8Array, publicKey: KeyObject): Statement | undefined => {
  const envelope = readEnvelope(bytes)
  if (envelope === undefined) return undefined
  if (!verifySignature(preAuthEncoding(envelope.payloadType, envelope.payload), envelope.signature, publicKey)) return undefined
  return readStatement(envelope.payload)
}
