/**
 * Image references, parsed and normalised the way Docker does it
 * (github.com/distribution/reference): `busybox` is `docker.io/library/busybox:latest`.
 */
import { Data, Either } from "effect"
import { isIPv6 } from "node:net"
import { isSha256Digest } from "./Digest.ts"

/** A parsed, normalised image reference (Docker's rules). */
export interface ImageReference {
  readonly registry: string
  readonly repository: string
  readonly tag: string | undefined
  readonly digest: string | undefined
}

/** A string that is not a valid image reference, with the reason why. */
export class InvalidReference extends Data.TaggedError("InvalidReference")<{
  readonly input: string
  readonly reason: string
}> {
  override get message(): string {
    return `invalid image reference "${this.input}": ${this.reason}`
  }
}

/** The canonical Docker Hub registry name. */
export const DOCKER_HUB = "docker.io"

// Names Docker treats as aliases of Hub; all normalise to "docker.io".
const hubAliases = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"])

// Docker's grammar, anchored. Separator is "." | "_" | "__" | "-"+.
const pathComponentRe = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/
const tagRe = /^[\w][\w.-]{0,127}$/
const domainNameRe = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*$/
const digestRe = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/
const anonymousIdRe = /^[a-f0-9]{64}$/

/** The longest name (host + path) Docker accepts. */
export const NAME_TOTAL_LENGTH_MAX = 255

/** True when `registry` is Docker Hub under any of its names. */
export const isDockerHub = (registry: string): boolean => hubAliases.has(registry.toLowerCase())

/** True for a valid tag: up to 128 of `[A-Za-z0-9_.-]`, not starting with "." or "-". */
export const isValidTag = (tag: string): boolean => tagRe.test(tag)

// Splits "host[:port]" without understanding IPv6 brackets wrongly.
const splitHostPort = (host: string): { readonly name: string; readonly port: string | undefined } | undefined => {
  if (host.startsWith("[")) {
    const close = host.indexOf("]")
    if (close < 0) return undefined
    const rest = host.slice(close + 1)
    if (rest !== "" && !rest.startsWith(":")) return undefined
    return { name: host.slice(0, close + 1), port: rest === "" ? undefined : rest.slice(1) }
  }
  const colon = host.indexOf(":")
  if (colon < 0) return { name: host, port: undefined }
  return { name: host.slice(0, colon), port: host.slice(colon + 1) }
}

