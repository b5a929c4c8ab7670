/**
 * Result lines as the live view shows them, at 60, 80 and 200 columns: the status, the source's
 * name and tag and the short digest whole; the target prefix named once above; the path after
 * it only when it is not the source as written; a reason whole on continuation lines.
 */
import { describe, expect, test } from "bun:test"
import { normalPrefixes, prefixHeader, resultLines, wrap } from "../../../src/cli/output/ResultLine.ts"
import { imageResult } from "../../../src/model/Result.ts"
import type { ImageResult } from "../../../src/model/Result.ts"

const PREFIX = "127.0.0.1:37097/external/"
const digest = (c: string) => `sha256:${c.repeat(64)}`
const short = (c: string) => `sha256:${c.repeat(12)}…`

const gatekeeper = imageResult({
  source: "bitnami/keycloak-gatekeeper:9.0.3",
  target: `${PREFIX}bitnami/keycloak-gatekeeper:9.0.3`,
  digest: digest("3"),
  status: "synced"
})
const pinned = imageResult({ source: `busybox@${digest("a")}`, target: `${PREFIX}library/busybox:1.32.0-v1`, digest: digest("a"), status: "synced" })
const exporter = imageResult({
  source: "bitnami/postgres-exporter:0.11.1-debian-11-r69",
  target: `${PREFIX}bitnami/postgres-exporter:0.11.1-debian-11-r69`,
  digest: digest("b"),
  status: "synced",
  signed: true
})
const postgres = imageResult({
  source: `postgres@${digest("c")}`,
  target: `${PREFIX}library/postgres:v20230508-11.19-alpine3.17`,
  digest: digest("c"),
  status: "present"
})
const conflict = imageResult({
  source: "busybox:1.32.0",
  target: `${PREFIX}library/busybox:1.32.0-v1`,
  digest: digest("c"),
  status: "conflict",
  error: `${PREFIX}library/busybox:1.32.0-v1 already holds ${digest("e")}, but the source is ${digest("c")}; target tags are immutable, left untouched`,
  errorType: "TagConflict"
})
const failed = imageResult({
  source: "127.0.0.1:34563/many/app:1",
  target: `${PREFIX}127.0.0.1-34563/many/app:1`,
  digest: undefined,
  status: "failed",
  error: "127.0.0.1:34563: ECONNREFUSED: connection refused",
  errorType: "RegistryUnavailable"
})
const ALL = [gatekeeper, pinned, exporter, postgres, conflict, failed]
const prefixes = normalPrefixes([PREFIX])
const linesOf = (r: ImageResult, width: number) => resultLines(r, width, false, prefixes)

describe("the target prefix", () => {
  test("is named once above the results; several prefixes are numbered", () => {
    expect(prefixHeader(prefixes, 79)).toEqual([`→ ${PREFIX}`])
    expect(prefixHeader(normalPrefixes(["eu.gcr.io/acme/m/", "US-DOCKER.pkg.dev/acme/m/"]), 79)).toEqual([
      "→ [1] eu.gcr.io/acme/m/",
      "→ [2] us-docker.pkg.dev/acme/m/"
    ])
  })

  test("a line gives only the path after it, nothing when that is the source as written", () => {
    expect(linesOf(gatekeeper, 199)).toEqual([`synced   bitnami/keycloak-gatekeeper:9.0.3 ${short("3")}`])
    expect(linesOf(pinned, 199)).toEqual([`synced   busybox@sha256:${"a".repeat(12)} -> library/busybox:1.32.0-v1 ${short("a")}`])
  })

  test("with several targets each line says which, by the prefix's number", () => {
    const several = normalPrefixes(["eu.gcr.io/acme/mirror/", "us-docker.pkg.dev/acme/mirror/"])
    const second = { ...gatekeeper, target: "us-docker.pkg.dev/acme/mirror/bitnami/keycloak-gatekeeper:9.0.3" }
    expect(resultLines(second, 79, false, several)).toEqual([`synced   bitnami/keycloak-gatekeeper:9.0.3 -> [2] ${short("3")}`])
    expect(resultLines({ ...pinned, target: "eu.gcr.io/acme/mirror/library/busybox:1.32.0-v1" }, 59, false, several)[0]).toContain("-> [1] ")
    // a target path moved under the line: the line still says which target
    expect(resultLines({ ...postgres, target: `us-docker.pkg.dev/acme/mirror/library/postgres:v20230508-11.19-alpine3.17` }, 59, false, several))
      .toEqual([`present  postgres@sha256:${"c".repeat(12)} -> [2]`, "         -> [2] library/postgres:v20230508-11.19-alpine3.17"])
  })

  test("without prefixes the target is given whole", () => {
    expect(resultLines(gatekeeper, 199, false)[0]).toBe(`synced   bitnami/keycloak-gatekeeper:9.0.3 -> ${gatekeeper.target} ${short("3")}`)
  })
})

