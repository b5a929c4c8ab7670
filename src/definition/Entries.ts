/**
 * `images`: the entries, each key declared once with its decoder beside it — `source` (a
 * reference by Docker's rules), `tag` (a valid tag; needed for a digest-only source),
 * `amd64Only`, `platforms` (Platforms.ts) and `tags` (a rule, TagRule.ts) — then what only
 * the whole list can say: each entry's targets under every prefix, and no two entries (or two
 * rules) mapping to the same target.
 */
import { Either, Schema } from "effect"
import { hasExplicitTag, isValidTag, parseReference } from "../model/Reference.ts"
import type { ImageReference } from "../model/Reference.ts"
import type { Platform } from "../model/Platform.ts"
import { formatTarget, targetFor } from "../model/Target.ts"
import type { TargetReference } from "../model/Target.ts"
import type { ImageEntry } from "./Definition.ts"
import { keys, mustBe, optional, required, struct } from "./Field.ts"
import type { Wrong } from "./Field.ts"
import { platformsAt, platformsField } from "./Platforms.ts"
import { isRecord, positionOf, problemAt, valueAt } from "./Positions.ts"
import type { Located } from "./Positions.ts"
import type { DefinitionProblem } from "./Problems.ts"
import { compileRule, ruleProblems, tagRuleFields } from "./TagRule.ts"
import type { TagRule, TagRuleSpec } from "./TagRule.ts"

const at = (index: number, ...path: Array<string>) => ["images", index, ...path]
const lineOf = (ctx: Located, index: number): number => positionOf(ctx, ["images", index], true).line

/** Where an entry's checks note what they find. */
interface EntryContext {
  readonly ctx: Located
  readonly index: number
  readonly entry: Record<string, unknown>
  readonly problems: Array<DefinitionProblem>
}

// ---- source

const source = required(Schema.String, {
  description: "Source image reference (Docker rules): \"busybox\", \"gcr.io/distroless/static:nonroot\", \"name@sha256:…\".",
  wrongType: mustBe("source", "a string")
})

/** `source` as a reference; undefined (noted) when it is not one. */
const decodeSource = ({ ctx, index, problems }: EntryContext, written: string): ImageReference | undefined => {
  const parsed = parseReference(written)
  if (Either.isRight(parsed)) return parsed.right
  problems.push(problemAt(ctx, at(index, "source"), parsed.left.message))
  return undefined
}

// ---- tag

const tag = optional(Schema.String, {
  description: "Target tag; required when source is pinned by digest. Defaults to the source tag.",
  wrongType: ({ got, value, written }: Wrong) =>
    typeof value === "number" || typeof value === "boolean" ? `tag must be a string (quote it: tag: "${written}")` : `tag must be a string ${got}`
})

/** `tag`: true when it is absent or valid. */
const decodeTag = ({ ctx, entry, index, problems }: EntryContext): boolean => {
  if (typeof entry.tag !== "string") return entry.tag === undefined
  if (isValidTag(entry.tag)) return true
  problems.push(problemAt(ctx, at(index, "tag"), `invalid tag "${entry.tag}": up to 128 letters, digits, "_", "." or "-", not starting with "." or "-"`))
  return false
}

// ---- amd64Only and platforms

const amd64Only = optional(Schema.Boolean, {
  description:
    "The source is a single-platform linux/amd64 image rather than a multi-platform index (with tags: every selected tag; an index among them is copied whole, with a warning). Not with platforms.",
  wrongType: mustBe("amd64Only", "true or false")
})

const platforms = platformsField(
  "Only these platforms: of a multi-platform index, the listed children in an index of their own (annotated with the source index digest); a single-platform image only when its config is one of them. Not with amd64Only."
)

/** The entry's platforms (the file's default when it says nothing of platforms); "invalid" when its own cannot be used. */
const decodePlatforms = ({ ctx, entry, index, problems }: EntryContext, fileDefault: ReadonlyArray<Platform> | undefined) => {
  if (entry.platforms === undefined) return entry.amd64Only === undefined ? fileDefault : undefined
  const before = problems.length
  if (entry.amd64Only !== undefined) {
    problems.push(problemAt(ctx, at(index, "platforms"), "platforms cannot be combined with amd64Only: list \"linux/amd64\" in platforms instead", true))
  }
  const own = platformsAt(ctx, at(index, "platforms"), entry.platforms, problems)
  return problems.length > before ? "invalid" : own
}

