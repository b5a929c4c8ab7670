/**
 * image-syncer's OCI registry client, usable on its own (`image-syncer/oci`): manifests and
 * blobs read and verified, uploads every registry takes (whole, or PATCH chunks where a
 * registry wants them), mounts, tag lists and referrers, over an HTTP stack with Basic and
 * Bearer auth, redirects that keep credentials home, retries with backoff, per-host limits and
 * per-registry TLS. Registry errors are data: `RegistryError` carries the status and the
 * distribution error codes. See docs/oci-client.md.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { clientLayer, imageAt, RegistryClient } from "image-syncer/oci"
 *
 * const digest = Effect.flatMap(RegistryClient, (client) => client.headManifest(imageAt("ghcr.io/org/app:1.0")))
 * Effect.runPromise(digest.pipe(Effect.provide(clientLayer({ access: "pull" }))))
 * ```
 */
import { Either, Layer } from "effect"
import type { Endpoint, ImageLocation, RegistryOptions } from "../model/Location.ts"
import { endpointFor } from "../model/Location.ts"
import { parseReference } from "../model/Reference.ts"
import type { RetrySettings } from "./http/RetryPolicy.ts"
import { Keychain } from "./Keychain.ts"
import { RegistryClient } from "./RegistryClient.ts"
import type { Access } from "./RegistryClient.ts"
import { defaultRegistryHttpSettings, RegistryHttp } from "./RegistryHttp.ts"
import type { RegistryHttpSettings } from "./RegistryHttp.ts"

/** The client, its service and settings. */
export { makeRegistryClient, RegistryClient } from "./RegistryClient.ts"
export type { Access, RegistryClientSettings, RegistryClientShape } from "./RegistryClient.ts"
/** The HTTP stack under it. */
export { defaultRegistryHttpSettings, RegistryHttp, StaleCredentials } from "./RegistryHttp.ts"
export type { RegistryHttpSettings, RegistryRequest } from "./RegistryHttp.ts"
/** Credentials: where the client gets them. */
export { CredentialsFailed, Keychain } from "./Keychain.ts"
export type { Credential, KeychainShape } from "./Keychain.ts"
/** Registry errors as data. */
export { hasCode, parseErrorBody, RegistryError } from "./RegistryError.ts"
/** The retry policy. */
export { defaultRetrySettings } from "./http/RetryPolicy.ts"
export type { RetrySettings } from "./http/RetryPolicy.ts"
/** Pull quotas registries announce (Docker Hub), counted per registry. */
export { makePullQuota, PullQuota } from "./http/PullQuota.ts"
/** The errors the client answers with. */
export {
  DigestMismatch,
  ImageNotFound,
  RateLimited,
  RegistryUnavailable,
  RepositoryNotFound,
  ResponseTooLarge,
  TagTaken,
  TransportFailure,
  Unauthorized,
  UnsupportedUrl
} from "../model/Errors.ts"
export type { TransportError } from "../model/Errors.ts"
/** Where an image is, what manifests and blob bodies look like. */
export type { BlobBody, ResumeBudget } from "../model/ImageStore.ts"
export type { Endpoint, ImageLocation, RegistryOptions, TlsMaterial } from "../model/Location.ts"
export type { Descriptor, ManifestDescriptor, RawManifest } from "../model/Manifest.ts"

/**
 * The location of an image reference (Docker's rules: `busybox` is Docker Hub's
 * `library/busybox:latest`); `options` per registry host as the definition file's
 * `registries:` (mirror, insecure, TLS material). Throws on a reference that is not valid.
 */
export const imageAt = (reference: string, options: ReadonlyMap<string, RegistryOptions> = new Map()): ImageLocation => {
  const parsed = parseReference(reference)
  if (Either.isLeft(parsed)) throw parsed.left
  const ref = parsed.right
  // The side only matters to a program that keeps different credentials per side (the sync).
  const endpoint: Endpoint = endpointFor(ref.registry, options, "source")
  return { endpoint, repository: ref.repository, reference: ref.digest ?? ref.tag ?? "latest" }
}

/** Everything a RegistryClient needs: the HTTP stack with its settings, and a Keychain (anonymous unless given). */
export const clientLayer = (options: {
  readonly access?: Access
  readonly readOnly?: boolean
  readonly retry?: RetrySettings
  readonly http?: RegistryHttpSettings
  readonly keychain?: Layer.Layer<Keychain>
} = {}): Layer.Layer<RegistryClient | RegistryHttp> => {
  const http = options.http ?? defaultRegistryHttpSettings
  return RegistryClient.layer({
    readOnly: options.readOnly ?? false,
    retry: options.retry ?? http.retry,
    ...(options.access !== undefined ? { access: options.access } : {})
  }).pipe(Layer.provideMerge(RegistryHttp.layer(http)), Layer.provide(options.keychain ?? Keychain.anonymous))
}
