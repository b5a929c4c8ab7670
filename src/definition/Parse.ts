/**
 * Parsing and validating a definition file's text: YAML with positions, the schema, then the
 * checks that need more than types (hosts, references, tags, targets, duplicates). Every
 * problem is collected, not just the first.
 */
import { Either } from "effect"
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from "yaml"
import { MAX_REQUESTS_PER_HOST } from "../model/Location.ts"
import { DOCKER_HUB, hasExplicitTag, isDockerHub, isValidRegistryHost, isValidTag, parseReference } from "../model/Reference.ts"
import type { ImageReference } from "../model/Reference.ts"
import { parsePlatform, platformMatches } from "../model/Platform.ts"
import type { Platform } from "../model/Platform.ts"
import { formatTarget, parseTargetPrefix, targetFor } from "../model/Target.ts"
import type { TargetReference } from "../model/Target.ts"
import { cloudOptionsOf, cloudProblems } from "./CloudOptions.ts"
import type { Definition, ImageEntry, RegistryOptions, TlsFiles } from "./Definition.ts"
import { schemaProblems } from "./Messages.ts"
import { isRecord, offsetOf, positionOf, problemAt, valueAt } from "./Positions.ts"
import type { Located, Path } from "./Positions.ts"
import { DefinitionError } from "./Problems.ts"
import type { DefinitionProblem } from "./Problems.ts"
import { decodeFile } from "./Schema.ts"
import { compileRule, ruleProblems } from "./TagRule.ts"
import type { TagRule, TagRuleSpec } from "./TagRule.ts"

const normaliseHost = (host: string): string => (isDockerHub(host) ? DOCKER_HUB : host.toLowerCase())

const lineOf = (ctx: Located, path: Path): number => positionOf(ctx, path, true).line

/** What the checks work out for an entry. */
interface Computed {
  readonly reference: ImageReference
  /** one per target prefix, in the order of the prefixes */
  readonly targets: ReadonlyArray<TargetReference>
  readonly tags: TagRule | undefined
  readonly platforms: ReadonlyArray<Platform> | undefined
}

/**
 * A `platforms` list, checked: at least one, each os/architecture[/variant], none twice.
 * Undefined (with the problems noted) when it cannot be used.
 */
const platformsAt = (ctx: Located, path: Path, value: unknown, problems: Array<DefinitionProblem>): ReadonlyArray<Platform> | undefined => {
  if (!Array.isArray(value)) return undefined // the schema says what is wrong with it
  if (value.length === 0) {
    problems.push(problemAt(ctx, path, "platforms is an empty list; list at least one, e.g. [\"linux/amd64\", \"linux/arm64\"] (or leave it out for every platform)"))
    return undefined
  }
  const before = problems.length
  const platforms: Array<Platform> = []
  const written: Array<string> = []
  value.forEach((item, i) => {
    if (typeof item !== "string") return
    const parsed = parsePlatform(item)
    if (Either.isLeft(parsed)) {
      problems.push(problemAt(ctx, [...path, i], parsed.left))
      return
    }
    // "linux/arm64" and "linux/arm64/v8" name the same children: one of them is one too many.
    const earlier = platforms.findIndex((p) => platformMatches(p, parsed.right) || platformMatches(parsed.right, p))
    if (earlier >= 0) {
      const first = written[earlier]!
      problems.push(problemAt(ctx, [...path, i], first === item ? `platform "${item}" is listed twice` : `platform "${item}" is listed twice ("${first}" covers it)`))
      return
    }
    platforms.push(parsed.right)
    written.push(item)
  })
  return problems.length === before ? platforms : undefined
}

const optionalString = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined)

/**
 * The `tags` rule of an entry, checked: it goes with a repository only (no tag or digest in
 * `source`, no `tag:`), and needs a valid semver range or regular expression. `amd64Only` (and
 * `platforms`) apply to every tag it selects, as on an entry of its own.
 * Undefined (with the problems noted) when it cannot be used.
 */
const ruleOf = (
  ctx: Located,
  index: number,
  entry: Record<string, unknown>,
  reference: ImageReference,
  tag: unknown,
  problems: Array<DefinitionProblem>
): TagRule | undefined => {
  const at = (...path: Array<string>) => ["images", index, ...path]
  const before = problems.length
  if (!isRecord(entry.tags)) return undefined // the schema says what is wrong with it
  const source = String(entry.source)
  if (reference.digest !== undefined || hasExplicitTag(source)) {
    const repository = source.split("@")[0]!.replace(/:[^/:]*$/, "")
    problems.push(problemAt(ctx, at("source"), `a tags rule selects the tags itself: name the repository only (source: "${repository}"), without ${reference.digest !== undefined ? "a digest" : "a tag"}`))
  }
  if (tag !== undefined) problems.push(problemAt(ctx, at("tag"), "tag cannot be combined with tags: each selected tag is synced to the same tag in the target", true))
  const raw = entry.tags
  const spec: TagRuleSpec = {
    semver: optionalString(raw.semver),
    match: optionalString(raw.match),
    exclude: optionalString(raw.exclude),
    latest: typeof raw.latest === "number" ? raw.latest : undefined,
    prerelease: typeof raw.prerelease === "boolean" ? raw.prerelease : undefined
  }
  for (const p of ruleProblems(spec)) problems.push(p.key === undefined ? problemAt(ctx, at("tags"), p.message, true) : problemAt(ctx, at("tags", p.key), p.message))
  return problems.length === before ? compileRule(spec) : undefined
}

