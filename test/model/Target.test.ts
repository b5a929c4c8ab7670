import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { parseReference } from "../../src/model/Reference.ts"
import type { ImageReference } from "../../src/model/Reference.ts"
import { formatTarget, InvalidTargetPrefix, parseTargetPrefix, targetFor } from "../../src/model/Target.ts"

const SHA = "31a54a0cf86d7354788a8265f60ae6acb4b348a67efbcf7c1007dd3cf7af05ab"
const PREFIX = "eu.gcr.io/kyma-project/external/"
const PREFIX_PATH = "kyma-project/external/"

const ref = (input: string): ImageReference => Either.getOrThrow(parseReference(input))

const target = (prefix: string, source: string, tag?: string): string => formatTarget(Either.getOrThrow(targetFor(prefix, ref(source), tag)))

const prefixReason = (prefix: string): string => {
  const r = parseTargetPrefix(prefix)
  if (Either.isRight(r)) throw new Error(`expected ${prefix} to be rejected`)
  return r.left.reason
}

describe("parseTargetPrefix", () => {
  test("registry and repository prefix", () => {
    expect(Either.getOrThrow(parseTargetPrefix(PREFIX))).toEqual({
      registry: "eu.gcr.io",
      repositoryPrefix: "kyma-project/external/"
    })
  })

  test("registry only", () => {
    expect(Either.getOrThrow(parseTargetPrefix("127.0.0.1:5000/"))).toEqual({ registry: "127.0.0.1:5000", repositoryPrefix: "" })
    expect(Either.getOrThrow(parseTargetPrefix("localhost/"))).toEqual({ registry: "localhost", repositoryPrefix: "" })
  })

  test("registry is lower-cased and Hub aliases normalise", () => {
    expect(Either.getOrThrow(parseTargetPrefix("EU.GCR.IO/x/"))).toEqual({ registry: "eu.gcr.io", repositoryPrefix: "x/" })
    expect(Either.getOrThrow(parseTargetPrefix("index.docker.io/myorg/"))).toEqual({ registry: "docker.io", repositoryPrefix: "myorg/" })
  })

  test("must end with /", () => {
    expect(prefixReason("eu.gcr.io/kyma-project/external")).toBe("prefix must end with \"/\"")
  })

  test("must name an explicit registry", () => {
    expect(prefixReason("kyma-project/external/")).toContain("must start with a registry host")
    expect(prefixReason("/")).toContain("must start with a registry host")
  })

  test("empty, whitespace, scheme", () => {
    expect(prefixReason("")).toBe("prefix is empty")
    expect(prefixReason("eu.gcr.io/a b/")).toContain("whitespace")
    expect(prefixReason("https://eu.gcr.io/x/")).toContain("scheme")
  })

  test("invalid registry host", () => {
    expect(prefixReason("bad_host.io/x/")).toBe("invalid registry host \"bad_host.io\"")
  })

  test("invalid repository part", () => {
    expect(prefixReason("eu.gcr.io/Kyma/")).toBe("repository name must be lowercase")
    expect(prefixReason("eu.gcr.io/a//")).toContain("empty path component")
    expect(prefixReason("eu.gcr.io/-a/")).toContain("invalid repository path component")
  })

  test("error type and message", () => {
    const r = parseTargetPrefix("eu.gcr.io/x")
    if (Either.isRight(r)) throw new Error("expected Left")
    expect(r.left).toBeInstanceOf(InvalidTargetPrefix)
    expect(r.left._tag).toBe("InvalidTargetPrefix")
    expect(r.left.prefix).toBe("eu.gcr.io/x")
    expect(r.left.message).toBe("invalid target repository prefix \"eu.gcr.io/x\": prefix must end with \"/\"")
  })
})

