/**
 * Platforms (`os/arch[/variant]`) and the rule for what an entry may copy: a multi-platform
 * index (whole, or the children `platforms` lists); a single-platform manifest only with
 * `amd64Only: true` and a linux/amd64 config, or with `platforms` naming its config's
 * platform. Resolve and export both apply it, from here.
 */
import { Either } from "effect"
import { PlatformMismatch } from "./Errors.ts"
import { isImageManifest, isIndex } from "./MediaTypes.ts"

/** A platform as in index entries and image configs. */
export interface Platform {
  readonly os: string
  readonly architecture: string
  readonly variant?: string
}

/** "linux/arm64/v8" */
export const formatPlatform = (p: Platform): string => `${p.os || "unknown"}/${p.architecture || "unknown"}${p.variant ? `/${p.variant}` : ""}`

/** The platform an image config names (empty os and architecture for what is not a readable config). */
export const readConfigPlatform = (config: Uint8Array): Platform => {
  try {
    const json = JSON.parse(new TextDecoder().decode(config)) as { os?: unknown; architecture?: unknown; variant?: unknown }
    return {
      os: typeof json.os === "string" ? json.os : "",
      architecture: typeof json.architecture === "string" ? json.architecture : "",
      ...(typeof json.variant === "string" && json.variant !== "" ? { variant: json.variant } : {})
    }
  } catch {
    return { os: "", architecture: "" }
  }
}

/** The platform an image config names, written out ("unknown/unknown" for what is not a readable config). */
export const configPlatform = (config: Uint8Array): string => formatPlatform(readConfigPlatform(config))

const partRe = /^[a-z0-9][a-z0-9._-]*$/

/** A platform as a definition file writes it ("linux/arm64", "linux/arm/v7"), or why it is not one. */
export const parsePlatform = (text: string): Either.Either<Platform, string> => {
  const parts = text.split("/")
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !partRe.test(p))) {
    return Either.left(`"${text}" is not a platform: write os/architecture[/variant] in lower case, e.g. "linux/amd64" or "linux/arm/v7"`)
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined]
  return Either.right(variant === undefined ? { os, architecture } : { os, architecture, variant })
}

// arm64 without a variant is v8 (as Docker and containerd read it).
const variantOf = (p: Platform): string => p.variant ?? (p.architecture === "arm64" ? "v8" : "")

/**
 * Whether `actual` (an index child's or a config's platform) is one `wanted` asks for: the same
 * os and architecture, and the same variant when `wanted` names one ("linux/arm" takes every
 * arm variant, "linux/arm/v7" only v7; arm64 is v8 unless it says otherwise).
 */
export const platformMatches = (wanted: Platform, actual: Platform | undefined): boolean =>
  actual !== undefined &&
  wanted.os === actual.os &&
  wanted.architecture === actual.architecture &&
  (wanted.variant === undefined || variantOf(wanted) === variantOf(actual))

/** The entry's settings the rule reads. */
export interface PlatformSettings {
  readonly source: string
  readonly amd64Only: boolean
  /** only these platforms (an index's children, or a single-platform config) */
  readonly platforms?: ReadonlyArray<Platform> | undefined
}

/** What the source is, as the rule sees it before any config is read. */
export type SourceShape =
  | { readonly kind: "index"; readonly warnings: ReadonlyArray<string> }
  | { readonly kind: "single" }

/** The rule on the media type alone: an index (with a warning for a needless amd64Only), a single manifest, or neither. */
export const sourceShape = (entry: PlatformSettings, mediaType: string, verb = "copied"): Either.Either<SourceShape, PlatformMismatch> => {
  if (isIndex(mediaType)) {
    return Either.right({
      kind: "index",
      warnings: entry.amd64Only ? [`amd64Only has no effect: the source is a multi-platform index and is ${verb} whole`] : []
    })
  }
  if (isImageManifest(mediaType)) return Either.right({ kind: "single" })
  return Either.left(new PlatformMismatch({ source: entry.source, detail: `unsupported manifest media type ${mediaType || "(none)"}` }))
}

/** The rule for a single-platform image whose config says `config`: undefined when it may be copied. */
export const singlePlatformProblem = (entry: PlatformSettings, config: Platform): PlatformMismatch | undefined => {
  const platform = formatPlatform(config)
  if (entry.platforms !== undefined) {
    if (entry.platforms.some((wanted) => platformMatches(wanted, config))) return undefined
    return new PlatformMismatch({
      source: entry.source,
      detail: `the source is a single-platform ${platform} image, which platforms (${entry.platforms.map(formatPlatform).join(", ")}) does not list`
    })
  }
  if (!entry.amd64Only) {
    return new PlatformMismatch({
      source: entry.source,
      detail: platform === "linux/amd64"
        ? "the source is a single-platform image (linux/amd64), not a multi-platform index; add `amd64Only: true` to this entry to sync it"
        : `the source is a single-platform ${platform} image, not a multi-platform index; only linux/amd64 single-platform images can be synced (with \`amd64Only: true\`)`
    })
  }
  if (platform !== "linux/amd64") {
    return new PlatformMismatch({ source: entry.source, detail: `amd64Only is set but the image is ${platform}, not linux/amd64` })
  }
  return undefined
}
