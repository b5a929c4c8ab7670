/** A result line fitted to the terminal: whole when it fits; otherwise the target keeps its prefix, the error its share, the digest its 12 digits. */
import { describe, expect, test } from "bun:test"
import { compactTarget, fittedResultLine } from "../../../src/cli/output/ResultLine.ts"
import { imageResult } from "../../../src/model/Result.ts"
import { formatResult } from "../../../src/report/Output.ts"

const D = `sha256:${"ab".repeat(32)}`
const failed = imageResult({
  source: "127.0.0.1:34563/many/app:1",
  target: "127.0.0.1:37027/eu/127.0.0.1-34563/many/app:1",
  digest: undefined,
  status: "failed",
  warnings: [],
  error: "127.0.0.1:34563: ECONNREFUSED: connection refused",
  errorType: "RegistryUnavailable"
})
const conflict = imageResult({
  source: "busybox:1.32.0",
  target: "r.example/external/library/busybox:1.32.0-v1",
  digest: D,
  status: "conflict",
  warnings: [],
  error: `r.example/external/library/busybox:1.32.0-v1 already holds sha256:${"e0".repeat(32)}; target tags are immutable, left untouched`,
  errorType: "TagConflict"
})

describe("compactTarget", () => {
  test("drops the repository path the target repeats from the source, keeps prefix and tag", () => {
    expect(compactTarget("busybox:1.36", "eu.gcr.io/acme/mirror/library/busybox:1.36")).toBe("eu.gcr.io/acme/mirror/library/…:1.36")
    expect(compactTarget(failed.source, failed.target)).toBe("127.0.0.1:37027/eu/…:1")
    expect(compactTarget("busybox@sha256:abc", "r.example/m/library/busybox:1.32.0-v1")).toBe("r.example/m/library/…:1.32.0-v1")
  })
})

describe("fittedResultLine", () => {
  test("a line that fits is formatResult's with a short digest", () => {
    expect(fittedResultLine(conflict, 400, false)).toBe(formatResult(conflict).replaceAll(`sha256:${"e0".repeat(32)}`, `sha256:${"e0".repeat(6)}…`).replace(D, `sha256:${"ab".repeat(6)}…`).replace(": r.example/external/library/busybox:1.32.0-v1 already", ": already"))
  })

  test("at 79 columns: within the width, the target's prefix and tag kept, the digest whole, the error's cause kept", () => {
    const f = fittedResultLine(failed, 79, false)
    expect(f.length).toBeLessThanOrEqual(79)
    expect(f).toContain("/eu/…:1")
    expect(f).toContain("refused")
    const c = fittedResultLine(conflict, 79, false)
    expect(c.length).toBeLessThanOrEqual(79)
    expect(c).toContain(`sha256:${"ab".repeat(6)}…`)
    expect(c).toContain(": already holds")
  })
})
