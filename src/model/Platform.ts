/**
 * Platforms (`os/arch[/variant]`) and the rule for what an entry may copy: a multi-platform
 * index whole; a single-platform manifest only with `amd64Only: true` and a linux/amd64
 * config. Resolve and export both apply it, from here.
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
export const formatPlatform = (p: Platform): string =>
  `${p.os || "unknown"}/${p.architecture || "unknown"}${p.variant ? `/${p.variant}` : ""}`

/** The platform an image config names ("unknown/unknown" for what is not a readable config). */
export const configPlatform = (config: Uint8Array): string => {
  try {
    const json = JSON.parse(new TextDecoder().decode(config)) as { os?: unknown; architecture?: unknown; variant?: unknown }
    return formatPlatform({
      os: typeof json.os === "string" ? json.os : "",
      architecture: typeof json.architecture === "string" ? json.architecture : "",
      ...(typeof json.variant === "string" && json.variant !== "" ? { variant: json.variant } : {})
    })
  } catch {
    return "unknown/unknown"
  }
}

/** The entry's settings the rule reads. */
export interface PlatformSettings {
  readonly source: string
  readonly amd64Only: boolean
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

/** The rule for a single-platform image whose config says `platform`: undefined when it may be copied. */
export const singlePlatformProblem = (entry: PlatformSettings, platform: string): PlatformMismatch | undefined => {
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
