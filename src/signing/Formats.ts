/**
 * Which signature formats a run writes or accepts: cosign's legacy `.sig`/`.att` tags, the
 * sigstore bundle (v0.3) stored as an OCI 1.1 referrer (cosign v3's default), or both. A
 * small module of names only: the formats themselves load when a key is given.
 */

/** The `--signature-format` values. */
export const SIGNATURE_FORMATS = ["legacy", "bundle", "both"] as const

/** One `--signature-format` value. */
export type SignatureFormat = typeof SIGNATURE_FORMATS[number]

/** The concrete formats a value stands for. */
export const formatsOf = (format: SignatureFormat): { readonly legacy: boolean; readonly bundle: boolean } => ({
  legacy: format !== "bundle",
  bundle: format !== "legacy"
})

/** How our signatures are written: formats, children of indexes, provenance attestations. */
export interface SigningSettings {
  readonly format: SignatureFormat
  /** sign every child manifest of an index too (cosign sign --recursive) */
  readonly recursive: boolean
  /** a signed SLSA provenance attestation of each image */
  readonly attest: boolean
  /** who writes them, for the provenance's builder: "image-syncer" and its version */
  readonly tool: { readonly name: string; readonly version: string }
}

/** Today's behaviour: legacy signatures of the top-level digest, no attestation. */
export const defaultSigningSettings: SigningSettings = {
  format: "legacy",
  recursive: false,
  attest: false,
  tool: { name: "image-syncer", version: "0.0.0" }
}
