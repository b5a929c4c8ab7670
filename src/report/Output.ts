/** What the command prints on stdout (one line per image, a summary) and writes as the JSON report. */
import { failsRun, STATUSES } from "../model/Result.ts"
import type { ImageResult, ImageStatus } from "../model/Result.ts"

/** One stable line per image: status, source, target, digest, and the error if any. */
export const formatResult = (r: ImageResult): string => {
  const p = resultParts(r)
  return [p.status, p.source, "->", p.target, p.digest, ...(p.note ? [p.note] : []), ...(p.error ? [p.error] : [])].join(" ")
}

/** The parenthesised notes after the digest: the repository this run created or would create, then the signature. */
const notesOf = (r: ImageResult): string | undefined => {
  const notes: Array<string> = []
  if (r.repositoryCreated === true) notes.push("(created repository)")
  else if (r.wouldCreateRepository === true) notes.push("(would create repository)")
  const signed = r.signed === true ? "(signed)" : r.signed === "already" ? "(signature present)" : r.wouldSign ? "(would sign)" : undefined
  if (signed !== undefined) notes.push(signed)
  return notes.length > 0 ? notes.join(" ") : undefined
}

/** The pieces of a result line, for views that shorten them to fit (the order and spacing are formatResult's). */
export const resultParts = (r: ImageResult) => ({
  status: r.status.padEnd(8),
  source: r.source,
  target: r.target,
  digest: r.digest ?? "-",
  note: notesOf(r),
  error: r.error ? `: ${r.error}` : undefined
})

/** Counts per status. */
export const countByStatus = (results: ReadonlyArray<ImageResult>): Record<ImageStatus, number> => {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<ImageStatus, number>
  for (const r of results) counts[r.status]++
  return counts
}

/** An image the run did not finish (it was interrupted): where it came from and was going. */
export interface UnfinishedImage {
  readonly source: string
  readonly target: string
}

/** The exit status of a run stopped by SIGINT or SIGTERM, and the `exitCode` its report gives. */
export const INTERRUPTED_EXIT_CODE = 130

/**
 * "5 images: 3 synced, 1 present, 0 planned, 1 conflict, 0 failed"; an interrupted run counts
 * its unfinished images in the total and says so: "… 0 failed (interrupted: 2 not finished)".
 */
export const formatSummary = (results: ReadonlyArray<ImageResult>, unfinished?: number): string => {
  const c = countByStatus(results)
  const total = results.length + (unfinished ?? 0)
  const line = `${total} image${total === 1 ? "" : "s"}: ${STATUSES.map((s) => `${c[s]} ${s}`).join(", ")}`
  return unfinished === undefined ? line : `${line} (interrupted: ${unfinished} not finished)`
}

/** 0 when every image is synced, present or planned; 1 when any conflicted or failed. */
export const exitCodeOf = (results: ReadonlyArray<ImageResult>): 0 | 1 => results.some((r) => failsRun(r.status)) ? 1 : 0

/** A result's signing, attestation and repository fields, present only when they apply: the report and the JSON lines spell them alike. */
export const whenApplicable = (r: ImageResult) => ({
  ...(r.bundleDigest ? { bundleDigest: r.bundleDigest } : {}),
  ...(r.childrenSigned !== undefined ? { childrenSigned: r.childrenSigned } : {}),
  ...(r.attested !== undefined ? { attested: r.attested } : {}),
  ...(r.attestationDigest ? { attestationDigest: r.attestationDigest } : {}),
  ...(r.attestationBundleDigest ? { attestationBundleDigest: r.attestationBundleDigest } : {}),
  ...(r.wouldAttest ? { wouldAttest: true as const } : {}),
  ...(r.repositoryCreated ? { repositoryCreated: true as const } : {}),
  ...(r.wouldCreateRepository ? { wouldCreateRepository: true as const } : {})
})

/**
 * The `--report` document. An interrupted run (`unfinished` given) reports what finished in
 * `images`, the rest in `unfinishedImages`, counts them in the summary, and gives the exit
 * status the process ends with.
 */
export const reportOf = (
  results: ReadonlyArray<ImageResult>,
  meta: {
    readonly imagesFile: string
    readonly dryRun: boolean
    readonly startedAt: Date
    readonly durationMs: number
    readonly unfinished?: ReadonlyArray<UnfinishedImage>
  }
) => ({
  images: results.map((r) => ({
    source: r.source,
    target: r.target,
    digest: r.digest ?? null,
    ...(r.sourceDigest !== undefined && r.sourceDigest !== r.digest ? { sourceDigest: r.sourceDigest } : {}),
    status: r.status,
    ...(r.error ? { error: r.error, errorType: r.errorType } : {}),
    ...(r.warnings.length ? { warnings: r.warnings } : {}),
    signed: r.signed,
    ...(r.signatureDigest ? { signatureDigest: r.signatureDigest } : {}),
    ...(r.wouldSign ? { wouldSign: true } : {}),
    ...whenApplicable(r),
    ...(r.carried.length ? { carried: r.carried } : {}),
    bytesCopied: r.bytesCopied,
    durationMs: r.durationMs
  })),
  summary: {
    total: results.length + (meta.unfinished?.length ?? 0),
    ...countByStatus(results),
    ...(meta.unfinished !== undefined ? { unfinished: meta.unfinished.length } : {})
  },
  imagesFile: meta.imagesFile,
  dryRun: meta.dryRun,
  startedAt: meta.startedAt.toISOString(),
  durationMs: meta.durationMs,
  exitCode: meta.unfinished !== undefined ? INTERRUPTED_EXIT_CODE : exitCodeOf(results),
  ...(meta.unfinished !== undefined
    ? { interrupted: true, unfinished: meta.unfinished.length, unfinishedImages: meta.unfinished.map((i) => ({ source: i.source, target: i.target })) }
    : {})
})
