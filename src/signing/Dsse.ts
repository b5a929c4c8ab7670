/**
 * DSSE envelopes (secure-systems-lab/dsse v1) as cosign writes them: the signature is over the
 * pre-authentication encoding `DSSEv1 <len> <type> <len> <payload>` (sigstore-go
 * `sign/content.go` DSSEData), the envelope JSON is `{"payload","payloadType","signatures":
 * [{"sig"}]}` (protobuf-specs `dsse.Envelope`, no keyid, as cosign v3 marshals it for `.att`
 * layers in `cmd/cosign/cli/attest/attest.go`). Serialised and read with @sigstore/bundle and
 * @sigstore/core, never by hand.
 */
import { envelopeFromJSON, envelopeToJSON } from "@sigstore/bundle"
import { dsse } from "@sigstore/core"
import { sha256Digest } from "../model/Digest.ts"
import { DSSE_ENVELOPE } from "../model/MediaTypes.ts"
import type { SignatureLayer } from "./SimpleSigning.ts"

/** The annotation cosign puts on a legacy `.att` layer: the statement's predicate type. */
export const PREDICATE_TYPE_ANNOTATION = "predicateType"

/** An envelope's parts: what was signed and the one signature (standard base64). */
export interface Envelope {
  readonly payloadType: string
  readonly payload: Uint8Array
  readonly signature: string
}

/** The bytes a DSSE signature is made over. */
export const preAuthEncoding = (payloadType: string, payload: Uint8Array): Uint8Array => new Uint8Array(dsse.preAuthEncoding(payloadType, Buffer.from(payload)))

/** The envelope as JSON bytes, in the field order cosign writes. */
export const envelopeBytes = (envelope: Envelope): Uint8Array =>
  new TextEncoder().encode(JSON.stringify(envelopeToJSON({
    payload: Buffer.from(envelope.payload),
    payloadType: envelope.payloadType,
    signatures: [{ sig: Buffer.from(envelope.signature, "base64"), keyid: "" }]
  })))

/** Reads envelope JSON (bytes or an already parsed object); undefined when it is not one with a signature. */
export const readEnvelope = (input: Uint8Array | unknown): Envelope | undefined => {
  try {
    const json = input instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(input)) : input
    const envelope = envelopeFromJSON(json)
    const first = envelope.signatures[0]
    if (first === undefined || first.sig.length === 0 || envelope.payload.length === 0) return undefined
    return { payloadType: envelope.payloadType, payload: new Uint8Array(envelope.payload), signature: Buffer.from(first.sig).toString("base64") }
  } catch {
    return undefined
  }
}

/** A legacy `.att` layer for envelope bytes: media type DSSE, the predicate type annotated (cosign's static.NewAttestation options). */
export const attestationLayer = (envelope: Uint8Array, predicateType: string): SignatureLayer => ({
  mediaType: DSSE_ENVELOPE,
  digest: sha256Digest(envelope),
  size: envelope.length,
  annotations: { [PREDICATE_TYPE_ANNOTATION]: predicateType }
})