describe("targetFor", () => {
  test("design examples", () => {
    expect(target(PREFIX, "busybox")).toBe("eu.gcr.io/kyma-project/external/library/busybox:latest")
    expect(target(PREFIX, "gcr.io/distroless/static:nonroot")).toBe(
      "eu.gcr.io/kyma-project/external/gcr.io/distroless/static:nonroot"
    )
    expect(target(PREFIX, "bitnami/keycloak-gatekeeper:9.0.3")).toBe(
      "eu.gcr.io/kyma-project/external/bitnami/keycloak-gatekeeper:9.0.3"
    )
    expect(target(PREFIX, `busybox@sha256:${SHA}`, "1.32.0-v1")).toBe(
      "eu.gcr.io/kyma-project/external/library/busybox:1.32.0-v1"
    )
  })

  test("structured result", () => {
    expect(Either.getOrThrow(targetFor(PREFIX, ref("busybox:1.36"), undefined))).toEqual({
      registry: "eu.gcr.io",
      repository: "kyma-project/external/library/busybox",
      tag: "1.36"
    })
  })

  test("Hub aliases give the same target", () => {
    const expected = "eu.gcr.io/kyma-project/external/library/busybox:1.36"
    for (const s of ["busybox:1.36", "library/busybox:1.36", "docker.io/busybox:1.36", "index.docker.io/library/busybox:1.36"]) {
      expect(target(PREFIX, s)).toBe(expected)
    }
  })

  test("the entry's tag overrides the source tag", () => {
    expect(target(PREFIX, "busybox:1.36", "custom")).toBe("eu.gcr.io/kyma-project/external/library/busybox:custom")
    expect(target(PREFIX, `busybox:1.36@sha256:${SHA}`)).toBe("eu.gcr.io/kyma-project/external/library/busybox:1.36")
  })

  test("a source host with a port becomes host-port", () => {
    expect(target(PREFIX, "127.0.0.1:5000/app")).toBe("eu.gcr.io/kyma-project/external/127.0.0.1-5000/app:latest")
    expect(target(PREFIX, "registry.internal:5000/team/app:2.0")).toBe(
      "eu.gcr.io/kyma-project/external/registry.internal-5000/team/app:2.0"
    )
  })

  test("registry-only prefix", () => {
    expect(target("127.0.0.1:5000/", "busybox")).toBe("127.0.0.1:5000/library/busybox:latest")
    expect(target("localhost:5000/", "gcr.io/distroless/static:nonroot")).toBe("localhost:5000/gcr.io/distroless/static:nonroot")
  })

  test("digest-only source without tag is a Left", () => {
    const r = targetFor(PREFIX, ref(`busybox@sha256:${SHA}`), undefined)
    if (Either.isRight(r)) throw new Error("expected Left")
    expect(r.left._tag).toBe("InvalidReference")
    expect(r.left.message).toContain("needs a \"tag\"")
  })

  test("invalid tag is a Left", () => {
    const r = targetFor(PREFIX, ref("busybox"), "-bad")
    if (Either.isRight(r)) throw new Error("expected Left")
    expect(r.left.message).toContain("invalid tag \"-bad\"")
  })

  test("invalid prefix is a Left with InvalidTargetPrefix", () => {
    const r = targetFor("eu.gcr.io/x", ref("busybox"), undefined)
    if (Either.isRight(r)) throw new Error("expected Left")
    expect(r.left._tag).toBe("InvalidTargetPrefix")
  })

  test("a target name longer than 255 characters is a Left", () => {
    const r = targetFor(`eu.gcr.io/${"a".repeat(200)}/`, ref(`gcr.io/${"b".repeat(60)}`), undefined)
    if (Either.isRight(r)) throw new Error("expected Left")
    expect(r.left.message).toContain("longer than 255")
  })

  test("an IPv6 source host becomes one path component with every group written out", () => {
    const loopback = targetFor(PREFIX, ref("[::1]:5104/app:1"), undefined)
    expect(Either.getOrThrow(loopback).repository).toBe(`${PREFIX_PATH}0-0-0-0-0-0-0-1-5104/app`)
    const other = targetFor(PREFIX, ref("[2001:db8::ff00:42:8329]/team/app:2"), undefined)
    expect(Either.getOrThrow(other).repository).toBe(`${PREFIX_PATH}2001-db8-0-0-0-ff00-42-8329/team/app`)
    // the same address written two ways is one target
    const expanded = targetFor(PREFIX, ref("[0:0:0:0:0:0:0:1]:5104/app:1"), undefined)
    expect(Either.getOrThrow(expanded).repository).toBe(Either.getOrThrow(loopback).repository)
  })
})

describe("formatTarget", () => {
  test("registry/repository:tag", () => {
    expect(formatTarget({ registry: "eu.gcr.io", repository: "kyma-project/external/library/busybox", tag: "1.32.0-v1" })).toBe(
      "eu.gcr.io/kyma-project/external/library/busybox:1.32.0-v1"
    )
  })
})
