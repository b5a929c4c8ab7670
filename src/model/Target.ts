/**
 * Target naming: target = targetRepoPrefix + repository path + ":" + tag
 * (see docs/design.md, "Target naming").
 */
import { Data, Either } from "effect"
import {
  DOCKER_HUB,
  formatReference,
  InvalidReference,
  isDockerHub,
  isValidRegistryHost,
  isValidTag,
  NAME_TOTAL_LENGTH_MAX,
  repositoryPath,
  repositoryProblem
} from "./Reference.ts"
import type { ImageReference } from "./Reference.ts"

/** Where an image goes in the target registry. */
export interface TargetReference {
  readonly registry: string
  readonly repository: string
  readonly tag: string
}

/** A `targetRepoPrefix` that cannot be used, with the reason why. */
export class InvalidTargetPrefix extends Data.TaggedError("InvalidTargetPrefix")<{
  readonly prefix: string
  readonly reason: string
}> {
  override get message(): string {
    return `invalid target repository prefix "${this.prefix}": ${this.reason}`
  }
}

const prefixFail = (prefix: string, reason: string) => Either.left(new InvalidTargetPrefix({ prefix, reason }))

/** splits "eu.gcr.io/kyma-project/external/" into registry "eu.gcr.io" + repository prefix "kyma-project/external/"; must end with "/"; "127.0.0.1:5000/" (registry only) is valid; the registry part must be explicit (contains "." or ":" or is localhost) */
export const parseTargetPrefix = (
  prefix: string
): Either.Either<{ readonly registry: string; readonly repositoryPrefix: string }, InvalidTargetPrefix> => {
  if (prefix.length === 0) return prefixFail(prefix, "prefix is empty")
  if (/\s/.test(prefix)) return prefixFail(prefix, "prefix must not contain whitespace")
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(prefix)) return prefixFail(prefix, "prefix must not have a scheme (drop \"https://\")")
  if (!prefix.endsWith("/")) return prefixFail(prefix, "prefix must end with \"/\"")
  const body = prefix.slice(0, -1)
  const slash = body.indexOf("/")
  const host = slash < 0 ? body : body.slice(0, slash)
  const rest = slash < 0 ? "" : body.slice(slash + 1)
  // Unlike a source reference, a prefix never defaults to Docker Hub: pushing there by accident is costly.
  if (!(host.includes(".") || host.includes(":") || host === "localhost")) {
    return prefixFail(prefix, `prefix must start with a registry host such as "eu.gcr.io/" (got "${host}")`)
  }
  if (!isValidRegistryHost(host)) return prefixFail(prefix, `invalid registry host "${host}"`)
  if (rest.length > 0) {
    const problem = repositoryProblem(rest)
    if (problem !== undefined) return prefixFail(prefix, problem)
  }
  return Either.right({
    registry: isDockerHub(host) ? DOCKER_HUB : host.toLowerCase(),
    repositoryPrefix: rest.length > 0 ? `${rest}/` : ""
  })
}

// An IPv6 address as a path component: every group written out ("[::1]" → "0-0-0-0-0-0-0-1"),
// since "::" would become "--", which may not start a component.
const ipv6Component = (bracketed: string): string => {
  let address = bracketed.slice(1, -1)
  try {
    address = new URL(`http://${bracketed}/`).hostname.slice(1, -1)
  } catch {
    // keep it as written; the path check reports it
  }
  const [head = "", tail] = address.split("::")
  const front = head === "" ? [] : head.split(":")
  const back = tail === undefined || tail === "" ? [] : tail.split(":")
  const groups = tail === undefined ? front : [...front, ...Array<string>(Math.max(0, 8 - front.length - back.length)).fill("0"), ...back]
  return groups.map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16).toString(16) : g)).join("-")
}

// A ":" (port) is not allowed in a repository path, so "127.0.0.1:5000/app" maps to the path
// component "127.0.0.1-5000", and "[::1]:5000/app" to "0-0-0-0-0-0-0-1-5000".
const pathForTarget = (source: ImageReference): string => {
  const path = repositoryPath(source).toLowerCase()
  if (!path.startsWith("[")) return path.replace(/:/g, "-")
  const close = path.indexOf("]")
  return `${ipv6Component(path.slice(0, close + 1))}${path.slice(close + 1).replace(/:/g, "-")}`
}

/** target = prefix + repositoryPath(source) + ":" + (tag ?? source.tag). Returns Left when the source is digest-only and no tag is given, or when the resulting repository is invalid/too long. */
export const targetFor = (
  prefix: string,
  source: ImageReference,
  tag: string | undefined
): Either.Either<TargetReference, InvalidTargetPrefix | InvalidReference> => {
  const parsed = parseTargetPrefix(prefix)
  if (Either.isLeft(parsed)) return Either.left(parsed.left)
  const { registry, repositoryPrefix } = parsed.right
  const repository = repositoryPrefix + pathForTarget(source)
  const targetTag = tag ?? source.tag
  const name = `${registry}/${repository}`
  if (targetTag === undefined) {
    return Either.left(
      new InvalidReference({
        input: formatReference(source),
        reason: "a digest-pinned source needs a \"tag\" for the target"
      })
    )
  }
  if (!isValidTag(targetTag)) {
    return Either.left(
      new InvalidReference({
        input: `${name}:${targetTag}`,
        reason: `invalid tag "${targetTag}": up to 128 letters, digits, "_", "." or "-", not starting with "." or "-"`
      })
    )
  }
  const problem = repositoryProblem(repository)
  if (problem !== undefined) {
    return Either.left(new InvalidReference({ input: `${name}:${targetTag}`, reason: `target ${problem}` }))
  }
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    return Either.left(
      new InvalidReference({
        input: `${name}:${targetTag}`,
        reason: `target name is longer than ${NAME_TOTAL_LENGTH_MAX} characters`
      })
    )
  }
  return Either.right({ registry, repository, tag: targetTag })
}

/** "eu.gcr.io/kyma-project/external/library/busybox:1.32.0-v1" */
export const formatTarget = (t: TargetReference): string => `${t.registry}/${t.repository}:${t.tag}`
