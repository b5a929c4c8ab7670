import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import {
  formatReference,
  InvalidReference,
  isDockerHub,
  isLoopbackHost,
  isValidRegistryHost,
  isValidTag,
  parseReference,
  repositoryPath
} from "../../src/model/Reference.ts"
import type { ImageReference } from "../../src/model/Reference.ts"

const SHA = "31a54a0cf86d7354788a8265f60ae6acb4b348a67efbcf7c1007dd3cf7af05ab"

const ok = (input: string): ImageReference => {
  const r = parseReference(input)
  if (Either.isLeft(r)) throw new Error(`expected ${input} to parse: ${r.left.message}`)
  return r.right
}

const reason = (input: string): string => {
  const r = parseReference(input)
  if (Either.isRight(r)) throw new Error(`expected ${input} to be rejected, got ${formatReference(r.right)}`)
  return r.left.reason
}

describe("parseReference: Docker Hub normalisation", () => {
  test.each([
    ["busybox", "library/busybox", "latest"],
    ["busybox:1.36", "library/busybox", "1.36"],
    ["library/busybox", "library/busybox", "latest"],
    ["docker.io/busybox", "library/busybox", "latest"],
    ["docker.io/library/busybox:1.36", "library/busybox", "1.36"],
    ["index.docker.io/busybox", "library/busybox", "latest"],
    ["registry-1.docker.io/bitnami/redis:7", "bitnami/redis", "7"],
    ["Docker.IO/busybox", "library/busybox", "latest"],
    ["bitnami/keycloak-gatekeeper:9.0.3", "bitnami/keycloak-gatekeeper", "9.0.3"],
    ["a/b/c/d", "a/b/c/d", "latest"]
  ])("%s", (input, repository, tag) => {
    expect(ok(input)).toEqual({ registry: "docker.io", repository, tag, digest: undefined })
  })

  test("a bare name with a port-like tag is a Hub name with a tag, as in Docker", () => {
    expect(ok("localhost:5000")).toEqual({ registry: "docker.io", repository: "library/localhost", tag: "5000", digest: undefined })
  })
})

describe("parseReference: other registries", () => {
  test.each([
    ["gcr.io/distroless/static:nonroot", "gcr.io", "distroless/static", "nonroot"],
    ["quay.io/prometheus/node-exporter", "quay.io", "prometheus/node-exporter", "latest"],
    ["ghcr.io/a/b/c:v1", "ghcr.io", "a/b/c", "v1"],
    ["localhost/app", "localhost", "app", "latest"],
    ["localhost:5000/app:1", "localhost:5000", "app", "1"],
    ["127.0.0.1:5000/team/app:2.0", "127.0.0.1:5000", "team/app", "2.0"],
    ["[::1]:5000/app", "[::1]:5000", "app", "latest"],
    ["Quay.IO/org/app", "quay.io", "org/app", "latest"],
    ["registry.internal:5000/x", "registry.internal:5000", "x", "latest"],
    ["host.example/a__b/c--d/e.f/g_h", "host.example", "a__b/c--d/e.f/g_h", "latest"]
  ])("%s", (input, registry, repository, tag) => {
    expect(ok(input)).toEqual({ registry, repository, tag, digest: undefined })
  })
})

