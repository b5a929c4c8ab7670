import { afterAll, describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { appendGithubSummary, escapeCell, githubSummary, shortDigest } from "../../src/report/GithubSummary.ts"
import { imageResult } from "../../src/model/Result.ts"
import type { ImageResult, ImageStatus } from "../../src/model/Result.ts"

const DIGEST = `sha256:${"0123456789ab".repeat(5)}cdef`

const result = (source: string, status: ImageStatus, extra: Partial<ImageResult> = {}): ImageResult =>
  imageResult({ source, target: `eu.gcr.io/external/library/${source}`, digest: DIGEST, status, durationMs: 10, ...extra })

const results = [
  result("busybox:1.36", "synced", { bytesCopied: 2 * 1024 * 1024 }),
  result("alpine:3.19", "present"),
  result("nginx:1.25", "conflict", { error: "holds sha256:x | not <sha256:y>\nleft untouched", errorType: "TagConflict" }),
  result("missing:1", "failed", { digest: undefined, error: "source image missing:1 not found", errorType: "SourceNotFound" })
]

/** The cells of a Markdown table row, split on unescaped pipes. */
const cells = (row: string): Array<string> => {
  expect(row.startsWith("| ")).toBe(true)
  expect(row.endsWith(" |")).toBe(true)
  return row.slice(2, -2).split(/(?<!\\)\|/).map((c) => c.trim())
}

describe("githubSummary", () => {
  const md = githubSummary(results, { title: "image-syncer: images.yaml", durationMs: 75_000 })
  const lines = md.split("\n")

  test("a heading, then a counts table with bytes moved and duration", () => {
    expect(lines[0]).toBe("## image-syncer: images.yaml")
    expect(lines[2]).toBe("4 images, 2 conflicted or failed.")
    const header = cells(lines[4]!)
    expect(header).toEqual(["synced", "present", "planned", "conflict", "failed", "total", "bytes moved", "duration"])
    expect(cells(lines[5]!).every((c) => /^-{3,}:?$/.test(c))).toBe(true)
    expect(cells(lines[6]!)).toEqual(["1", "1", "0", "1", "1", "4", "2.00 MiB", "1m15s"])
  })

  test("a per-image table: status text, source, target, short digest, error; every row has five cells", () => {
    const start = lines.indexOf("| status | source | target | digest | error |")
    expect(start).toBeGreaterThan(6)
    const rows = lines.slice(start + 2).filter((l) => l.startsWith("|"))
    expect(rows).toHaveLength(4)
    for (const row of rows) expect(cells(row)).toHaveLength(5)
    expect(cells(rows[0]!)).toEqual([
      "synced",
      "`busybox:1.36`",
      "`eu.gcr.io/external/library/busybox:1.36`",
      "`sha256:0123456789ab`",
      ""
    ])
    expect(cells(rows[3]!)[3]).toBe("-")
    expect(cells(rows[3]!)[4]).toBe("SourceNotFound: source image missing:1 not found")
  })

  test("pipes escaped, HTML neutralised, newlines as <br>: the error stays in its cell", () => {
    const row = lines.find((l) => l.startsWith("| conflict"))!
    expect(cells(row)[4]).toBe("TagConflict: holds sha256:x \\| not &lt;sha256:y&gt;<br>left untouched")
  })

  test("emoji-free, no control characters, ends with a newline", () => {
    expect(md.endsWith("\n")).toBe(true)
    expect(/\p{Extended_Pictographic}/u.test(md)).toBe(false)
    // eslint-disable-next-line no-control-regex
    expect(/[\u0000-\u0009\u000b-\u001f]/.test(md)).toBe(false)
  })

  test("a dry run says so; an empty run has only the counts", () => {
    const dry = githubSummary([], { durationMs: 5, dryRun: true })
    expect(dry.split("\n")[0]).toBe("## image-syncer (dry run)")
    expect(dry).toContain("0 images, no conflicts or failures.")
    expect(dry).not.toContain("| status |")
  })

  test("escapeCell and shortDigest", () => {
    expect(escapeCell("a|b\\c `d` *e* _f_ [g]")).toBe("a\\|b\\\\c \\`d\\` \\*e\\* \\_f\\_ \\[g\\]")
    expect(shortDigest(DIGEST)).toBe("sha256:0123456789ab")
    expect(shortDigest(undefined)).toBe("-")
  })
})

describe("appendGithubSummary", () => {
  let dir: string | undefined
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  test("appends to the file GitHub gives (earlier steps' content is kept)", async () => {
    dir = await mkdtemp(join(tmpdir(), "gh-summary-"))
    const path = join(dir, "step_summary.md")
    await writeFile(path, "# earlier step\n")
    await Effect.runPromise(appendGithubSummary(path, githubSummary(results, { durationMs: 1 })))
    const text = await readFile(path, "utf8")
    expect(text.startsWith("# earlier step\n\n## image-syncer\n")).toBe(true)
    expect(text).toContain("| status | source | target | digest | error |")
  })

  test("a path that cannot be written is a typed error", async () => {
    const error = await Effect.runPromise(Effect.flip(appendGithubSummary("/nonexistent-dir/x/summary.md", "x")))
    expect(error._tag).toBe("GithubSummaryFailed")
    expect(error.message).toContain("/nonexistent-dir/x/summary.md")
  })
})
