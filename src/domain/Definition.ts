/**
 * The definition file (images.yaml): its Schema, and a parser that validates the
 * whole file up front and reports every problem with file, line, column and entry.
 */
import { Data, Effect, Either, ParseResult, Schema } from "effect"
import { readTextCapped } from "./ReadCapped.ts"
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from "yaml"
import type { Document, Node, Pair } from "yaml"
import { DOCKER_HUB, isDockerHub, isValidRegistryHost, isValidTag, parseReference } from "./Reference.ts"
import type { ImageReference } from "./Reference.ts"
import { formatTarget, parseTargetPrefix, targetFor } from "./Target.ts"
import type { TargetReference } from "./Target.ts"

/** One `images[]` entry, validated, with where it stands in the file. */
export interface ImageEntry {
  readonly index: number
  readonly line: number
  readonly column: number
  readonly source: string
  readonly tag: string | undefined
  readonly amd64Only: boolean
  readonly reference: ImageReference
  readonly target: TargetReference
}

/** Per-registry options from `registries:` */
export interface RegistryOptions {
  readonly mirror: string | undefined
  readonly insecure: boolean
}

/** A validated definition file. */
export interface Definition {
  readonly file: string
  readonly targetRepoPrefix: string
  readonly registries: ReadonlyMap<string, RegistryOptions>
  readonly images: ReadonlyArray<ImageEntry>
}

/** One problem found in the file. */
export interface DefinitionProblem {
  readonly line: number
  readonly column: number
  readonly entry: string | undefined
  readonly message: string
}

/** Formats one problem as `file:line:col: entry: message`; line 0 means "not a position in the file". */
export const formatProblem = (file: string, problem: DefinitionProblem): string => {
  const entry = problem.entry === undefined ? "" : `${problem.entry}: `
  return problem.line === 0
    ? `${entry}${problem.message}`
    : `${file}:${problem.line}:${problem.column}: ${entry}${problem.message}`
}

/** An invalid or unreadable definition file, with every problem found. */
export class DefinitionError extends Data.TaggedError("DefinitionError")<{
  readonly file: string
  readonly problems: ReadonlyArray<DefinitionProblem>
}> {
  override get message(): string {
    return this.problems.map((p) => formatProblem(this.file, p)).join("\n")
  }
}

const RegistryOptionsSchema = Schema.Struct({
  mirror: Schema.optional(
    Schema.String.annotations({
      description:
        "Read this registry's images from this host[:port] instead. Changes only where bytes come from, never the image's identity or target path."
    })
  ),
  insecure: Schema.optional(
    Schema.Boolean.annotations({
      description: "Allow plain HTTP / unverified TLS for this host. Loopback hosts never need it."
    })
  )
}).annotations({ identifier: "RegistryOptions", description: "Options for one source or target registry host." })

const ImageEntrySchema = Schema.Struct({
  source: Schema.String.annotations({
    description: "Source image reference (Docker rules): \"busybox\", \"gcr.io/distroless/static:nonroot\", \"name@sha256:…\"."
  }),
  tag: Schema.optional(
    Schema.String.annotations({
      description: "Target tag; required when source is pinned by digest. Defaults to the source tag."
    })
  ),
  amd64Only: Schema.optional(
    Schema.Boolean.annotations({
      description: "The source is a single-platform linux/amd64 image rather than a multi-platform index."
    })
  )
}).annotations({ identifier: "ImageEntry", description: "One image to sync." })

/** The effect/Schema of the file (also used later to generate a JSON Schema — so keep it a plain Schema.Struct with annotations/descriptions, no transforms that break JSONSchema.make). */
export const DefinitionFileSchema = Schema.Struct({
  targetRepoPrefix: Schema.String.annotations({
    description:
      "Where images go: registry host plus repository prefix, ending with \"/\" (e.g. \"eu.gcr.io/kyma-project/external/\"). Required unless given on the command line."
  }),
  registries: Schema.optional(
    Schema.Record({ key: Schema.String, value: RegistryOptionsSchema }).annotations({
      description: "Per-registry options, keyed by host[:port] (docker.io for Docker Hub)."
    })
  ),
  images: Schema.NonEmptyArray(ImageEntrySchema).annotations({ description: "The images to sync; at least one." })
}).annotations({
  identifier: "DefinitionFile",
  title: "image-syncer definition file",
  description: "The list of images to copy into the target registry."
})

/** The decoded (but not yet semantically checked) shape of the file. */
export type DefinitionFile = typeof DefinitionFileSchema.Type

const decodeFile = Schema.decodeUnknownEither(DefinitionFileSchema, { onExcessProperty: "error", errors: "all" })

