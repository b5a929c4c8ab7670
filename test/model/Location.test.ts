import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import type { Definition, RegistryOptions } from "../../src/definition/Definition.ts"
import { DOCKER_HUB_API, endpointFor } from "../../src/model/Location.ts"
import { parseDefinition } from "../../src/definition/Parse.ts"

const none = new Map<string, RegistryOptions>()
const options = (entries: Record<string, Partial<RegistryOptions>>) =>
  new Map(Object.entries(entries).map(([host, o]) => [host, { mirror: o.mirror, insecure: o.insecure ?? false }]))

const definition = (text: string): Definition => {
  const parsed = parseDefinition("images.yaml", text)
  if (Either.isLeft(parsed)) throw new Error(parsed.left.message)
  return parsed.right
}

describe("endpointFor", () => {
  test("docker.io is contacted at registry-1.docker.io over https", () => {
    expect(DOCKER_HUB_API).toBe("registry-1.docker.io")
    for (const role of ["source", "target"] as const) {
      expect(endpointFor("docker.io", none, role)).toEqual({
        registry: "docker.io",
        host: "registry-1.docker.io",
        scheme: "https",
        skipTlsVerify: false,
        role
      })
    }
  })

  test("any other registry is contacted at its own host over https", () => {
    expect(endpointFor("gcr.io", none, "source")).toEqual({
      registry: "gcr.io",
      host: "gcr.io",
      scheme: "https",
      skipTlsVerify: false,
      role: "source"
    })
    expect(endpointFor("eu.gcr.io", none, "target").host).toBe("eu.gcr.io")
  })

  test("a mirror is used for the source only; the identity stays", () => {
    const registries = options({ "docker.io": { mirror: "mirror.example.com:5000" } })
    const source = endpointFor("docker.io", registries, "source")
    expect(source).toEqual({
      registry: "docker.io",
      host: "mirror.example.com:5000",
      scheme: "https",
      skipTlsVerify: false,
      role: "source"
    })
    const target = endpointFor("docker.io", registries, "target")
    expect(target.host).toBe("registry-1.docker.io")
    expect(target.registry).toBe("docker.io")
  })

  test("a mirror marked insecure in its own entry is read over http without TLS checks", () => {
    const registries = options({
      "docker.io": { mirror: "mirror.internal:5000" },
      "mirror.internal:5000": { insecure: true }
    })
    expect(endpointFor("docker.io", registries, "source")).toMatchObject({ host: "mirror.internal:5000", scheme: "http", skipTlsVerify: true })
  })

  test("a loopback mirror uses plain http without configuration", () => {
    const registries = options({ "gcr.io": { mirror: "127.0.0.1:5000" } })
    expect(endpointFor("gcr.io", registries, "source")).toMatchObject({ host: "127.0.0.1:5000", scheme: "http", skipTlsVerify: false })
  })

  test("loopback hosts use http, with nothing to skip", () => {
    for (const host of ["127.0.0.1:5000", "127.1.2.3:443", "localhost:5000", "localhost", "[::1]:5000"]) {
      expect(endpointFor(host, none, "target")).toMatchObject({ host, scheme: "http", skipTlsVerify: false })
    }
  })

  test("hosts that only look local stay on https", () => {
    for (const host of ["128.0.0.1:5000", "localhost.example.com", "10.0.0.1:5000", "registry.local:5000"]) {
      expect(endpointFor(host, none, "source").scheme).toBe("https")
    }
  })

  test("insecure: true gives http and skipTlsVerify on both sides", () => {
    const registries = options({ "registry.internal:5000": { insecure: true } })
    for (const role of ["source", "target"] as const) {
      expect(endpointFor("registry.internal:5000", registries, role)).toEqual({
        registry: "registry.internal:5000",
        host: "registry.internal:5000",
        scheme: "http",
        skipTlsVerify: true,
        role
      })
    }
  })

  test("insecure on one host does not spread to others", () => {
    const registries = options({ "registry.internal:5000": { insecure: true } })
    expect(endpointFor("other.internal:5000", registries, "source")).toMatchObject({ scheme: "https", skipTlsVerify: false })
  })

  test("options from a parsed definition: Hub aliases and the mirror apply", () => {
    const def = definition(
      [
        "targetRepoPrefix: \"127.0.0.1:5000/mirror/\"",
        "registries:",
        "  index.docker.io:",
        "    mirror: \"Mirror.Example.com:5000\"",
        "  \"registry.internal:5000\":",
        "    insecure: true",
        "images:",
        "  - source: \"busybox:1.36\"",
        "  - source: \"registry.internal:5000/team/app:2.0\""
      ].join("\n")
    )
    const [hub, internal] = def.images
    expect(endpointFor(hub!.reference.registry, def.registries, "source")).toMatchObject({
      registry: "docker.io",
      host: "mirror.example.com:5000",
      scheme: "https"
    })
    expect(endpointFor(internal!.reference.registry, def.registries, "source")).toMatchObject({
      host: "registry.internal:5000",
      scheme: "http",
      skipTlsVerify: true
    })
    expect(endpointFor(hub!.target.registry, def.registries, "target")).toMatchObject({ host: "127.0.0.1:5000", scheme: "http" })
  })
})
