import type { ImageResult, ImageStatus } from "../model/Result.ts"
/** What the command prints on stdout (one line per image, a summary) and writes as the JSON report. */

const statuses: ReadonlyArray<ImageStatus> = ["synced", "present", "planned", "conflict", "failed"]

/** One stable line per image: status, source, target, digest, and the error if any. */
export const formatResult = (r: ImageResult): string => {
  const p = resultParts(r)
  return [p.status, p.source, "->", p.target, p.digest, ...(p.note ? [p.note] : []), ...(p.error ? [p.error] : [])].join(" ")
}

/** The pieces of a result line, for views that shorten them to fit (the order and spacing are formatResult's). */
export const resultParts = (r: ImageResult) => ({
  status: r.status.padEnd(8),
  source: r.source,
  target: r.target,
  digest: r.digest ?? "-",
  note: r.signed === true ? "(signed)" : r.signed === "already" ? "(signature present)" : r.wouldSign ? "(would sign)" : undefined,
  error: r.error ? `: ${r.error}` : undefined
})

/** Counts per status. */
export const countByStatus = (results: ReadonlyArray<ImageResult>): Record<ImageStatus, number> => {
  const counts = { synced: 0, present: 0, planned: 0, conflict: 0, failed: 0 }
  for (const r of results) counts[r.status]++
  return counts
}

/** "5 images: 3 synced, 1 present, 0 planned, 1 conflict, 0 failed" */
export const formatSummary = (results: ReadonlyArray<ImageResult>): string => {
  const c = countByStatus(results)
  return `${results.length} image${results.length === 1 ? "" : "s"}: ${statuses.map((s) => `${c[s]} ${s}`).join(", ")}`
}

/** 0 when every image is synced, present or planned; 1 when any conflicted or failed. */
export const exitCodeOf = (results: ReadonlyArray<ImageResult>): 0 | 1 =>
  results.some((r) => r.status === "conflict" || r.status === "failed") ? 1 : 0

/** The `--report` document. */
export const reportOf = (
  results: ReadonlyArray<ImageResult>,
  meta: { readonly imagesFile: string; readonly dryRun: boolean; readonly startedAt: Date; readonly durationMs: number }
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
    ...(r.carried.length ? { carried: r.carried } : {}),
    bytesCopied: r.bytesCopied,
    durationMs: r.durationMs
  })),
  summary: { total: results.length, ...countByStatus(results) },
  imagesFile: meta.imagesFile,
  dryRun: meta.dryRun,
  startedAt: meta.startedAt.toISOString(),
  durationMs: meta.durationMs,
  exitCode: exitCodeOf(results)
})
