/**
 * Tag selection: an entry with a `tags` rule names a repository; its tags are listed through
 * the Transport (every page), the rule picks some (src/definition/TagRule.ts), and each picked
 * tag becomes an entry of its own — source `repository:tag`, target tag = source tag — with the
 * usual rules. A rule that picks nothing is a failed result (`NoTagsMatched`): a typo never
 * passes silently. A picked tag that an explicit entry already names is left to that entry,
 * and that entry's result carries a warning naming the tag and the rule it took it from.
 */
import { Context, Data, Effect, Layer } from "effect"
import type { Definition, ImageEntry } from "../definition/Definition.ts"
import { sourceLocation } from "../definition/Locate.ts"
import { describeRule, leftOutSuffixed, selectTags } from "../definition/TagRule.ts"
import { imageResult } from "../model/Result.ts"
import type { ImageResult } from "../model/Result.ts"
import { formatTarget } from "../model/Target.ts"
import { TagLists } from "./TagLists.ts"

/** A tags rule that selects no tag of its repository. */
export class NoTagsMatched extends Data.TaggedError("NoTagsMatched")<{
  readonly source: string
  readonly rule: string
  readonly listed: number
  /** tags of the range's releases that it left out for their suffix (pre-releases to semver) */
  readonly suffixed: ReadonlyArray<string>
}> {
  override get message() {
    const base = `no tag of ${this.source} matches the rule (${this.rule}); the repository has ${this.listed} tag${this.listed === 1 ? "" : "s"}`
    const n = this.suffixed.length
    if (n === 0) return base
    return `${base}; ${n} of them (such as "${
      this.suffixed[0]
    }") carry a suffix, which semver counts as a pre-release and the range leaves out: add a "match" for the suffix you want (the range then applies to the release each tag names)`
  }
}

/**
 * One entry of a run: an entry to sync (to each of its targets), or outcomes already known (a
 * rule that selected nothing: one failed result per target).
 */
export type Slot =
  /** `warnings`: said on the entry's results (a tag a rule also selected) */
  | { readonly _tag: "Entry"; readonly entry: ImageEntry; readonly warnings?: ReadonlyArray<string> }
  | { readonly _tag: "Known"; readonly results: ReadonlyArray<ImageResult> }

/** A run's images in definition order, every tags rule replaced by the tags it selects. */
export interface Expanded {
  /** the definition with concrete entries only */
  readonly definition: Definition
  /** what the run goes through, in definition order */
  readonly slots: ReadonlyArray<Slot>
  /** every image of the run — one per entry and target, in the order results come in — as source and target */
  readonly images: ReadonlyArray<{ readonly source: string; readonly target: string }>
}

/** The images of slots: each entry once per target. */
const imagesOf = (slots: ReadonlyArray<Slot>): Expanded["images"] =>
  slots.flatMap((s) =>
    s._tag === "Known"
      ? s.results.map((r) => ({ source: r.source, target: r.target }))
      : s.entry.targets.map((t) => ({ source: s.entry.source, target: formatTarget(t) }))
  )

/** The entry of one selected tag. */
const entryFor = (rule: ImageEntry, tag: string): ImageEntry => ({
  ...rule,
  source: `${rule.source}:${tag}`,
  reference: { ...rule.reference, tag, digest: undefined },
  target: { ...rule.target, tag },
  targets: rule.targets.map((t) => ({ ...t, tag })),
  tags: undefined,
  ...(rule.tags ? { selectedBy: rule.tags.spec } : {})
})

/** The failed results of a rule entry, one per target repository (no tag: none was selected). */
const failedRule = (rule: ImageEntry, e: { readonly _tag: string; readonly message: string }): ReadonlyArray<ImageResult> =>
  rule.targets.map((t) => imageResult({ source: rule.source, target: `${t.registry}/${t.repository}`, status: "failed", error: e.message, errorType: e._tag }))

/** The Expand service. */
export class Expand extends Context.Tag("syncer/Expand")<Expand, {
  /** Every `tags` rule replaced by the entries of the tags it selects (a definition without rules comes back as it was). */
  readonly expand: (definition: Definition) => Effect.Effect<Expanded>
}>() {
  /** The live step: tags listed through the Transport, a few repositories at a time. */
  static layer = Layer.effect(
    Expand,
    Effect.map(TagLists, (tagLists) => ({
      expand: (definition: Definition) =>
        Effect.gen(function*() {
          if (definition.images.every((e) => e.tags === undefined)) {
            const slots = definition.images.map((entry): Slot => ({ _tag: "Entry", entry }))
            return { definition, slots, images: imagesOf(slots) }
          }
          const explicit = new Set(definition.images.filter((e) => e.tags === undefined).map((e) => formatTarget(e.target)))
          // target → what rules also selected it, for the warning on the explicit entry's result
          const overlaps = new Map<string, Array<string>>()
          const expanded = yield* Effect.forEach(definition.images, (entry) => {
            const rule = entry.tags
            if (rule === undefined) return Effect.succeed([{ _tag: "Entry", entry } as Slot])
            return tagLists.of(sourceLocation(entry, definition)).pipe(
              Effect.flatMap((listed) => {
                const selected = selectTags(rule, listed)
                if (selected.length === 0) {
                  return Effect.fail(
                    new NoTagsMatched({ source: entry.source, rule: describeRule(rule.spec), listed: listed.length, suffixed: leftOutSuffixed(rule, listed) })
                  )
                }
                const entries = selected.map((tag) => entryFor(entry, tag))
                const kept = entries.filter((e) => !explicit.has(formatTarget(e.target)))
                const left = entries.filter((e) => !kept.includes(e))
                for (const e of left) {
                  const target = formatTarget(e.target)
                  overlaps.set(target, [
                    ...(overlaps.get(target) ?? []),
                    `target tag ${e.target.tag} is also selected by the tags rule of ${entry.source} (${describeRule(rule.spec)}); synced once, as this entry`
                  ])
                }
                return Effect.as(
                  Effect.forEach(
                    left,
                    (e) => Effect.logWarning(`${entry.source}: tag ${e.target.tag} is also an entry of its own; synced once, as that entry`)
                  ),
                  kept.map((e): Slot => ({ _tag: "Entry", entry: e }))
                )
              }),
              Effect.catchAll((e) => Effect.succeed([{ _tag: "Known", results: failedRule(entry, e) } as Slot])),
              Effect.annotateLogs("image", entry.source)
            )
          }, { concurrency: 4 })
          const slots = expanded.flat().map((slot): Slot => {
            if (slot._tag !== "Entry" || !definition.images.includes(slot.entry)) return slot
            const warnings = overlaps.get(formatTarget(slot.entry.target))
            return warnings === undefined ? slot : { ...slot, warnings }
          })
          return {
            definition: { ...definition, images: slots.flatMap((s) => (s._tag === "Entry" ? [s.entry] : [])) },
            slots,
            images: imagesOf(slots)
          }
        })
    }))
  )
}
