/**
 * in-toto Statements v1 (https://in-toto.io/Statement/v1): what a DSSE envelope of ours
 * carries. cosign v3's `sign` writes one whose predicate type is
 * `https://sigstore.dev/cosign/sign/v1` with an empty predicate and the signed digest as the
 * only subject (`cmd/cosign/cli/sign/sign.go` signDigestBundle, `pkg/types/predicate.go`).
 */

/** The statement type we write. */
export const IN_TOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1"
/** cosign v3's predicate type for a plain image signature in a bundle. */
export const COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"

/** One subject: a name and its digests by algorithm. */
export interface Subject {
  readonly name?: string
  readonly digest: Readonly<Record<string, string>>
}

/** A statement as read. */
export interface Statement {
  readonly type: string
  readonly subject: ReadonlyArray<Subject>
  readonly predicateType: string
  readonly predicate: unknown
}

/** "sha256:<hex>" → "<hex>" (what in-toto's digest maps hold). */
export const hexOf = (digest: string): string => digest.slice(digest.indexOf(":") + 1)

/**
 * The statement `cosign sign` v3 signs for `digest`, byte for byte as protojson writes it
 * (without the random spaces Go's protojson may add): the subject has the digest and empty
 * annotations, the predicate is empty.
 */
export const signStatement = (digest: string): Uint8Array =>
  new TextEncoder().encode(
    `{"_type":${JSON.stringify(IN_TOTO_STATEMENT_V1)},"subject":[{"digest":{"sha256":${JSON.stringify(hexOf(digest))}},"annotations":{}}],` +
      `"predicateType":${JSON.stringify(COSIGN_SIGN_PREDICATE)},"predicate":{}}`
  )

/** Reads a statement from payload bytes; undefined when they are not one. */
export const readStatement = (bytes: Uint8Array): Statement | undefined => {
  try {
    const j = JSON.parse(new TextDecoder().decode(bytes)) as {
      _type?: unknown
      subject?: unknown
      predicateType?: unknown
      predicate?: unknown
    }
    if (typeof j._type !== "string" || typeof j.predicateType !== "string" || !Array.isArray(j.subject)) return undefined
    const subject = j.subject.flatMap((s: unknown): Array<Subject> => {
      const d = (s as { digest?: unknown } | null)?.digest
      if (d === null || typeof d !== "object") return []
      const name = (s as { name?: unknown }).name
      return [{ ...(typeof name === "string" ? { name } : {}), digest: d as Record<string, string> }]
    })
    return { type: j._type, subject, predicateType: j.predicateType, predicate: j.predicate }
  } catch {
    return undefined
  }
}

/** True when one of the statement's subjects is `digest` (as cosign's IntotoSubjectClaimVerifier checks it). */
export const namesSubject = (statement: Statement, digest: string): boolean => {
  const [algorithm, hex] = [digest.slice(0, digest.indexOf(":")), hexOf(digest)]
  return statement.subject.some((s) => s.digest[algorithm] === hex)
}
