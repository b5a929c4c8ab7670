/**
 * `--shard I/N`: N CI jobs share one definition file without overlap. An image belongs to
 * shard `1 + (sha256(target) mod N)`: deterministic, independent of the file's order, and the
 * same on every machine, so each image lands in exactly one shard.
 */
import { Either } from "effect"
import { createHash } from "node:crypto"

/** One shard of N, 1-based. */
export interface Shard {
  /** 1 ≤ index ≤ count */
  readonly index: number
  /** N ≥ 1 */
  readonly count: number
}

const SHAPE = /^(\d+)\/(\d+)$/

/** Parses "I/N" (1-based: "1/4" … "4/4"); Left is a message for the user. */
export const parseShard = (text: string): Either.Either<Shard, string> => {
  const trimmed = text.trim()
  const match = SHAPE.exec(trimmed)
  if (match === null) {
    return Either.left(`--shard must be I/N, this job's shard and the number of shards, e.g. 2/4 (got ${JSON.stringify(text)})`)
  }
  const index = Number(match[1])
  const count = Number(match[2])
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count)) {
    return Either.left(`--shard ${trimmed}: numbers too large`)
  }
  if (count < 1) return Either.left(`--shard ${trimmed}: the number of shards must be at least 1`)
  if (index < 1 || index > count) {
    return Either.left(`--shard ${trimmed}: the shard must be between 1 and ${count} (shards count from 1)`)
  }
  return Either.right({ index, count })
}

/** "I/N" */
export const formatShard = (shard: Shard): string => `${shard.index}/${shard.count}`

/** The 1-based shard of a target ("registry/repository:tag") among `count` shards. */
export const shardOf = (target: string, count: number): number => {
  const hash = BigInt(`0x${createHash("sha256").update(target, "utf8").digest("hex")}`)
  return Number(hash % BigInt(Math.max(1, Math.floor(count)))) + 1
}

/** Whether the image with this target belongs to the shard. */
export const inShard = (target: string, shard: Shard): boolean => shardOf(target, shard.count) === shard.index

/** The items of one shard, in their original order. */
export const selectShard = <A>(items: ReadonlyArray<A>, shard: Shard, targetOf: (item: A) => string): Array<A> =>
  items.filter((item) => inShard(targetOf(item), shard))
