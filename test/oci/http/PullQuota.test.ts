/** The pull-quota book: Docker Hub's ratelimit headers read, pulls counted, the limit marked. */
import { describe, expect, test } from "bun:test"
import { makePullQuota, parseQuotaHeader } from "../../../src/oci/http/PullQuota.ts"

describe("parseQuotaHeader", () => {
  test("count and window, as Docker Hub writes them", () => {
    expect(parseQuotaHeader("100;w=21600")).toEqual({ count: 100, windowSeconds: 21600 })
    expect(parseQuotaHeader("92")).toEqual({ count: 92, windowSeconds: undefined })
  })

  test("absent or malformed: no answer", () => {
    for (const bad of [undefined, "", "many;w=1", "-1;w=60"]) expect(parseQuotaHeader(bad)).toBeUndefined()
  })
})

describe("makePullQuota", () => {
  test("the last answer's figures are kept; GETs are counted; registries without headers or pulls are not listed", () => {
    const book = makePullQuota()
    book.observe("docker.io", { "ratelimit-limit": "100;w=21600", "ratelimit-remaining": "95;w=21600" })
    book.countGet("docker.io")
    book.observe("docker.io", { "ratelimit-limit": "100;w=21600", "ratelimit-remaining": "94;w=21600" })
    book.observe("quay.io", {})
    expect([...book.snapshot().keys()]).toEqual(["docker.io"])
    expect(book.snapshot().get("docker.io")).toEqual({ manifestGets: 1, limit: 100, remaining: 94, windowSeconds: 21600, exhausted: undefined })
  })

  test("exhaust: the registry answers with its reset time from then on, and nothing is left", () => {
    const book = makePullQuota()
    expect(book.exhausted("docker.io")).toBeUndefined()
    book.exhaust("docker.io", "2026-12-02T15:00:00.000Z")
    expect(book.exhausted("docker.io")).toBe("2026-12-02T15:00:00.000Z")
    expect(book.snapshot().get("docker.io")?.remaining).toBe(0)
    book.exhaust("ghcr.io", undefined)
    expect(book.exhausted("ghcr.io")).toBe("")
  })
})
