/** Platforms as the definition writes them and as index children and configs carry them. */
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { formatPlatform, parsePlatform, platformMatches } from "../../src/model/Platform.ts"
import type { Platform } from "../../src/model/Platform.ts"

const parsed = (text: string): Platform => Either.getOrThrow(parsePlatform(text))

describe("parsePlatform", () => {
  test("os/architecture and os/architecture/variant", () => {
    expect(parsed("linux/amd64")).toEqual({ os: "linux", architecture: "amd64" })
    expect(parsed("linux/arm/v7")).toEqual({ os: "linux", architecture: "arm", variant: "v7" })
    expect(formatPlatform(parsed("linux/arm/v7"))).toBe("linux/arm/v7")
  })

  test("one part, four parts, empty parts and upper case are refused with an example", () => {
    for (const bad of ["linux", "linux/arm/v7/x", "linux//v7", "/amd64", "LINUX/AMD64", ""]) {
      const result = parsePlatform(bad)
      expect(Either.isLeft(result), bad).toBe(true)
      if (Either.isLeft(result)) expect(result.left).toContain("e.g. \"linux/amd64\"")
    }
  })
})

describe("platformMatches", () => {
  test("same os and architecture; a variant only when the wanted one names it", () => {
    expect(platformMatches(parsed("linux/amd64"), { os: "linux", architecture: "amd64" })).toBe(true)
    expect(platformMatches(parsed("linux/amd64"), { os: "windows", architecture: "amd64" })).toBe(false)
    expect(platformMatches(parsed("linux/arm"), { os: "linux", architecture: "arm", variant: "v6" })).toBe(true)
    expect(platformMatches(parsed("linux/arm/v7"), { os: "linux", architecture: "arm", variant: "v6" })).toBe(false)
    expect(platformMatches(parsed("linux/arm/v7"), { os: "linux", architecture: "arm", variant: "v7" })).toBe(true)
  })

  test("arm64 without a variant is v8", () => {
    expect(platformMatches(parsed("linux/arm64/v8"), { os: "linux", architecture: "arm64" })).toBe(true)
    expect(platformMatches(parsed("linux/arm64"), { os: "linux", architecture: "arm64", variant: "v8" })).toBe(true)
    expect(platformMatches(parsed("linux/arm64/v9"), { os: "linux", architecture: "arm64" })).toBe(false)
  })

  test("a child without a platform matches nothing", () => {
    expect(platformMatches(parsed("linux/amd64"), undefined)).toBe(false)
  })
})
