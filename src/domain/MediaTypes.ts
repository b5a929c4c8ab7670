/** Manifest media types and what we need to read from manifests (never re-serialised). */

/** OCI image index. */
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json"
/** OCI image manifest. */
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
/** Docker manifest list. */
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
/** Docker schema 2 manifest. */
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
/** Docker schema 1 (rejected with a clear error). */
export const DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
/** Docker schema 1, signed. */
export const DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

/** The Accept header sent on every manifest HEAD and GET: a narrow one gets a different document. */
export const MANIFEST_ACCEPT = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST, DOCKER_SCHEMA1_SIGNED, DOCKER_SCHEMA1]
  .join(", ")

/** True for multi-platform indexes / manifest lists. */
export const isIndex = (mediaType: string): boolean => mediaType === OCI_INDEX || mediaType === DOCKER_LIST

/** True for single-image manifests. */
export const isImageManifest = (mediaType: string): boolean =>
  mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST

/** True for the legacy schema 1 formats, which we refuse. */
export const isSchema1 = (mediaType: string): boolean =>
  mediaType === DOCKER_SCHEMA1 || mediaType === DOCKER_SCHEMA1_SIGNED

/** A content descriptor, as found in manifests. */
export interface Descriptor {
  readonly mediaType: string
  readonly digest: string
  readonly size: number
  readonly urls?: ReadonlyArray<string>
  readonly platform?: Platform
  readonly annotations?: Readonly<Record<string, string>>
}

/** A platform as in index entries and image configs. */
export interface Platform {
  readonly os: string
  readonly architecture: string
  readonly variant?: string
}

/** "linux/arm64/v8" */
export const formatPlatform = (p: Platform): string =>
  `${p.os || "unknown"}/${p.architecture || "unknown"}${p.variant ? `/${p.variant}` : ""}`

/** What a manifest references, read from its exact bytes. */
export interface ParsedManifest {
  readonly mediaType: string
  /** index children (empty for an image manifest) */
  readonly manifests: ReadonlyArray<Descriptor>
  /** config blob (image manifests only) */
  readonly config: Descriptor | undefined
  /** layer blobs (image manifests only) */
  readonly layers: ReadonlyArray<Descriptor>
  readonly subject: Descriptor | undefined
}

const decoder = new TextDecoder()

/** Reads the references out of manifest bytes; `fallbackMediaType` is the response Content-Type. */
export const parseManifest = (bytes: Uint8Array, fallbackMediaType: string): ParsedManifest => {
  const json = JSON.parse(decoder.decode(bytes)) as {
    mediaType?: string
    manifests?: Array<Descriptor>
    config?: Descriptor
    layers?: Array<Descriptor>
    subject?: Descriptor
  }
  const mediaType = json.mediaType ?? fallbackMediaType
  return {
    mediaType,
    manifests: json.manifests ?? [],
    config: json.config,
    layers: json.layers ?? [],
    subject: json.subject
  }
}

/** Non-distributable ("foreign") layers carry `urls` and are not copied between registries. */
export const isDistributable = (d: Descriptor): boolean =>
  !d.mediaType.includes("foreign") && !d.mediaType.includes("nondistributable")

/** Every blob an image manifest needs in the target (config first, then distributable layers). */
export const blobsOf = (m: ParsedManifest): ReadonlyArray<Descriptor> => [
  ...(m.config ? [m.config] : []),
  ...m.layers.filter(isDistributable)
]