// Checks that need more than types: hosts, references, tags, targets, duplicates.
const semanticProblems = (ctx: Located, prefixes: ReadonlyArray<string> | undefined, prefixFromOverride: boolean): {
  readonly problems: Array<DefinitionProblem>
  readonly computed: Map<number, Computed>
} => {
  const problems: Array<DefinitionProblem> = []
  const computed = new Map<number, Computed>()
  const root = ctx.root

  // Every prefix valid and none twice; a list in the file names its items' positions.
  const fileList = Array.isArray(valueAt(root, ["targetRepoPrefix"]))
  const prefixPath = (i: number): Path => (fileList ? ["targetRepoPrefix", i] : ["targetRepoPrefix"])
  let prefixOk = false
  if (prefixes !== undefined) {
    const before = problems.length
    const seen = new Map<string, number>()
    if (prefixes.length === 0 && !prefixFromOverride) {
      problems.push(problemAt(ctx, ["targetRepoPrefix"], "targetRepoPrefix is an empty list; give at least one prefix"))
    }
    prefixes.forEach((prefix, i) => {
      const parsed = parseTargetPrefix(prefix)
      if (Either.isLeft(parsed)) {
        problems.push(
          prefixFromOverride
            ? { line: 0, column: 0, entry: undefined, message: `${parsed.left.message} (given as an override of the file's targetRepoPrefix)` }
            : problemAt(ctx, prefixPath(i), parsed.left.message)
        )
        return
      }
      const normal = `${parsed.right.registry}/${parsed.right.repositoryPrefix}`
      const earlier = seen.get(normal)
      if (earlier !== undefined) {
        const first = prefixes[earlier]!
        const message = first === prefix
          ? `target prefix "${prefix}" is given twice`
          : `target prefix "${prefix}" is given twice ("${first}" names the same repositories)`
        problems.push(prefixFromOverride ? { line: 0, column: 0, entry: undefined, message: `${message} on the command line` } : problemAt(ctx, prefixPath(i), message))
        return
      }
      seen.set(normal, i)
    })
    prefixOk = problems.length === before && prefixes.length > 0
  }
  const filePlatforms = valueAt(root, ["platforms"]) === undefined ? undefined : platformsAt(ctx, ["platforms"], valueAt(root, ["platforms"]), problems)

  const registries = valueAt(root, ["registries"])
  if (isRecord(registries)) {
    const firstSeen = new Map<string, string>()
    for (const [host, options] of Object.entries(registries)) {
      if (!isValidRegistryHost(host)) {
        problems.push(
          problemAt(ctx, ["registries", host], `"${host}" is not a valid registry host: write host[:port], without scheme or path`, true)
        )
      } else {
        const normal = normaliseHost(host)
        const earlier = firstSeen.get(normal)
        if (earlier !== undefined) {
          problems.push(
            problemAt(
              ctx,
              ["registries", host],
              `"${host}" is the same registry as "${earlier}" (line ${lineOf(ctx, ["registries", earlier])}); merge them`,
              true
            )
          )
        } else {
          firstSeen.set(normal, host)
        }
      }
      if (isRecord(options) && typeof options.mirror === "string" && !isValidRegistryHost(options.mirror)) {
        problems.push(
          problemAt(
            ctx,
            ["registries", host, "mirror"],
            `mirror "${options.mirror}" is not a valid host[:port] (no scheme such as "https://", no path)`
          )
        )
      }
      if (isRecord(options) && (typeof options.clientCert === "string") !== (typeof options.clientKey === "string")) {
        const given = typeof options.clientCert === "string" ? "clientCert" : "clientKey"
        problems.push(problemAt(ctx, ["registries", host, given], `${given} needs ${given === "clientCert" ? "clientKey" : "clientCert"} beside it (a client certificate and its private key)`, true))
      }
      const max = isRecord(options) ? options.maxRequests : undefined
      if (typeof max === "number" && (!Number.isInteger(max) || max < 1 || max > MAX_REQUESTS_PER_HOST)) {
        problems.push(problemAt(ctx, ["registries", host, "maxRequests"], `maxRequests must be a whole number from 1 to ${MAX_REQUESTS_PER_HOST} (got ${max})`))
      }
    }
  }

  problems.push(...cloudProblems(ctx, prefixes))

  const images = valueAt(root, ["images"])
  if (Array.isArray(images)) {
    const targets = new Map<string, number>()
    const ruleTargets = new Map<string, number>()
    images.forEach((entry, index) => {
      if (!isRecord(entry) || typeof entry.source !== "string") return
      const tag = entry.tag
      let tagOk = tag === undefined
      if (typeof tag === "string") {
        tagOk = isValidTag(tag)
        if (!tagOk) {
          problems.push(
            problemAt(
              ctx,
              ["images", index, "tag"],
              `invalid tag "${tag}": up to 128 letters, digits, "_", "." or "-", not starting with "." or "-"`
            )
          )
        }
      }
      const parsed = parseReference(entry.source)
      if (Either.isLeft(parsed)) {
        problems.push(problemAt(ctx, ["images", index, "source"], parsed.left.message))
        return
      }
      const reference = parsed.right
      let platforms: ReadonlyArray<Platform> | undefined
      if (entry.platforms !== undefined) {
        const before = problems.length
        if (entry.amd64Only !== undefined) {
          problems.push(problemAt(ctx, ["images", index, "platforms"], "platforms cannot be combined with amd64Only: list \"linux/amd64\" in platforms instead", true))
        }
        platforms = platformsAt(ctx, ["images", index, "platforms"], entry.platforms, problems)
        if (problems.length > before) return
      } else if (entry.amd64Only === undefined) {
        // The file's default, for entries that say nothing about platforms.
        platforms = filePlatforms
      }
      /** The entry's target under every prefix (`tag` undefined: the source's). */
      const targetsFor = (targetTag: string | undefined): ReadonlyArray<TargetReference> | undefined => {
        const all: Array<TargetReference> = []
        for (const prefix of prefixes ?? []) {
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
        const rule = ruleOf(ctx, index, entry, reference, tag, problems)
        if (rule === undefined || !prefixOk) return
        // The target repositories; each selected tag becomes the target tag ("latest" holds the place).
        const targets = targetsFor(undefined)
        if (targets === undefined) return
        for (const target of targets) {
          const repository = `${target.registry}/${target.repository}`
          const earlier = ruleTargets.get(repository)
          if (earlier !== undefined) {
            problems.push(problemAt(ctx, ["images", index, "tags"], `another tags rule (images[${earlier}], line ${lineOf(ctx, ["images", earlier])}) already selects tags of ${repository}; merge the two rules`, true))
            return
          }
        }
        for (const target of targets) ruleTargets.set(`${target.registry}/${target.repository}`, index)
        computed.set(index, { reference, targets, tags: rule, platforms })
        return
      }
      if (reference.tag === undefined && tag === undefined) {
        problems.push(
          problemAt(
            ctx,
            ["images", index, "source"],
            "source is pinned by digest only; add a \"tag\" for the target (e.g. tag: \"1.36.1\")"
          )
        )
        return
      }
      if (!tagOk || !prefixOk) return
      const entryTargets = targetsFor(tag as string | undefined)
      if (entryTargets === undefined) return
      for (const target of entryTargets) {
        const name = formatTarget(target)
        const earlier = targets.get(name)
        if (earlier === undefined) continue
        const earlierSource = valueAt(root, ["images", earlier, "source"])
        problems.push(
          problemAt(
            ctx,
            ["images", index],
            `maps to the same target "${name}" as images[${earlier}] (${String(earlierSource)}): lines ${lineOf(ctx, ["images", earlier])} and ${lineOf(ctx, ["images", index])}`
          )
        )
        return
      }
      for (const target of entryTargets) targets.set(formatTarget(target), index)
      computed.set(index, { reference, targets: entryTargets, tags: undefined, platforms })
    })
  }
  return { problems, computed }
}

const kindOf = (node: unknown): string =>
  isSeq(node) ? "a list" : isScalar(node) ? (typeof node.value === "string" ? "a string" : `${String(node.value)}`) : "not a mapping"

const sortProblems = (problems: ReadonlyArray<DefinitionProblem>): Array<DefinitionProblem> =>
  problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.line - b.p.line || a.p.column - b.p.column || a.i - b.i)
    .map(({ p }) => p)