const rootKeys = ["targetRepoPrefix", "registries", "images"] as const
const entryKeys = ["source", "tag", "amd64Only"] as const
const registryKeys = ["mirror", "insecure"] as const

const levenshtein = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]!
}

/** The closest allowed key: a case-insensitive match, else one within edit distance 2. */
export const didYouMean = (key: string, allowed: ReadonlyArray<string>): string | undefined => {
  const folded = allowed.find((k) => k.toLowerCase() === key.toLowerCase())
  if (folded !== undefined) return folded
  let best: string | undefined
  let bestDistance = 3
  for (const k of allowed) {
    const d = levenshtein(key.toLowerCase(), k.toLowerCase())
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return best
}

type Path = ReadonlyArray<PropertyKey>

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const keyString = (key: unknown): string => (isScalar(key) ? String(key.value) : String(key))

// Finds a map's pair by the key as toJS() would write it (so `5000:` matches "5000").
const findPair = (node: unknown, key: PropertyKey): Pair | undefined =>
  isMap(node) ? (node.items as Array<Pair>).find((p) => keyString(p.key) === String(key)) : undefined

const childNode = (node: unknown, key: PropertyKey): unknown => {
  if (isSeq(node) && typeof key === "number") return node.items[key]
  return findPair(node, key)?.value ?? undefined
}

/** Everything needed to turn a path into a position and an entry label. */
interface Located {
  readonly doc: Document.Parsed
  readonly lineCounter: LineCounter
  readonly root: unknown
}

const nodeAt = (ctx: Located, path: Path): unknown =>
  path.reduce<unknown>((node, key) => (node === undefined ? undefined : childNode(node, key)), ctx.doc.contents)

const keyNodeAt = (ctx: Located, path: Path): unknown =>
  path.length === 0 ? undefined : findPair(nodeAt(ctx, path.slice(0, -1)), path[path.length - 1]!)?.key

const valueAt = (root: unknown, path: Path): unknown =>
  path.reduce<unknown>((v, key) => {
    if (Array.isArray(v) && typeof key === "number") return v[key]
    return isRecord(v) ? v[String(key)] : undefined
  }, root)

const offsetOf = (node: unknown): number | undefined => {
  const range = (node as Node | undefined)?.range
  return Array.isArray(range) ? range[0] : undefined
}

// The nearest position: the node itself, else its key, else the closest ancestor.
const positionOf = (ctx: Located, path: Path, preferKey = false): { readonly line: number; readonly column: number } => {
  const candidates: Array<unknown> = preferKey
    ? [keyNodeAt(ctx, path), nodeAt(ctx, path)]
    : [nodeAt(ctx, path), keyNodeAt(ctx, path)]
  for (let n = path.length - 1; n >= 0; n--) candidates.push(nodeAt(ctx, path.slice(0, n)))
  for (const c of candidates) {
    // An absent value (`tag:`) has an empty range after the colon; its key is the better place.
    if (isScalar(c) && c.value === null && c.source === "") continue
    const offset = offsetOf(c)
    if (offset !== undefined) {
      const { line, col } = ctx.lineCounter.linePos(offset)
      return { line, column: col }
    }
  }
  return { line: 1, column: 1 }
}

const entryLabel = (root: unknown, path: Path): string | undefined => {
  if (path[0] === "images" && typeof path[1] === "number") {
    const source = valueAt(root, ["images", path[1], "source"])
    return typeof source === "string" ? `images[${path[1]}] (${source})` : `images[${path[1]}]`
  }
  if (path[0] === "registries" && path.length >= 2) return `registries[${JSON.stringify(String(path[1]))}]`
  return undefined
}

const problemAt = (ctx: Located, path: Path, message: string, preferKey = false): DefinitionProblem => ({
  ...positionOf(ctx, path, preferKey),
  entry: entryLabel(ctx.root, path),
  message
})

// How a wrong value is shown: numbers as written (YAML turns 1.30 into 1.3).
const describeValue = (ctx: Located, path: Path, value: unknown): string => {
  const node = nodeAt(ctx, path)
  if (value === null || value === undefined) return "nothing"
  if (Array.isArray(value)) return "a list"
  if (isRecord(value)) return "a mapping"
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`
  const written = isScalar(node) && typeof node.source === "string" ? node.source : String(value)
  return `${typeof value === "number" ? "the number" : typeof value} ${written}`
}

const writtenText = (ctx: Located, path: Path, value: unknown): string => {
  const node = nodeAt(ctx, path)
  return isScalar(node) && typeof node.source === "string" && node.source.length > 0 ? node.source : String(value)
}

const allowedKeysFor = (path: Path): ReadonlyArray<string> | undefined => {
  if (path.length === 1) return rootKeys
  if (path.length === 3 && path[0] === "images") return entryKeys
  if (path.length === 3 && path[0] === "registries") return registryKeys
  return undefined
}

const quoteList = (keys: ReadonlyArray<string>): string => keys.map((k) => `"${k}"`).join(", ")

const typeMessage = (ctx: Located, path: Path, fallback: string): string => {
  const value = valueAt(ctx.root, path)
  const got = `(got ${describeValue(ctx, path, value)})`
  const last = path[path.length - 1]
  if (path.length === 1 && last === "targetRepoPrefix") return `targetRepoPrefix must be a string ${got}`
  if (path.length === 1 && last === "images") {
    return value === null
      ? "images has no entries; list at least one image (- source: \"busybox:1.36\")"
      : `images must be a list of entries like "- source: busybox:1.36" ${got}`
  }
  if (path.length === 1 && last === "registries") return `registries must be a mapping of registry host to options ${got}`
  if (path.length === 2 && path[0] === "images") {
    return typeof value === "string"
      ? `each images entry must be a mapping; write "- source: ${value}" (got a plain string)`
      : `each images entry must be a mapping with a "source" key ${got}`
  }
  if (path.length === 2 && path[0] === "registries") {
    return `registry options must be a mapping with "mirror" and/or "insecure" ${got}`
  }
  if (path.length === 3) {
    if (last === "source") return `source must be a string ${got}`
    if (last === "tag") {
      return typeof value === "number" || typeof value === "boolean"
        ? `tag must be a string (quote it: tag: "${writtenText(ctx, path, value)}")`
        : `tag must be a string ${got}`
    }
    if (last === "amd64Only" || last === "insecure") return `${String(last)} must be true or false ${got}`
    if (last === "mirror") return `mirror must be a string host[:port] ${got}`
  }
  return `${path.map(String).join(".")}: ${fallback}`
}

const schemaProblems = (ctx: Located, issue: ParseResult.ParseIssue): Array<DefinitionProblem> => {
  const issues = ParseResult.ArrayFormatter.formatIssueSync(issue)
  const seen = new Set<string>()
  const problems: Array<DefinitionProblem> = []
  // A misspelt key already says which key is meant; don't also report that key as missing.
  const suggested = new Set<string>()
  for (const i of issues) {
    if (i._tag !== "Unexpected") continue
    const allowed = allowedKeysFor(i.path)
    const hint = allowed === undefined ? undefined : didYouMean(String(i.path[i.path.length - 1]), allowed)
    if (hint !== undefined) suggested.add(JSON.stringify([...i.path.slice(0, -1).map(String), hint]))
  }
  // Schema.optional also reports "Expected undefined" for the whole optional value when
  // something inside it is wrong: the inner issue is the useful one.
  const hasDeeperIssue = (path: Path) =>
    issues.some((o) => o.path.length > path.length && path.every((k, n) => String(k) === String(o.path[n])))
  for (const i of issues) {
    // Schema.optional reports each bad value twice (also "Expected undefined"): keep the first.
    const key = JSON.stringify([i._tag, ...i.path.map(String)])
    if (seen.has(key)) continue
    seen.add(key)
    const path = i.path
    if (i._tag === "Type" && hasDeeperIssue(path)) continue
    const last = path[path.length - 1]
    if (i._tag === "Unexpected") {
      const allowed = allowedKeysFor(path)
      const hint = allowed === undefined ? undefined : didYouMean(String(last), allowed)
      const tail =
        hint !== undefined
          ? ` (did you mean "${hint}"?)`
          : allowed !== undefined
            ? ` (allowed keys: ${quoteList(allowed)})`
            : ""
      problems.push(problemAt(ctx, path, `unknown key "${String(last)}"${tail}`, true))
    } else if (i._tag === "Missing") {
      if (suggested.has(JSON.stringify(path.map(String)))) continue
      if (path.length === 1 && last === "targetRepoPrefix") {
        problems.push(
          problemAt(ctx, [], "missing required key \"targetRepoPrefix\" (e.g. targetRepoPrefix: \"eu.gcr.io/my-project/external/\")")
        )
      } else if (path.length === 1 && last === "images") {
        problems.push(problemAt(ctx, [], "missing required key \"images\" (a list of entries like \"- source: busybox:1.36\")"))
      } else if (path.length === 2 && path[0] === "images" && Array.isArray(valueAt(ctx.root, ["images"]))) {
        problems.push(problemAt(ctx, ["images"], "images is empty; list at least one image"))
      } else {
        problems.push(problemAt(ctx, path.slice(0, -1), `missing required key "${String(last)}"`))
      }
    } else {
      problems.push(problemAt(ctx, path, typeMessage(ctx, path, i.message)))
    }
  }
  return problems
}

const normaliseHost = (host: string): string => (isDockerHub(host) ? DOCKER_HUB : host.toLowerCase())

const lineOf = (ctx: Located, path: Path): number => positionOf(ctx, path, true).line

// Checks that need more than types: hosts, references, tags, targets, duplicates.
const semanticProblems = (ctx: Located, prefix: string | undefined, prefixFromOverride: boolean): {
  readonly problems: Array<DefinitionProblem>
  readonly computed: Map<number, { readonly reference: ImageReference; readonly target: TargetReference }>
} => {
  const problems: Array<DefinitionProblem> = []
  const computed = new Map<number, { readonly reference: ImageReference; readonly target: TargetReference }>()
  const root = ctx.root

  let prefixOk = false
  if (prefix !== undefined) {
    const parsed = parseTargetPrefix(prefix)
    if (Either.isLeft(parsed)) {
      problems.push(
        prefixFromOverride
          ? { line: 0, column: 0, entry: undefined, message: `${parsed.left.message} (given as an override of the file's targetRepoPrefix)` }
          : problemAt(ctx, ["targetRepoPrefix"], parsed.left.message)
      )
    } else {
      prefixOk = true
    }
  }

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
    }
  }

  const images = valueAt(root, ["images"])
  if (Array.isArray(images)) {
    const targets = new Map<string, number>()
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
      if (!tagOk || !prefixOk || prefix === undefined) return
      const target = targetFor(prefix, reference, tag as string | undefined)
      if (Either.isLeft(target)) {
        problems.push(problemAt(ctx, ["images", index, "source"], target.left.message))
        return
      }
      const name = formatTarget(target.right)
      const earlier = targets.get(name)
      if (earlier !== undefined) {
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
      targets.set(name, index)
      computed.set(index, { reference, target: target.right })
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
  options?: { readonly targetRepoPrefix?: string | undefined }
): Either.Either<Definition, DefinitionError> => {
  const fail = (problems: ReadonlyArray<DefinitionProblem>) =>
    Either.left(new DefinitionError({ file, problems: sortProblems(problems) }))
  // An empty override (e.g. an unset-but-exported env variable) means "no override".
  const override = options?.targetRepoPrefix === undefined || options.targetRepoPrefix === "" ? undefined : options.targetRepoPrefix

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
    ? { ...root, targetRepoPrefix: override }
    : root
  const decoded = decodeFile(input)
  if (Either.isLeft(decoded)) problems.push(...schemaProblems(ctx, decoded.left.issue))

  const filePrefix = valueAt(root, ["targetRepoPrefix"])
  const prefix = override ?? (typeof filePrefix === "string" ? filePrefix : undefined)
  const semantic = semanticProblems(ctx, prefix, override !== undefined)
  problems.push(...semantic.problems)

  if (problems.length > 0) return fail(problems)
  if (Either.isLeft(decoded) || prefix === undefined) {
    // Unreachable in practice: every schema issue above becomes a problem.
    return fail([{ line: 1, column: 1, entry: undefined, message: "the file does not match the definition schema" }])
  }

  const value = decoded.right
  const registries = new Map<string, RegistryOptions>()
  for (const [host, opts] of Object.entries(value.registries ?? {})) {
    registries.set(normaliseHost(host), { mirror: opts.mirror?.toLowerCase(), insecure: opts.insecure ?? false })
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
      reference: done.reference,
      target: done.target
    })
  }
  return Either.right({ file, targetRepoPrefix: prefix, registries, images })
}

const readProblem = (file: string, error: unknown): DefinitionProblem => {
  const code = (error as { readonly code?: unknown } | undefined)?.code
  const reason =
    code === "ENOENT"
      ? "no such file"
      : code === "EISDIR"
        ? "it is a directory"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : code === "ETOOBIG"
          ? "larger than 4 MiB; a definition file is a short YAML list"
          : error instanceof Error
            ? error.message
            : String(error)
  return { line: 0, column: 0, entry: undefined, message: `cannot read images file "${file}": ${reason}` }
}

/** Read a file (missing/unreadable/directory → DefinitionError with line 0 and a clear message like `cannot read images file "x.yaml": no such file`) then parseDefinition. */
export const loadDefinition = (
  file: string,
  options?: { readonly targetRepoPrefix?: string | undefined }
): Effect.Effect<Definition, DefinitionError> =>
  Effect.tryPromise({
    try: () => readTextCapped(file),
    catch: (error) => new DefinitionError({ file, problems: [readProblem(file, error)] })
  }).pipe(Effect.flatMap((text) => parseDefinition(file, text, options)))
