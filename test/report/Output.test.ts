import { describe, expect, test } from "bun:test"
import { countByStatus, exitCodeOf, formatResult, formatSummary, reportOf } from "../../src/report/Output.ts"
import { imageResult } from "../../src/model/Result.ts"
import type { ImageResult, ImageStatus } from "../../src/model/Result.ts"

const DIGEST = `sha256:${"a".repeat(64)}`

const result = (status: ImageStatus, extra: Partial<ImageResult> = {}): ImageResult =>
  imageResult({ source: "busybox:1.36", target: "eu.gcr.io/kyma-project/external/library/busybox:1.36", digest: DIGEST, status, durationMs: 12, ...extra })

describe("formatResult", () => {
  test("status padded to 8, source -> target, digest", () => {
    expect(formatResult(result("synced"))).toBe(
      `synced   busybox:1.36 -> eu.gcr.io/kyma-project/external/library/busybox:1.36 ${DIGEST}`
    )
    expect(formatResult(result("present")).startsWith("present  busybox:1.36 ")).toBe(true)
    expect(formatResult(result("conflict")).startsWith("conflict busybox:1.36 ")).toBe(true)
  })

  test("an unknown digest prints as \"-\"", () => {
    expect(formatResult(result("failed", { digest: undefined }))).toBe(
      "failed   busybox:1.36 -> eu.gcr.io/kyma-project/external/library/busybox:1.36 -"
    )
  })

  test("the error follows after \": \"", () => {
    const line = formatResult(result("failed", { digest: undefined, error: "source image busybox:1.36 not found" }))
    expect(line.endsWith(" - : source image busybox:1.36 not found")).toBe(true)
  })
})

describe("countByStatus / formatSummary", () => {
  const mixed = [result("synced"), result("synced"), result("present"), result("conflict"), result("failed"), result("planned")]

  test("counts every status, zeros included", () => {
    expect(countByStatus(mixed)).toEqual({ synced: 2, present: 1, planned: 1, conflict: 1, failed: 1 })
    expect(countByStatus([])).toEqual({ synced: 0, present: 0, planned: 0, conflict: 0, failed: 0 })
  })

  test("one line with the total and every status in a fixed order", () => {
    expect(formatSummary(mixed)).toBe("6 images: 2 synced, 1 present, 1 planned, 1 conflict, 1 failed")
  })

  test("singular for one image, plural for none", () => {
    expect(formatSummary([result("present")])).toBe("1 image: 0 synced, 1 present, 0 planned, 0 conflict, 0 failed")
    expect(formatSummary([])).toBe("0 images: 0 synced, 0 present, 0 planned, 0 conflict, 0 failed")
  })
})

describe("exitCodeOf", () => {
  test("0 when every image is synced, present or planned", () => {
    expect(exitCodeOf([result("synced"), result("present"), result("planned")])).toBe(0)
    expect(exitCodeOf([])).toBe(0)
  })

  test("1 when any image conflicted or failed", () => {
    expect(exitCodeOf([result("synced"), result("conflict")])).toBe(1)
    expect(exitCodeOf([result("failed"), result("present")])).toBe(1)
  })
})

describe("reportOf", () => {
  const meta = { imagesFile: "images.yaml", dryRun: false, startedAt: new Date("2026-11-26T15:00:00.000Z"), durationMs: 999 }

  test("images carry source (as written), target, digest and status; summary and exit code follow", () => {
    const doc = reportOf([result("synced", { bytesCopied: 42 }), result("present")], meta)
    expect(doc.images[0]).toEqual({
      source: "busybox:1.36",
      target: "eu.gcr.io/kyma-project/external/library/busybox:1.36",
      digest: DIGEST,
      status: "synced",
      signed: false,
      bytesCopied: 42,
      durationMs: 12
    })
    expect(doc.summary).toEqual({ total: 2, synced: 1, present: 1, planned: 0, conflict: 0, failed: 0 })
    expect(doc).toMatchObject({ imagesFile: "images.yaml", dryRun: false, startedAt: "2026-11-26T15:00:00.000Z", durationMs: 999, exitCode: 0 })
  })

  test("error and errorType only when there is an error; an unknown digest is null", () => {
    const doc = reportOf([result("failed", { digest: undefined, error: "nope", errorType: "SourceNotFound" }), result("synced")], meta)
    expect(doc.images[0]).toMatchObject({ digest: null, status: "failed", error: "nope", errorType: "SourceNotFound" })
    expect("error" in doc.images[1]!).toBe(false)
    expect("errorType" in doc.images[1]!).toBe(false)
    expect(doc.exitCode).toBe(1)
  })

  test("warnings and signatureDigest only when present", () => {
    const doc = reportOf(
      [result("synced", { warnings: ["amd64Only has no effect"], signed: true, signatureDigest: `sha256:${"b".repeat(64)}` }), result("synced")],
      meta
    )
    expect(doc.images[0]).toMatchObject({ warnings: ["amd64Only has no effect"], signed: true, signatureDigest: `sha256:${"b".repeat(64)}` })
    expect("warnings" in doc.images[1]!).toBe(false)
    expect("signatureDigest" in doc.images[1]!).toBe(false)
  })

  test("survives JSON round-trip with the documented statuses", () => {
    const statuses: Array<ImageStatus> = ["synced", "present", "planned", "conflict", "failed"]
    const doc = JSON.parse(JSON.stringify(reportOf(statuses.map((s) => result(s)), { ...meta, dryRun: true }))) as {
      images: Array<{ status: string }>
      dryRun: boolean
    }
    expect(doc.images.map((i) => i.status)).toEqual(statuses)
    expect(doc.dryRun).toBe(true)
  })
})