describe("parseReference: digests", () => {
  test("digest only: no tag", () => {
    expect(ok(`busybox@sha256:${SHA}`)).toEqual({
      registry: "docker.io",
      repository: "library/busybox",
      tag: undefined,
      digest: `sha256:${SHA}`
    })
  })

  test("tag and digest together", () => {
    expect(ok(`gcr.io/x/y:1.0@sha256:${SHA}`)).toEqual({
      registry: "gcr.io",
      repository: "x/y",
      tag: "1.0",
      digest: `sha256:${SHA}`
    })
  })

  test("registry with port and digest", () => {
    expect(ok(`localhost:5000/app@sha256:${SHA}`)).toMatchObject({ registry: "localhost:5000", repository: "app", tag: undefined })
  })

  test("short sha256 is rejected", () => {
    expect(reason("busybox@sha256:abc")).toContain("64 lower-case hex")
  })

  test("upper-case hex is rejected", () => {
    expect(reason(`busybox@sha256:${SHA.toUpperCase()}`)).toContain("64 lower-case hex")
  })

  test("a well-formed digest of another algorithm is unsupported", () => {
    expect(reason(`busybox@sha512:${"a".repeat(128)}`)).toBe("unsupported digest algorithm \"sha512\": only sha256 is supported")
  })

  test("garbage after @", () => {
    expect(reason("busybox@latest")).toContain("invalid digest \"latest\"")
    expect(reason("busybox@md5:xyz")).toContain("invalid digest")
  })

  test("empty digest", () => {
    expect(reason("busybox@")).toBe("digest after \"@\" is empty")
  })

  test("more than one @", () => {
    expect(reason(`a@sha256:${SHA}@sha256:${SHA}`)).toBe("reference has more than one \"@\"")
  })

  test("name missing before @", () => {
    expect(reason(`@sha256:${SHA}`)).toBe("image name is missing before \"@\"")
  })
})

describe("parseReference: invalid input", () => {
  test("empty", () => expect(reason("")).toBe("reference is empty"))

  test("whitespace", () => {
    expect(reason("Busy Box::1")).toBe("reference must not contain whitespace")
    expect(reason(" busybox")).toBe("reference must not contain whitespace")
    expect(reason("busybox\t")).toBe("reference must not contain whitespace")
  })

  test("double colon", () => {
    expect(reason("busybox::1")).toContain("\"::\"")
  })

  test("upper case repository", () => {
    expect(reason("Library/BusyBox")).toBe("repository name must be lowercase")
    expect(reason("BusyBox")).toBe("repository name must be lowercase")
    expect(reason("gcr.io/Distroless/static")).toBe("repository name must be lowercase")
  })

  test("empty tag", () => expect(reason("busybox:")).toBe("tag after \":\" is empty"))

  test("invalid tags", () => {
    expect(reason("busybox:-x")).toContain("invalid tag \"-x\"")
    expect(reason("busybox:.x")).toContain("invalid tag \".x\"")
    expect(reason("busybox:a+b")).toContain("invalid tag \"a+b\"")
    expect(reason(`busybox:${"a".repeat(129)}`)).toContain("invalid tag")
  })

  test("a 128-character tag is fine", () => {
    expect(ok(`busybox:${"a".repeat(128)}`).tag).toBe("a".repeat(128))
  })

  test("bad path components", () => {
    expect(reason("a//b")).toContain("empty path component")
    expect(reason("a/")).toContain("empty path component")
    expect(reason("gcr.io/")).toContain("repository name is empty")
    expect(reason("-a")).toContain("invalid repository path component \"-a\"")
    expect(reason("a..b")).toContain("invalid repository path component")
    expect(reason("a___b")).toContain("invalid repository path component")
    expect(reason("a/b-")).toContain("invalid repository path component \"b-\"")
  })

  test("missing name before the tag", () => {
    expect(reason(":tag")).toBe("image name is missing before \":\"")
  })

  test("a scheme is not a registry", () => {
    expect(reason("https://gcr.io/x")).toContain("invalid registry host")
  })

  test("invalid registry host", () => {
    expect(reason("bad_host.io/x")).toBe("invalid registry host \"bad_host.io\"")
    expect(reason("host.io:99999/x")).toBe("invalid registry host \"host.io:99999\"")
  })

  test("name longer than 255 characters", () => {
    const long = `gcr.io/${"a".repeat(250)}`
    expect(reason(long)).toContain("longer than 255")
    expect(ok(`gcr.io/${"a".repeat(248)}`).repository).toHaveLength(248)
  })

  test("a 64-hex Hub name looks like an image ID", () => {
    expect(reason(SHA)).toContain("image ID")
    expect(ok(`myorg/${SHA}`).repository).toBe(`myorg/${SHA}`)
  })
})

