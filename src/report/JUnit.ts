/**
 * `--junit FILE`: the run as JUnit XML for CI dashboards, one test case per image. Conflicts
 * and failures are `<failure>`s; synced, present and planned images pass, with their status
 * in `<system-out>`. The shape follows the common Ant/Jenkins JUnit schema.
 */
import { countByStatus } from "./Output.ts"
import type { UnfinishedImage } from "./Output.ts"
import { failsRun } from "../model/Result.ts"
import type { ImageResult } from "../model/Result.ts"

/** What the document says about the run as a whole. */
export interface JUnitMeta {
  /** the test suite's name, e.g. "image-syncer images.yaml" */
  readonly name: string
  readonly durationMs: number
  /** when the run started */
  readonly timestamp: Date
  /** the images an interrupted run did not finish: test cases in error */
  readonly unfinished?: ReadonlyArray<UnfinishedImage>
}

// Characters XML 1.0 does not allow at all, not even as references: C0 controls other than
// tab, newline and carriage return, U+FFFE/U+FFFF, and unpaired surrogates.
const INVALID_XML = new RegExp(
  [
    "[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\ufffe\\uffff]",
    "[\\ud800-\\udbff](?![\\udc00-\\udfff])",
    "(?<![\\ud800-\\udbff])[\\udc00-\\udfff]"
  ].join("|"),
  "g"
)

/** Escapes text for element content. Characters XML cannot carry become U+FFFD. */
export const escapeXmlText = (s: string): string => s.replace(INVALID_XML, "\ufffd").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/** Escapes text for a double-quoted attribute value (newlines and tabs kept as character references). */
export const escapeXmlAttribute = (s: string): string =>
  escapeXmlText(s).replace(/"/g, "&quot;").replace(/'/g, "&apos;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;").replace(
    /\t/g,
    "&#9;"
  )

/** Seconds with millisecond precision, as JUnit's `time` attributes want them. */
const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3)

/** ISO 8601 without a zone designator (the JUnit schema's `timestamp` pattern), in UTC. */
const isoTimestamp = (date: Date): string => date.toISOString().slice(0, 19)

const attributes = (attrs: ReadonlyArray<readonly [string, string | number]>): string =>
  attrs.map(([k, v]) => ` ${k}="${escapeXmlAttribute(String(v))}"`).join("")

/** The test case name of an image. */
export const testCaseName = (r: ImageResult): string => `${r.source} -> ${r.target}`

const passOutput = (r: ImageResult): string => {
  const lines = [`status: ${r.status}`, `digest: ${r.digest ?? "-"}`]
  if (r.signed === true) lines.push("signed: yes")
  else if (r.signed === "already") lines.push("signed: signature present")
  else if (r.wouldSign) lines.push("signed: would sign")
  if (r.repositoryCreated === true) lines.push("repository: created")
  else if (r.wouldCreateRepository === true) lines.push("repository: would create")
  if (r.bytesCopied > 0) lines.push(`bytes copied: ${r.bytesCopied}`)
  for (const w of r.warnings) lines.push(`warning: ${w}`)
  return lines.join("\n")
}

const testCase = (r: ImageResult): string => {
  const open = `    <testcase${attributes([["classname", "image-syncer"], ["name", testCaseName(r)], ["time", seconds(r.durationMs)]])}>`
  if (failsRun(r.status)) {
    const message = r.error ?? r.status
    const type = r.errorType ?? (r.status === "conflict" ? "TagConflict" : "Failed")
    const body = `${r.status}: ${message}\nsource: ${r.source}\ntarget: ${r.target}\ndigest: ${r.digest ?? "-"}`
    return `${open}\n      <failure${attributes([["message", message], ["type", type]])}>${escapeXmlText(body)}</failure>\n    </testcase>`
  }
  return `${open}\n      <system-out>${escapeXmlText(passOutput(r))}</system-out>\n    </testcase>`
}

/** An image the run did not finish: an `<error>`, since nothing about it was decided. */
const unfinishedCase = (image: UnfinishedImage): string => {
  const open = `    <testcase${attributes([["classname", "image-syncer"], ["name", `${image.source} -> ${image.target}`], ["time", seconds(0)]])}>`
  const message = "not finished: the run was interrupted"
  const body = `${message}\nsource: ${image.source}\ntarget: ${image.target}`
  return `${open}\n      <error${attributes([["message", message], ["type", "Interrupted"]])}>${escapeXmlText(body)}</error>\n    </testcase>`
}

/** The run as a JUnit XML document: `<testsuites>` with one `<testsuite>` and one `<testcase>` per image (unfinished ones as errors). */
export const junitXml = (results: ReadonlyArray<ImageResult>, meta: JUnitMeta): string => {
  const counts = countByStatus(results)
  const failures = counts.conflict + counts.failed
  const unfinished = meta.unfinished ?? []
  const totals: Array<readonly [string, string | number]> = [
    ["tests", results.length + unfinished.length],
    ["failures", failures],
    ["errors", unfinished.length],
    ["skipped", 0],
    ["time", seconds(meta.durationMs)]
  ]
  const suite = `  <testsuite${attributes([["name", meta.name], ...totals, ["timestamp", isoTimestamp(meta.timestamp)]])}>`
  const cases = [...results.map(testCase), ...unfinished.map(unfinishedCase)]
  return [
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
    `<testsuites${attributes([["name", meta.name], ...totals])}>`,
    cases.length === 0 ? `${suite}</testsuite>` : [suite, ...cases, "  </testsuite>"].join("\n"),
    "</testsuites>",
    ""
  ].join("\n")
}
