/** What `plan` prints after the run: every image with its size, and what a sync would copy. */
import type { ImageResult } from "../../model/Result.ts"
import { formatBytes } from "../../report/Units.ts"

/** The plan as a readable table. */
export const planTable = (results: ReadonlyArray<ImageResult>, pulls: ReadonlyArray<readonly [string, number]> = []): string => {
  const rows = results.map((r) => [r.status, r.source, r.target, r.sizeBytes === undefined ? "-" : formatBytes(r.sizeBytes)])
  const header = ["STATUS", "SOURCE", "TARGET", "SIZE"]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd()
  const toCopy = results.filter((r) => r.status === "planned").reduce((n, r) => n + (r.sizeBytes ?? 0), 0)
  // The plan read each tree to copy once, as the copy will: its manifest GETs are the copy's (pulls, on Docker Hub).
  const gets = pulls.filter(([, n]) => n > 0).map(([registry, n]) => `${registry} ${n}`)
  // "registry/repository:tag" without its tag: one line per repository a sync would create.
  const toCreate = [...new Set(results.filter((r) => r.wouldCreateRepository === true).map((r) => r.target.replace(/:[^:/]*$/, "")))]
  return [
    line(header),
    ...rows.map(line),
    `to copy: ${results.filter((r) => r.status === "planned").length} image(s), ${formatBytes(toCopy)} (blobs already in the target are not copied again)`,
    ...toCreate.map((repository) => `would create repository ${repository}`),
    ...(gets.length > 0 ? [`manifest GETs the copy makes (pulls on Docker Hub): ${gets.join(", ")}`] : [])
  ].join("\n")
}
