/**
 * Where an image is: which registry, contacted at which host and how (mirrors, plain HTTP for
 * loopback or `insecure` hosts), which repository and tag or digest, on which side of the sync.
 */
import type { CloudOptions } from "./Cloud.ts"
import { isDigestReference } from "./Digest.ts"
import { isDockerHub, isLoopbackHost } from "./Reference.ts"

/** Which side of the sync a registry is on; credentials and token scopes depend on it. */
export type Role = "source" | "target"

/** TLS material for one registry host, as PEM text: CAs trusted beside the system's, a client certificate and key (mutual TLS). */
export interface TlsMaterial {
  readonly ca?: string
  readonly cert?: string
  readonly key?: string
}

/** Per-registry options from the definition's `registries:` (with the cloud ones: `cloud`, `region`, `registryId`, `createRepositories`, `tagMutability`). */
export interface RegistryOptions extends CloudOptions {
  readonly mirror: string | undefined
  readonly insecure: boolean
  /** at most this many requests in flight to the host (else the client's default) */
  readonly maxRequests?: number
  /** the host's own CAs and client certificate (`ca`, `clientCert`/`clientKey`, or a certs.d directory) */
  readonly tls?: TlsMaterial
}

/** The highest `maxRequests` a registry may be given (as `--concurrency`). */
export const MAX_REQUESTS_PER_HOST = 256

/** Requests in flight to one host when the definition does not say (`maxRequests`). */
export const DEFAULT_REQUESTS_PER_HOST = 32

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
  /** the host's own request limit (`maxRequests` of the host contacted), if the definition sets one */
  readonly maxRequests?: number
  /** TLS material for the host contacted, if any */
  readonly tls?: TlsMaterial
}

/** One image (or repository) at an endpoint. */
export interface ImageLocation {
  readonly endpoint: Endpoint
  readonly repository: string
  /** a tag or a "sha256:…" digest */
  readonly reference: string
}

/** Docker Hub's API host (the identity "docker.io" has no registry API of its own). */
export const DOCKER_HUB_API = "registry-1.docker.io"

/** The endpoint for `registry` on one side; a mirror changes only where bytes are read from. */
export const endpointFor = (
  registry: string,
  registries: ReadonlyMap<string, RegistryOptions>,
  role: Role
): Endpoint => {
  const options = registries.get(registry)
  const mirror = role === "source" ? options?.mirror : undefined
  const host = mirror ?? (isDockerHub(registry) ? DOCKER_HUB_API : registry)
  const hostOptions = mirror ? registries.get(mirror) : undefined
  const insecure = (options?.insecure ?? false) || (hostOptions?.insecure ?? false)
  // Plain HTTP only for loopback (no configuration needed) or hosts marked insecure.
  const scheme = isLoopbackHost(host) || insecure ? "http" : "https"
  // The limit and TLS material belong to the host contacted: a mirror's own options, else the registry's.
  const own = mirror ? hostOptions : options
  const maxRequests = own?.maxRequests
  const tls = own?.tls
  return { registry, host, scheme, skipTlsVerify: insecure, role, ...(maxRequests !== undefined ? { maxRequests } : {}), ...(tls !== undefined ? { tls } : {}) }
}

/** A location for another reference in the same repository. */
export const withReference = (image: ImageLocation, reference: string): ImageLocation => ({ ...image, reference })

/** "host/repository:tag" or "host/repository@sha256:…" for messages. */
export const describeLocation = (image: ImageLocation): string =>
  `${image.endpoint.host}/${image.repository}${isDigestReference(image.reference) ? "@" : ":"}${image.reference}`
