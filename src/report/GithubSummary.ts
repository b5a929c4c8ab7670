/**
 * The GitHub Actions job summary: when `GITHUB_STEP_SUMMARY` names a file, the run appends a
 * Markdown heading, a counts table and a per-image table to it.
 */
import { Data, Effect } from "effect"
import { appendFile } from "node:fs/promises"
import { countByStatus } from "./Output.ts"
import type { UnfinishedImage } from "./Output.ts"
import { formatBytes, formatDuration, shortenDigest } from "./Units.ts"
import { STATUSES as statuses } from "../model/Result.ts"
import type { ImageResult } from "../model/Result.ts"

/** What the summary says about the run as a whole. */
export interface GithubSummaryMeta {
  /** the heading; default "image-syncer" */
  readonly title?: string
  readonly durationMs: number
  /** a dry run says so in the heading */
  readonly dryRun?: boolean
  /** the images an interrupted run did not finish: the heading says "interrupted" and they are listed */
  readonly unfinished?: ReadonlyArray<UnfinishedImage>
}

/** The environment variable GitHub Actions sets to the job summary file. */
export const GITHUB_STEP_SUMMARY = "GITHUB_STEP_SUMMARY"

/** Text for a table cell: pipes escaped, HTML neutralised, line breaks as `<br>`. */
export const escapeCell = (s: string): string =>
  s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/([`*_[\]])/g, "\\$1")
    .replace(/\r?\n/g, "<br>")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, " ")

/** A code span for a table cell (references and digests never hold backticks; anything else is escaped text). */
const code = (s: string): string => (/^[^`|\r\n]+$/.test(s) ? `\`${s}\`` : escapeCell(s))

/** "sha256:" and the first 12 hex digits; "-" for none. */
export const shortDigest = (digest: string | undefined): string => (digest === undefined ? "-" : shortenDigest(digest))

const row = (cells: ReadonlyArray<string>): string => `| ${cells.join(" | ")} |`

/** The run as Markdown for the job summary. */
export const githubSummary = (results: ReadonlyArray<ImageResult>, meta: GithubSummaryMeta): string => {
  const counts = countByStatus(results)
  const bytes = results.reduce((sum, r) => sum + r.bytesCopied, 0)
  const problems = counts.conflict + counts.failed
  const title = escapeCell(meta.title ?? "image-syncer")
  const unfinished = meta.unfinished ?? []
  const interrupted = meta.unfinished !== undefined
  const total = results.length + unfinished.length
  const lines = [
    `## ${title}${meta.dryRun ? " (dry run)" : ""}${interrupted ? " (interrupted)" : ""}`,
    "",
    `${total} image${total === 1 ? "" : "s"}, ${problems === 0 ? "no conflicts or failures" : `${problems} conflicted or failed`}${
      interrupted ? `; the run was interrupted: ${unfinished.length} not finished` : ""
    }.`,
    "",
    row([...statuses, ...(interrupted ? ["unfinished"] : []), "total", "bytes moved", "duration"]),
    row([...statuses.map(() => "---:"), ...(interrupted ? ["---:"] : []), "---:", "---:", "---:"]),
    row([
      ...statuses.map((s) => String(counts[s])),
      ...(interrupted ? [String(unfinished.length)] : []),
      String(total),
      formatBytes(bytes),
      formatDuration(meta.durationMs)
    ])
  ]
  if (total > 0) {
    lines.push(
      "",
      row(["status", "source", "target", "digest", "error"]),
      row(["---", "---", "---", "---", "---"]),
      ...results.map((r) =>
        row([
          r.status,
          code(r.source),
          code(r.target),
          r.digest === undefined ? "-" : code(shortDigest(r.digest)),
          r.error === undefined ? "" : escapeCell(r.errorType ? `${r.errorType}: ${r.error}` : r.error)
        ])
      ),
      ...unfinished.map((i) => row(["unfinished", code(i.source), code(i.target), "-", "not finished: the run was interrupted"]))
    )
  }
  return `${lines.join("\n")}\n`
}

/** The job summary file could not be written. */
export class GithubSummaryFailed extends Data.TaggedError("GithubSummaryFailed")<{ readonly path: string; readonly cause: unknown }> {
  override get message() {
    return `could not append to GITHUB_STEP_SUMMARY ${this.path}: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

/** Appends Markdown to the job summary file (GitHub renders the file after the step). */
export const appendGithubSummary = (path: string, markdown: string): Effect.Effect<void, GithubSummaryFailed> =>
  Effect.tryPromise({
    try: () => appendFile(path, markdown.endsWith("\n") ? `\n${markdown}` : `\n${markdown}\n`),
    catch: (cause) => new GithubSummaryFailed({ path, cause })
  })