const isValidPort = (port: string): boolean => /^[0-9]{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535

/** validates a registry host "name[:port]" (no scheme, no path); used for mirrors and registries keys */
export const isValidRegistryHost = (host: string): boolean => {
  if (host.length === 0 || host.length > NAME_TOTAL_LENGTH_MAX) return false
  const parts = splitHostPort(host)
  if (parts === undefined) return false
  if (parts.port !== undefined && !isValidPort(parts.port)) return false
  if (parts.name.startsWith("[")) return isIPv6(parts.name.slice(1, -1))
  return domainNameRe.test(parts.name)
}

/** loopback hosts (127.0.0.0/8, ::1 / [::1], localhost) with optional port */
export const isLoopbackHost = (host: string): boolean => {
  const lower = host.toLowerCase()
  // A bare IPv6 address cannot carry a port, so check it before splitting on ":".
  if (isIPv6(lower)) return normaliseIPv6(lower) === "[::1]"
  if (!isValidRegistryHost(lower)) return false
  const parts = splitHostPort(lower)
  if (parts === undefined) return false
  if (parts.name === "localhost") return true
  if (parts.name.startsWith("[")) return normaliseIPv6(parts.name.slice(1, -1)) === "[::1]"
  const octets = parts.name.split(".")
  return octets.length === 4 && octets[0] === "127" && octets.every((o) => /^[0-9]{1,3}$/.test(o) && Number(o) <= 255)
}

// The URL parser compresses IPv6 ("0:0:0:0:0:0:0:1" → "[::1]"), so equal addresses compare equal.
const normaliseIPv6 = (address: string): string | undefined => {
  try {
    return new URL(`http://[${address}]/`).hostname
  } catch {
    return undefined
  }
}

const fail = (input: string, reason: string): Either.Either<ImageReference, InvalidReference> => Either.left(new InvalidReference({ input, reason }))

/** Checks a repository path against Docker's grammar; returns the reason it is invalid, if it is. */
export const repositoryProblem = (repository: string): string | undefined => {
  if (repository.length === 0) return "repository name is empty"
  if (repository !== repository.toLowerCase()) return "repository name must be lowercase"
  for (const component of repository.split("/")) {
    if (component.length === 0) return "repository name has an empty path component (\"//\" or a leading or trailing \"/\")"
    if (!pathComponentRe.test(component)) {
      return `invalid repository path component "${component}": use lower-case letters and digits, separated by ".", "_", "__" or "-"`
    }
  }
  return undefined
}

const digestProblem = (digest: string): string | undefined => {
  if (digest.length === 0) return "digest after \"@\" is empty"
  if (isSha256Digest(digest)) return undefined
  const colon = digest.indexOf(":")
  const algorithm = colon < 0 ? digest : digest.slice(0, colon)
  if (colon < 0) return `invalid digest "${digest}": expected "sha256:" followed by 64 lower-case hex characters`
  if (algorithm === "sha256") return `invalid digest "${digest}": a sha256 digest is 64 lower-case hex characters`
  // Well-formed per the general grammar, but we can only verify sha256 content.
  if (digestRe.test(digest)) return `unsupported digest algorithm "${algorithm}": only sha256 is supported`
  return `invalid digest "${digest}": expected "sha256:" followed by 64 lower-case hex characters`
}

/** Parses a reference like `busybox`, `gcr.io/distroless/static:nonroot` or `name:tag@sha256:…`. */
export const parseReference = (input: string): Either.Either<ImageReference, InvalidReference> => {
  if (input.length === 0) return fail(input, "reference is empty")
  if (/\s/.test(input)) return fail(input, "reference must not contain whitespace")
  const at = input.indexOf("@")
  if (at >= 0 && input.indexOf("@", at + 1) >= 0) return fail(input, "reference has more than one \"@\"")
  const nameAndTag = at >= 0 ? input.slice(0, at) : input
  const digest = at >= 0 ? input.slice(at + 1) : undefined
  if (nameAndTag.length === 0) return fail(input, "image name is missing before \"@\"")

  // A ":" after the last "/" starts the tag; one before it belongs to the host's port.
  const lastSlash = nameAndTag.lastIndexOf("/")
  const lastColon = nameAndTag.lastIndexOf(":")
  const hasTag = lastColon > lastSlash
  const name = hasTag ? nameAndTag.slice(0, lastColon) : nameAndTag
  const tag = hasTag ? nameAndTag.slice(lastColon + 1) : undefined
  if (name.length === 0) return fail(input, "image name is missing before \":\"")
  if (hasTag && name.endsWith(":")) return fail(input, "reference contains \"::\"; use a single \":\" before the tag")
  if (tag !== undefined) {
    if (tag.length === 0) return fail(input, "tag after \":\" is empty")
    if (!isValidTag(tag)) {
      return fail(input, `invalid tag "${tag}": up to 128 letters, digits, "_", "." or "-", not starting with "." or "-"`)
    }
  }
  if (name.length > NAME_TOTAL_LENGTH_MAX) return fail(input, `name is longer than ${NAME_TOTAL_LENGTH_MAX} characters`)

  // Docker: the first component is a registry only if it looks like a host.
  const slash = name.indexOf("/")
  const first = slash >= 0 ? name.slice(0, slash) : ""
  const explicitDomain = slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost")
  let registry = DOCKER_HUB
  let repository = name
  if (explicitDomain) {
    if (!isValidRegistryHost(first)) return fail(input, `invalid registry host "${first}"`)
    registry = isDockerHub(first) ? DOCKER_HUB : first.toLowerCase()
    repository = name.slice(slash + 1)
  }
  const problem = repositoryProblem(repository)
  if (problem !== undefined) return fail(input, problem)
  if (!explicitDomain && anonymousIdRe.test(repository)) {
    return fail(input, "a 64-character hex name looks like an image ID; write it with a registry or namespace")
  }
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`

  if (digest !== undefined) {
    const reason = digestProblem(digest)
    if (reason !== undefined) return fail(input, reason)
  }
  return Either.right({
    registry,
    repository,
    tag: tag ?? (digest === undefined ? "latest" : undefined),
    digest
  })
}

/** True when `input` names a tag itself ("busybox:1.36"), not only by Docker's default "latest" ("busybox"). */
export const hasExplicitTag = (input: string): boolean => {
  const name = input.split("@")[0] ?? ""
  return (name.slice(name.lastIndexOf("/") + 1)).includes(":")
}

/** "docker.io/library/busybox:1.36" / "gcr.io/x/y@sha256:…" / "host/r:tag@sha256:…" */
export const formatReference = (ref: ImageReference): string =>
  `${ref.registry}/${ref.repository}${ref.tag === undefined ? "" : `:${ref.tag}`}${ref.digest === undefined ? "" : `@${ref.digest}`}`

/** repository path used for target naming: "library/busybox" for Hub, "gcr.io/distroless/static" for others (host:port included) */
export const repositoryPath = (ref: ImageReference): string => isDockerHub(ref.registry) ? ref.repository : `${ref.registry}/${ref.repository}`