// ---- tags

const tags = optional(
  struct(tagRuleFields, {
    identifier: "TagRule",
    description:
      "Which tags of the source repository to sync (at least one of semver and match); each is synced to the same tag in the target, with the entry's amd64Only or platforms."
  }),
  {
    wrongType: mustBe("tags", "a mapping with semver and/or match (and optionally exclude, latest)"),
    inner: keys(tagRuleFields)
  }
)

/**
 * The `tags` rule, checked: it goes with a repository only (no tag or digest in `source`, no
 * `tag:`), and needs a valid semver range or regular expression. `amd64Only` (and `platforms`)
 * apply to every tag it selects. Undefined (noted) when it cannot be used.
 */
const decodeTags = ({ ctx, entry, index, problems }: EntryContext, reference: ImageReference): TagRule | undefined => {
  const before = problems.length
  if (!isRecord(entry.tags)) return undefined // the schema says what is wrong with it
  const written = String(entry.source)
  if (reference.digest !== undefined || hasExplicitTag(written)) {
    const repository = written.split("@")[0]!.replace(/:[^/:]*$/, "")
    problems.push(
      problemAt(
        ctx,
        at(index, "source"),
        `a tags rule selects the tags itself: name the repository only (source: "${repository}"), without ${
          reference.digest !== undefined ? "a digest" : "a tag"
        }`
      )
    )
  }
  if (entry.tag !== undefined) {
    problems.push(problemAt(ctx, at(index, "tag"), "tag cannot be combined with tags: each selected tag is synced to the same tag in the target", true))
  }
  const raw = entry.tags
  const text = (v: unknown) => (typeof v === "string" ? v : undefined)
  const spec: TagRuleSpec = {
    semver: text(raw.semver),
    match: text(raw.match),
    exclude: text(raw.exclude),
    latest: typeof raw.latest === "number" ? raw.latest : undefined,
    prerelease: typeof raw.prerelease === "boolean" ? raw.prerelease : undefined
  }
  for (const p of ruleProblems(spec)) {
    problems.push(p.key === undefined ? problemAt(ctx, at(index, "tags"), p.message, true) : problemAt(ctx, at(index, "tags", p.key), p.message))
  }
  return problems.length === before ? compileRule(spec) : undefined
}

// ---- the entry and the list

const entryFields = { source, tag, amd64Only, tags, platforms }

const ImageEntrySchema = struct(entryFields, {
  identifier: "ImageEntry",
  description: "One image to sync, or with `tags` a repository whose selected tags are each an image."
})

/** The `images` key. */
export const imagesField = required(Schema.NonEmptyArray(ImageEntrySchema), {
  description: "The images to sync; at least one.",
  wrongType: ({ got, value }: Wrong) =>
    value === null
      ? "images has no entries; list at least one image (- source: \"busybox:1.36\")"
      : `images must be a list of entries like "- source: busybox:1.36" ${got}`,
  inner: {
    _tag: "Items",
    item: {
      schema: ImageEntrySchema,
      wrongType: ({ got, value }: Wrong) =>
        typeof value === "string"
          ? `each images entry must be a mapping; write "- source: ${value}" (got a plain string)`
          : `each images entry must be a mapping with a "source" key ${got}`,
      inner: keys(entryFields)
    }
  }
})

/** What the checks work out for an entry. */
export interface Computed {
  readonly reference: ImageReference
  /** one per target prefix, in the order of the prefixes */
  readonly targets: ReadonlyArray<TargetReference>
  readonly tags: TagRule | undefined
  readonly platforms: ReadonlyArray<Platform> | undefined
}

/** A checked entry as the definition holds it: what the file says (`decoded`) with what its checks worked out. */
export const entryOf = (ctx: Located, index: number, decoded: typeof ImageEntrySchema.Type, done: Computed): ImageEntry => ({
  index,
  ...positionOf(ctx, ["images", index]),
  source: decoded.source,
  tag: decoded.tag,
  amd64Only: decoded.amd64Only ?? false,
  platforms: done.platforms,
  reference: done.reference,
  target: done.targets[0]!,
  targets: done.targets,
  tags: done.tags
})

