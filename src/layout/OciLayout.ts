/**
 * The OCI image layout on disk (image-spec `image-layout.md`): an `oci-layout` marker,
 * `index.json` naming the images, and content-addressed `blobs/<alg>/<hex>`. Shared by the
 * writer (export) and the reader (import): file names, ref names and typed errors.
 */
import { Data } from "effect"
import { join } from "node:path"
import { isDigestReference, isSha256Digest } from "../model/Digest.ts"

/** The marker file's name. */
export const OCI_LAYOUT_FILE = "oci-layout"

/** The marker file's exact content. */
export const OCI_LAYOUT_CONTENT = "{\"imageLayoutVersion\":\"1.0.0\"}"

/** The layout version we read and write. */
export const LAYOUT_VERSION = "1.0.0"

/** The index file's name. */
export const INDEX_FILE = "index.json"

/** The annotation that names an image in index.json (here: the normalised source reference). */
export const REF_NAME = "org.opencontainers.image.ref.name"

/** Our annotation: the entry's `source` as written in the definition file. */
export const SOURCE_ANNOTATION = "io.image-syncer.source"

/** Media type of index.json itself. */
export const LAYOUT_INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"

/** One entry of index.json. */
export interface LayoutDescriptor {
  readonly mediaType: string
  readonly digest: string
  readonly size: number
  readonly annotations?: Readonly<Record<string, string>>
}

/** index.json as we read and write it (unknown fields of foreign layouts are ignored). */
export interface LayoutIndex {
  readonly schemaVersion: 2
  readonly mediaType?: string
  readonly manifests: ReadonlyArray<LayoutDescriptor>
}

/** A layout file could not be read or written (disk full, permissions, not a layout …). */
export class LayoutIoFailed extends Data.TaggedError("LayoutIoFailed")<{ readonly path: string; readonly detail: string }> {
  override get message() {
    return `${this.path}: ${this.detail}`
  }
}

/** `blobs/sha256/<hex>` under the layout directory. */
export const blobPath = (dir: string, digest: string): string => {
  // Only well-formed digests become paths, so a hostile index.json cannot point outside blobs/.
  if (!isSha256Digest(digest)) throw new Error(`not a sha256 digest: ${digest}`)
  return join(dir, "blobs", "sha256", digest.slice("sha256:".length))
}

/** The ref name of a repository plus tag or digest: "docker.io/library/busybox:1.36", "…@sha256:…". */
export const refNameOf = (registry: string, repository: string, reference: string): string =>
  `${registry}/${repository}${isDigestReference(reference) ? "@" : ":"}${reference}`

/** The ref name of an image in index.json, if it has one. */
export const refNameOfDescriptor = (d: LayoutDescriptor): string | undefined => d.annotations?.[REF_NAME]

/** A short readable reason from anything thrown by node:fs. */
export const ioReason = (error: unknown): string => {
  const code = (error as { readonly code?: unknown } | undefined)?.code
  if (code === "ENOENT") return "no such file or directory"
  if (code === "ENOTDIR") return "not a directory"
  if (code === "EISDIR") return "is a directory"
  if (code === "EACCES" || code === "EPERM") return "permission denied"
  if (code === "ENOSPC") return "no space left on device"
  return error instanceof Error ? error.message : String(error)
}

/** Parses index.json text; a reason when it is not a usable image index. */
export const parseLayoutIndex = (text: string): LayoutIndex | string => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return "index.json is not valid JSON"
  }
  const doc = json as { schemaVersion?: unknown; manifests?: unknown }
  if (typeof doc !== "object" || doc === null || doc.schemaVersion !== 2) return "index.json: schemaVersion must be 2"
  if (!Array.isArray(doc.manifests)) return "index.json: \"manifests\" must be a list"
  for (const [i, m] of (doc.manifests as Array<unknown>).entries()) {
    const d = m as Partial<LayoutDescriptor> | null
    if (typeof d !== "object" || d === null) return `index.json: manifests[${i}] is not an object`
    if (typeof d.digest !== "string" || !isSha256Digest(d.digest)) return `index.json: manifests[${i}] has no valid sha256 digest`
    if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0) return `index.json: manifests[${i}] has no valid size`
    if (typeof d.mediaType !== "string") return `index.json: manifests[${i}] has no mediaType`
  }
  return doc as LayoutIndex
}

/** Parses the oci-layout marker; a reason when it is not version 1.0.0. */
export const checkLayoutMarker = (text: string): string | undefined => {
  try {
    const version = (JSON.parse(text) as { imageLayoutVersion?: unknown }).imageLayoutVersion
    return version === LAYOUT_VERSION ? undefined : `unsupported imageLayoutVersion ${JSON.stringify(version)} (expected "${LAYOUT_VERSION}")`
  } catch {
    return "oci-layout is not valid JSON"
  }
}