describe("InvalidReference", () => {
  test("message names the input and the reason", () => {
    const r = parseReference("Busy Box::1")
    expect(Either.isLeft(r)).toBe(true)
    if (Either.isLeft(r)) {
      expect(r.left).toBeInstanceOf(InvalidReference)
      expect(r.left._tag).toBe("InvalidReference")
      expect(r.left.input).toBe("Busy Box::1")
      expect(r.left.message).toBe("invalid image reference \"Busy Box::1\": reference must not contain whitespace")
    }
  })
})

describe("formatReference", () => {
  test.each([
    ["busybox", "docker.io/library/busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36"],
    [`gcr.io/x/y@sha256:${SHA}`, `gcr.io/x/y@sha256:${SHA}`],
    [`host.io/r:tag@sha256:${SHA}`, `host.io/r:tag@sha256:${SHA}`],
    ["localhost:5000/app", "localhost:5000/app:latest"]
  ])("%s → %s", (input, expected) => {
    expect(formatReference(ok(input))).toBe(expected)
    // formatting is a fixed point
    expect(formatReference(ok(expected))).toBe(expected)
  })
})

describe("repositoryPath", () => {
  test.each([
    ["busybox", "library/busybox"],
    ["bitnami/keycloak-gatekeeper:9.0.3", "bitnami/keycloak-gatekeeper"],
    ["index.docker.io/library/busybox", "library/busybox"],
    ["gcr.io/distroless/static:nonroot", "gcr.io/distroless/static"],
    ["localhost:5000/team/app", "localhost:5000/team/app"]
  ])("%s → %s", (input, expected) => {
    expect(repositoryPath(ok(input))).toBe(expected)
  })
})

describe("isDockerHub", () => {
  test("Hub names", () => {
    for (const h of ["docker.io", "index.docker.io", "registry-1.docker.io", "Docker.io"]) expect(isDockerHub(h)).toBe(true)
  })
  test("other registries", () => {
    for (const h of ["gcr.io", "docker.com", "mirror.docker.io", "docker.io:443"]) expect(isDockerHub(h)).toBe(false)
  })
})

describe("isValidTag", () => {
  test("valid", () => {
    for (const t of ["latest", "1.32.0-v1", "_x", "V1", "a".repeat(128)]) expect(isValidTag(t)).toBe(true)
  })
  test("invalid", () => {
    for (const t of ["", "-x", ".x", "a b", "a:b", "a".repeat(129)]) expect(isValidTag(t)).toBe(false)
  })
})

describe("isValidRegistryHost", () => {
  test.each([
    "docker.io",
    "gcr.io",
    "mirror.example.com:5000",
    "localhost",
    "localhost:5000",
    "127.0.0.1",
    "127.0.0.1:5000",
    "[::1]",
    "[::1]:5000",
    "[2001:db8::1]:443",
    "Registry.Internal",
    "a-b.c"
  ])("valid: %s", (host) => expect(isValidRegistryHost(host)).toBe(true))

  test.each([
    "",
    "https://mirror.example.com",
    "mirror.example.com/path",
    "mirror.example.com:",
    "mirror.example.com:0",
    "mirror.example.com:65536",
    "mirror.example.com:http",
    "-bad.io",
    "bad-.io",
    "bad_host.io",
    "a..b",
    "[::1",
    "[nothex]:5000",
    "[::1]x",
    "host io",
    "::1"
  ])("invalid: %s", (host) => expect(isValidRegistryHost(host)).toBe(false))
})

describe("isLoopbackHost", () => {
  test.each([
    "localhost",
    "LOCALHOST:5000",
    "127.0.0.1",
    "127.0.0.1:5000",
    "127.1.2.3:80",
    "::1",
    "[::1]",
    "[::1]:5000",
    "[0:0:0:0:0:0:0:1]:5000"
  ])("loopback: %s", (host) => expect(isLoopbackHost(host)).toBe(true))

  test.each([
    "gcr.io",
    "128.0.0.1",
    "127.0.0.256",
    "127.0.0",
    "localhost.example.com",
    "mylocalhost",
    "[::2]",
    "10.0.0.1:5000",
    "127.0.0.1.nip.io",
    ""
  ])("not loopback: %s", (host) => expect(isLoopbackHost(host)).toBe(false))
})