for (const width of [59, 79, 199]) {
  describe(`at ${width + 1} columns`, () => {
    test("no line is wider; each keeps its status and short digest (a pin standing for its own)", () => {
      for (const r of ALL) {
        const lines = linesOf(r, width)
        for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(width)
        expect(lines[0]!.startsWith(r.status.padEnd(8))).toBe(true)
        expect(lines[0]).toContain(r.digest === undefined ? " -" : r.source.includes("@") ? `@sha256:${r.digest.slice(7, 19)}` : short(r.digest[7]!))
      }
    })

    test("the source's name and tag are whole wherever the name is not very long", () => {
      const names = width >= 79 ? ALL : [pinned, postgres, conflict, failed]
      for (const r of names) expect(linesOf(r, width)[0]).toContain(r.source.replace(/@sha256:([0-9a-f]{12})[0-9a-f]+$/, "@sha256:$1"))
    })

    test("a target tag other than the source's is never lost: on the line or the one under it", () => {
      for (const r of [pinned, postgres, conflict]) expect(linesOf(r, width).join("\n")).toContain(`:${r.target.split(":").pop()}`)
    })

    test("a conflict's reason is whole on the continuation lines, indented, its digests short", () => {
      const [, ...under] = linesOf(conflict, width)
      expect(under.every((l) => l.startsWith("         "))).toBe(true)
      expect(under.map((l) => l.trim()).join(" ")).toBe(
        `already holds ${short("e")}, but the source is ${short("c")}; target tags are immutable, left untouched`
      )
      const [, reason] = linesOf(failed, width)
      expect(reason?.trim()).toBe("127.0.0.1:34563: ECONNREFUSED: connection refused")
    })
  })
}

describe("when room runs short", () => {
  test("60 columns: a long name is cut in its middle, its tag whole", () => {
    const [line] = linesOf(exporter, 59)
    expect(line).toMatch(new RegExp(`^synced   bitn\\S*…\\S*:0\\.11\\.1-debian-11-r69 ${short("b").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`))
  })

  test("a target path that does not fit beside the source goes on the line under it, whole", () => {
    expect(linesOf(postgres, 59)).toEqual([`present  postgres@sha256:${"c".repeat(12)}`, "         -> library/postgres:v20230508-11.19-alpine3.17"])
  })

  test("colour only on the status", () => {
    const [line] = resultLines(conflict, 199, true, prefixes)
    expect(line!.startsWith("\u001b[33mconflict\u001b[0m busybox:1.32.0 ")).toBe(true)
  })
})

describe("wrap", () => {
  test("breaks at spaces within the width and never drops a character; a word longer than a line is broken inside", () => {
    const text = `one two three ${"x".repeat(25)} four`
    const lines = wrap(text, 10)
    expect(lines.every((l) => l.length <= 10)).toBe(true)
    expect(lines.join("").replace(/ /g, "")).toBe(text.replace(/ /g, ""))
    expect(lines[0]).toBe("one two")
  })
})
