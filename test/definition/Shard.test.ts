import { describe, expect, test } from "bun:test"
import { Either, FastCheck as fc } from "effect"
import { formatShard, inShard, parseShard, selectShard, shardOf } from "../../src/definition/Shard.ts"
import type { Shard } from "../../src/definition/Shard.ts"

/** Realistic targets: registry/repository:tag. */
const target = fc
  .tuple(
    fc.constantFrom("eu.gcr.io/kyma-project/external", "127.0.0.1:5000/mirror", "ghcr.io/acme"),
    fc.array(fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/), { minLength: 1, maxLength: 3 }),
    fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/)
  )
  .map(([prefix, path, tag]) => `${prefix}/${path.join("/")}:${tag}`)

const shardsOf = (count: number): Array<Shard> => Array.from({ length: count }, (_, i) => ({ index: i + 1, count }))

describe("inShard", () => {
  test("property: over N shards (1..16) every image is in exactly one shard", () => {
    fc.assert(
      fc.property(fc.uniqueArray(target, { maxLength: 60 }), fc.integer({ min: 1, max: 16 }), (targets, count) => {
        const shards = shardsOf(count)
        for (const t of targets) {
          const owners = shards.filter((s) => inShard(t, s))
          if (owners.length !== 1) return false
          if (owners[0]!.index !== shardOf(t, count)) return false
        }
        // the shards' selections partition the list, each in the original order
        const selected = shards.flatMap((s) => selectShard(targets, s, (x) => x))
        return selected.length === targets.length && new Set(selected).size === targets.length
      }),
      { numRuns: 300 }
    )
  })

  test("property: deterministic and independent of the list's order", () => {
    fc.assert(
      fc.property(fc.uniqueArray(target, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 16 }), (targets, count) => {
        const forward = targets.map((t) => shardOf(t, count))
        const backward = [...targets].reverse().map((t) => shardOf(t, count)).reverse()
        return forward.every((s, i) => s === backward[i] && s >= 1 && s <= count)
      })
    )
  })

  test("pinned: sha256 of the target mod N (changing it would reshuffle every CI matrix)", () => {
    // sha256("eu.gcr.io/kyma-project/external/library/busybox:1.36") mod N, plus one
    const t = "eu.gcr.io/kyma-project/external/library/busybox:1.36"
    const hash = BigInt(`0x${new Bun.CryptoHasher("sha256").update(t).digest("hex")}`)
    for (const n of [1, 2, 3, 4, 7, 16]) expect(shardOf(t, n)).toBe(Number(hash % BigInt(n)) + 1)
    expect(shardOf(t, 1)).toBe(1)
  })

  test("roughly balanced: 1000 targets over 4 shards, none below 200", () => {
    const targets = Array.from({ length: 1000 }, (_, i) => `eu.gcr.io/external/app-${i}:1.${i % 7}`)
    const sizes = shardsOf(4).map((s) => selectShard(targets, s, (x) => x).length)
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1000)
    for (const size of sizes) expect(size).toBeGreaterThan(200)
  })
})

describe("parseShard", () => {
  test("I/N, 1-based", () => {
    expect(parseShard("1/4")).toEqual(Either.right({ index: 1, count: 4 }))
    expect(parseShard("4/4")).toEqual(Either.right({ index: 4, count: 4 }))
    expect(parseShard("1/1")).toEqual(Either.right({ index: 1, count: 1 }))
    expect(parseShard(" 2/3 ")).toEqual(Either.right({ index: 2, count: 3 }))
    expect(formatShard({ index: 2, count: 3 })).toBe("2/3")
  })

  test("property: every 1 ≤ I ≤ N parses back", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n))),
        ([i, n]) => Either.getOrThrow(parseShard(`${i}/${n}`)).index === i
      )
    )
  })

  const message = (text: string): string => Either.match(parseShard(text), { onLeft: (m) => m, onRight: () => "(parsed)" })

  test("clear messages for what is wrong", () => {
    expect(message("0/4")).toBe("--shard 0/4: the shard must be between 1 and 4 (shards count from 1)")
    expect(message("5/4")).toBe("--shard 5/4: the shard must be between 1 and 4 (shards count from 1)")
    expect(message("1/0")).toBe("--shard 1/0: the number of shards must be at least 1")
    for (const bad of ["", "4", "1/", "/4", "a/b", "1/4/2", "-1/4", "1.5/4", "1 / 4", "1/4x"]) {
      expect(message(bad)).toStartWith("--shard must be I/N, this job's shard and the number of shards, e.g. 2/4 (got ")
    }
    expect(message("99999999999999999999/99999999999999999999")).toContain("too large")
  })
})
