/**
 * Where signatures and attestations of a digest live, by cosign's and OCI 1.1's naming: tags
 * `sha256-<hex>.sig`, `.att`, `.sbom` beside the image, and `sha256-<hex>` for the referrers
 * fallback index of registries without a referrers API.
 */

/** cosign's tags next to a digest, in the order they are looked up. */
export const COSIGN_SUFFIXES = [".sig", ".att", ".sbom"] as const

/** "sha256:abc…" → "sha256-abc….sig" (or another suffix: ".att", ".sbom", "" for the referrers fallback). */
export const signatureTag = (digest: string, suffix = ".sig"): string => `${digest.replace(":", "-")}${suffix}`

/** The referrers fallback tag of a digest ("sha256-<hex>"). */
export const referrersTag = (digest: string): string => signatureTag(digest, "")