/** Parse + validate text; all problems collected (not just the first). */
export const parseDefinition = (
  file: string,
  text: string,
  options?: { readonly targetRepoPrefix?: string | ReadonlyArray<string> | undefined }
): Either.Either<Definition, DefinitionError> => {
  const fail = (problems: ReadonlyArray<DefinitionProblem>) =>
    Either.left(new DefinitionError({ file, problems: sortProblems(problems) }))
  // An empty override (e.g. an unset-but-exported env variable) means "no override".
  const given = options?.targetRepoPrefix
  const overrides = (typeof given === "string" ? [given] : given ?? []).filter((p) => p !== "")
  const override = overrides.length === 0 ? undefined : overrides

  const lineCounter = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false })
  const problems: Array<DefinitionProblem> = []
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset)
    return { line, column: col }
  }
  for (const doc of docs) {
    for (const error of doc.errors) {
      problems.push({ ...at(error.pos[0]), entry: undefined, message: `invalid YAML: ${error.message}` })
    }
  }
  if (docs.length > 1) {
    problems.push({
      ...at(docs[1]!.range[0]),
      entry: undefined,
      message: `the file holds ${docs.length} YAML documents; it must hold exactly one (remove the "---" separator)`
    })
  }
  if (problems.length > 0) return fail(problems)

  const doc = docs[0]
  if (doc === undefined || doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return fail([{ line: 1, column: 1, entry: undefined, message: "the file is empty; it needs targetRepoPrefix and images" }])
  }
  if (!isMap(doc.contents)) {
    const { line, column } = at(offsetOf(doc.contents) ?? 0)
    return fail([
      {
        line,
        column,
        entry: undefined,
        message: `the file must be a mapping with targetRepoPrefix and images (got ${kindOf(doc.contents)})`
      }
    ])
  }
  let root: unknown
  try {
    root = doc.toJS()
  } catch (e) {
    // e.g. too many aliases ("billion laughs")
    return fail([{ line: 1, column: 1, entry: undefined, message: `invalid YAML: ${e instanceof Error ? e.message : String(e)}` }])
  }
  const ctx: Located = { doc, lineCounter, root }

  // The override stands in for a missing targetRepoPrefix, so the file may omit it.
  const input = override !== undefined && isRecord(root) && !("targetRepoPrefix" in root)
    ? { ...root, targetRepoPrefix: override[0] }
    : root
  const decoded = decodeFile(input)
  if (Either.isLeft(decoded)) problems.push(...schemaProblems(ctx, decoded.left.issue))

  const filePrefix = valueAt(root, ["targetRepoPrefix"])
  const filePrefixes = typeof filePrefix === "string"
    ? [filePrefix]
    : Array.isArray(filePrefix) && filePrefix.every((p) => typeof p === "string")
    ? (filePrefix as Array<string>)
    : undefined
  const prefixes = override ?? filePrefixes
  const semantic = semanticProblems(ctx, prefixes, override !== undefined)
  problems.push(...semantic.problems)

  if (problems.length > 0) return fail(problems)
  if (Either.isLeft(decoded) || prefixes === undefined || prefixes.length === 0) {
    // Unreachable in practice: every schema issue above becomes a problem.
    return fail([{ line: 1, column: 1, entry: undefined, message: "the file does not match the definition schema" }])
  }

  const value = decoded.right
  const registries = new Map<string, RegistryOptions>()
  const tlsFiles = new Map<string, TlsFiles>()
  for (const [host, opts] of Object.entries(value.registries ?? {})) {
    registries.set(normaliseHost(host), {
      mirror: opts.mirror?.toLowerCase(),
      insecure: opts.insecure ?? false,
      ...(opts.maxRequests !== undefined ? { maxRequests: opts.maxRequests } : {}),
      ...cloudOptionsOf(opts)
    })
    // Read when the file is loaded (Load.ts): parsing touches no file but the definition.
    const file = (key: "ca" | "clientCert" | "clientKey") => {
      const path = opts[key]
      return path === undefined ? {} : { [key]: { path, ...positionOf(ctx, ["registries", host, key]) } }
    }
    const files = { ...file("ca"), ...file("clientCert"), ...file("clientKey") }
    if (Object.keys(files).length > 0) tlsFiles.set(normaliseHost(host), files)
  }
  const images: Array<ImageEntry> = []
  for (const [index, entry] of value.images.entries()) {
    const done = semantic.computed.get(index)
    if (done === undefined) return fail([problemAt(ctx, ["images", index], "internal error: entry was not validated")])
    images.push({
      index,
      ...positionOf(ctx, ["images", index]),
      source: entry.source,
      tag: entry.tag,
      amd64Only: entry.amd64Only ?? false,
      platforms: done.platforms,
      reference: done.reference,
      target: done.targets[0]!,
      targets: done.targets,
      tags: done.tags
    })
  }
  return Either.right({
    file,
    targetRepoPrefix: prefixes[0]!,
    targetRepoPrefixes: prefixes,
    registries,
    tlsFiles,
    ...(value.createRepositories !== undefined ? { createRepositories: value.createRepositories } : {}),
    images
  })
}
