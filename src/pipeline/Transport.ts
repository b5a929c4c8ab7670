/**
 * The Transport service: how image bytes move between registries. The pipeline's rules
 * (immutability, conflicts, dry run, report, signing) never live here; a transport only
 * answers "what is there" and "copy this".
 */
import { Context, Data } from "effect"
import type { Effect, Option } from "effect"

/** Which side of the sync a registry is on; credentials and token scopes depend on it. */
export type Role = "source" | "target"

/** Where to talk to a registry: the host to contact (after mirrors) and how. */
export interface Endpoint {
  /** the registry's identity, e.g. "docker.io" (never the mirror) */
  readonly registry: string
  /** host[:port] actually contacted, e.g. "registry-1.docker.io" or a mirror */
  readonly host: string
  /** "http" only for loopback hosts or `insecure: true` */
  readonly scheme: "http" | "https"
  /** skip TLS verification (`insecure: true` on an https host) */
  readonly skipTlsVerify: boolean
  readonly role: Role
}

/** One image (or repository) at an endpoint. */
export interface ImageLocation {
  readonly endpoint: Endpoint
  readonly repository: string
  /** a tag or a "sha256:…" digest */
  readonly reference: string
}

/** A manifest's identity without its bytes. */
export interface ManifestDescriptor {
  readonly digest: string
  readonly mediaType: string
  readonly size: number
}

/** A manifest with its exact bytes. */
export interface RawManifest extends ManifestDescriptor {
  readonly bytes: Uint8Array
}

/** What a copy did, for the report and the benchmark. */
export interface CopyResult {
  readonly blobsCopied: number
  readonly blobsMounted: number
  readonly blobsSkipped: number
  readonly bytesCopied: number
  readonly manifestsPut: number
}

/** The image or tag does not exist. */
export class ImageNotFound extends Data.TaggedError("ImageNotFound")<{ readonly image: string }> {
  override get message() {
    return `${this.image} not found`
  }
}

/** The registry refused our credentials (or we had none). */
export class Unauthorized extends Data.TaggedError("Unauthorized")<{
  readonly registry: string
  readonly status: number
  readonly detail: string
}> {
  override get message() {
    return `${this.registry}: access denied (HTTP ${this.status})${this.detail ? `: ${this.detail}` : ""}`
  }
}

/** The registry kept failing (5xx, 429, connection errors) after every retry. */
export class RegistryUnavailable extends Data.TaggedError("RegistryUnavailable")<{
  readonly registry: string
  readonly detail: string
}> {
  override get message() {
    return `${this.registry} unavailable after retries: ${this.detail}`
  }
}

/** Content did not match the digest it was fetched or pinned by. */
export class DigestMismatch extends Data.TaggedError("DigestMismatch")<{
  readonly what: string
  readonly expected: string
  readonly actual: string
}> {
  override get message() {
    return `digest mismatch for ${this.what}: expected ${this.expected}, got ${this.actual}`
  }
}

/** Anything else a transport could not do, with the registry's own words. */
export class TransportFailure extends Data.TaggedError("TransportFailure")<{
  readonly transport: string
  readonly detail: string
}> {
  override get message() {
    return `${this.transport}: ${this.detail}`
  }
}

/** The target tag was written by someone else while we copied (another syncer): a conflict, found late. */
export class TagTaken extends Data.TaggedError("TagTaken")<{
  readonly target: string
  readonly expected: string
  readonly found: string
  /**
   * when it was found: "copy" (before our write, the default), "replaced" (the end-of-run check
   * found our write replaced), "immutable" (the registry refused to overwrite the tag)
   */
  readonly when?: "copy" | "replaced" | "immutable"
}> {
  override get message() {
    switch (this.when) {
      case "replaced":
        return `${this.target} was replaced by another writer after this run wrote it: it now holds ${this.found}, not ${this.expected}`
      case "immutable":
        return `${this.target} is immutable in the registry and holds ${this.found}, not ${this.expected}; the registry refused to overwrite it`
      default:
        return `${this.target} was written by someone else during the copy: it holds ${this.found}, not ${this.expected}; not overwritten`
    }
  }
}

/** A registry pointed us at a URL we never fetch (anything but http: and https:, e.g. a file: redirect). */
export class UnsupportedUrl extends Data.TaggedError("UnsupportedUrl")<{
  readonly registry: string
  /** what pointed there: "redirect of GET /v2/app/manifests/1", "token realm", "upload Location" */
  readonly context: string
  readonly scheme: string
  /** the URL without query or credentials, shortened */
  readonly url: string
}> {
  override get message() {
    return `${this.registry}: refused the ${this.context} to ${this.url}: only http: and https: URLs are fetched, not ${this.scheme}`
  }
}

/** A response body was larger than we accept for its kind (a manifest, a token, a config). */
export class ResponseTooLarge extends Data.TaggedError("ResponseTooLarge")<{
  readonly registry: string
  /** "GET /v2/app/manifests/1" */
  readonly request: string
  /** what the body is: "manifest", "token response", … */
  readonly what: string
  readonly limit: number
  /** the announced length, when the registry sent one */
  readonly announced: number | undefined
}> {
  override get message() {
    const announced = this.announced === undefined ? "" : ` (it announced ${this.announced} bytes)`
    return `${this.registry}: the ${this.what} of ${this.request} is larger than the ${formatLimit(this.limit)} limit${announced}; refused`
  }
}

/** "4 MiB", "1 MiB", "4 KiB". */
export const formatLimit = (bytes: number): string =>
  bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`

/** Every error a transport may return. */
export type TransportError =
  | ImageNotFound
  | Unauthorized
  | RegistryUnavailable
  | DigestMismatch
  | TransportFailure
  | TagTaken
  | UnsupportedUrl
  | ResponseTooLarge

/** The Transport service interface. */
export interface TransportShape {
  readonly name: string
  /** digest, media type and size of the manifest at `image`; None when absent. Uses HEAD where possible. */
  readonly inspect: (image: ImageLocation) => Effect.Effect<Option.Option<ManifestDescriptor>, TransportError>
  /** the exact manifest bytes, verified against their digest */
  readonly manifest: (image: ImageLocation) => Effect.Effect<RawManifest, TransportError>
  /** the config blob of the single-platform manifest at `image` (for the platform check), verified */
  readonly config: (image: ImageLocation) => Effect.Effect<Uint8Array, TransportError>
  /** the OCI 1.1 referrers index of `digest` (None without a referrers API); optional: without it, only the fallback tag is carried */
  readonly referrers?: (image: ImageLocation, digest: string) => Effect.Effect<Option.Option<RawManifest>, TransportError>
  /** copies `manifest` and all it references from `source` to `target`; the tag is written last */
  readonly copy: (
    source: ImageLocation,
    target: ImageLocation,
    manifest: ManifestDescriptor
  ) => Effect.Effect<CopyResult, TransportError>
}

/** The Transport service tag. */
export class Transport extends Context.Tag("syncer/Transport")<Transport, TransportShape>() {}

/** "host/repository:tag" or "host/repository@sha256:…" for messages. */
export const describeLocation = (image: ImageLocation): string =>
  `${image.endpoint.host}/${image.repository}${image.reference.startsWith("sha256:") ? "@" : ":"}${image.reference}`