/** What the list's checks need of the rest of the file. */
export interface ListContext {
  /** the run's prefixes, and whether every one is usable */
  readonly prefixes: ReadonlyArray<string> | undefined
  readonly prefixesUsable: boolean
  /** the file's `platforms`, the default of entries that say nothing of platforms */
  readonly filePlatforms: ReadonlyArray<Platform> | undefined
}

/** Every entry checked, in order; what each valid entry comes to, by index. */
export const checkImages = (
  ctx: Located,
  list: ListContext
): { readonly problems: ReadonlyArray<DefinitionProblem>; readonly computed: ReadonlyMap<number, Computed> } => {
  const problems: Array<DefinitionProblem> = []
  const computed = new Map<number, Computed>()
  const images = valueAt(ctx.root, ["images"])
  if (!Array.isArray(images)) return { problems, computed }
  const targets = new Map<string, number>()
  const ruleTargets = new Map<string, number>()
  images.forEach((entry, index) => {
    if (!isRecord(entry) || typeof entry.source !== "string") return
    const done = checkEntry({ ctx, index, entry, problems }, entry.source, list, { targets, ruleTargets })
    if (done !== undefined) computed.set(index, done)
  })
  return { problems, computed }
}

/** One entry, and the targets the entries before it took (entries and rules apart). */
const checkEntry = (
  at: EntryContext,
  written: string,
  list: ListContext,
  taken: { readonly targets: Map<string, number>; readonly ruleTargets: Map<string, number> }
): Computed | undefined => {
  const { ctx, entry, index, problems } = at
  const tagOk = decodeTag(at)
  const reference = decodeSource(at, written)
  if (reference === undefined) return undefined
  const entryPlatforms = decodePlatforms(at, list.filePlatforms)
  if (entryPlatforms === "invalid") return undefined
  /** The entry's target under every prefix (`tag` undefined: the source's). */
  const targetsFor = (targetTag: string | undefined): ReadonlyArray<TargetReference> | undefined => {
    const all: Array<TargetReference> = []
    for (const prefix of list.prefixes ?? []) {
      const target = targetFor(prefix, reference, targetTag)
      if (Either.isLeft(target)) {
        problems.push(problemAt(ctx, ["images", index, "source"], target.left.message))
        return undefined
      }
      all.push(target.right)
    }
    return all
  }
  if (entry.tags !== undefined) {
    const rule = decodeTags(at, reference)
    if (rule === undefined || !list.prefixesUsable) return undefined
    // The target repositories; each selected tag becomes the target tag ("latest" holds the place).
    const targets = targetsFor(undefined)
    if (targets === undefined) return undefined
    for (const target of targets) {
      const repository = `${target.registry}/${target.repository}`
      const earlier = taken.ruleTargets.get(repository)
      if (earlier !== undefined) {
        problems.push(
          problemAt(
            ctx,
            ["images", index, "tags"],
            `another tags rule (images[${earlier}], line ${lineOf(ctx, earlier)}) already selects tags of ${repository}; merge the two rules`,
            true
          )
        )
        return undefined
      }
    }
    for (const target of targets) taken.ruleTargets.set(`${target.registry}/${target.repository}`, index)
    return { reference, targets, tags: rule, platforms: entryPlatforms }
  }
  if (reference.tag === undefined && entry.tag === undefined) {
    problems.push(problemAt(ctx, ["images", index, "source"], "source is pinned by digest only; add a \"tag\" for the target (e.g. tag: \"1.36.1\")"))
    return undefined
  }
  if (!tagOk || !list.prefixesUsable) return undefined
  const entryTargets = targetsFor(entry.tag as string | undefined)
  if (entryTargets === undefined) return undefined
  for (const target of entryTargets) {
    const name = formatTarget(target)
    const earlier = taken.targets.get(name)
    if (earlier === undefined) continue
    const earlierSource = valueAt(ctx.root, ["images", earlier, "source"])
    problems.push(
      problemAt(
        ctx,
        ["images", index],
        `maps to the same target "${name}" as images[${earlier}] (${String(earlierSource)}): lines ${lineOf(ctx, earlier)} and ${lineOf(ctx, index)}`
      )
    )
    return undefined
  }
  for (const target of entryTargets) taken.targets.set(formatTarget(target), index)
  return { reference, targets: entryTargets, tags: undefined, platforms: entryPlatforms }
}
