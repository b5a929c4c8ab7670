import { describe, expect, test } from "bun:test"
import { Effect, Either, JSONSchema } from "effect"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Definition } from "../../src/definition/Definition.ts"
import { formatTarget } from "../../src/model/Target.ts"
import { loadDefinition } from "../../src/definition/Load.ts"
import { parseDefinition } from "../../src/definition/Parse.ts"
import { DefinitionError, didYouMean, formatProblem } from "../../src/definition/Problems.ts"
import type { DefinitionProblem } from "../../src/definition/Problems.ts"
import { DefinitionFileSchema } from "../../src/definition/Schema.ts"

const SHA = "31a54a0cf86d7354788a8265f60ae6acb4b348a67efbcf7c1007dd3cf7af05ab"
const SHA2 = "9d7ec48fe46e8bbce55deafff58080e49d161a3ed92e67f645014bb50dc599fd"
const PREFIX_LINE = "targetRepoPrefix: \"eu.gcr.io/kyma-project/external/\""
const fixture = (name: string) => join(import.meta.dir, "..", "fixtures", "definitions", name)

const valid = (text: string, options?: { readonly targetRepoPrefix?: string }): Definition => {
  const r = parseDefinition("images.yaml", text, options)
  if (Either.isLeft(r)) throw new Error(`expected a valid definition:\n${r.left.message}`)
  return r.right
}

const failure = (text: string, options?: { readonly targetRepoPrefix?: string }): DefinitionError => {
  const r = parseDefinition("images.yaml", text, options)
  if (Either.isRight(r)) throw new Error("expected the definition to be rejected")
  return r.left
}

const problems = (text: string, options?: { readonly targetRepoPrefix?: string }): ReadonlyArray<DefinitionProblem> => failure(text, options).problems

const lines = (text: string, options?: { readonly targetRepoPrefix?: string }): Array<string> => failure(text, options).message.split("\n")

// Builds a file: the prefix line, then "images:", then the given lines.
const withImages = (...entries: Array<string>) => [PREFIX_LINE, "images:", ...entries, ""].join("\n")

describe("the seed example", () => {
  test("decodes into 5 images with the right targets", async () => {
    const def = await Effect.runPromise(loadDefinition(fixture("seed.yaml")))
    expect(def.file).toBe(fixture("seed.yaml"))
    expect(def.targetRepoPrefix).toBe("eu.gcr.io/kyma-project/external/")
    expect(def.registries.size).toBe(0)
    expect(def.images.map((i) => formatTarget(i.target))).toEqual([
      "eu.gcr.io/kyma-project/external/bitnami/keycloak-gatekeeper:9.0.3",
      "eu.gcr.io/kyma-project/external/bitnami/postgres-exporter:0.8.0-debian-10-r28",
      "eu.gcr.io/kyma-project/external/library/busybox:1.32.0-v1",
      "eu.gcr.io/kyma-project/external/bitnami/postgres-exporter:0.11.1-debian-11-r69",
      "eu.gcr.io/kyma-project/external/library/postgres:v20230508-11.19-alpine3.17"
    ])
    expect(def.images.map((i) => i.amd64Only)).toEqual([false, false, false, true, true])
    expect(def.images.map((i) => i.tag)).toEqual([undefined, undefined, "1.32.0-v1", undefined, "v20230508-11.19-alpine3.17"])
    expect(def.images.map((i) => i.index)).toEqual([0, 1, 2, 3, 4])
    expect(def.images.map((i) => [i.line, i.column])).toEqual([[3, 3], [4, 3], [5, 3], [7, 3], [9, 3]])
  })

  test("keeps source as written and the parsed reference", async () => {
    const def = await Effect.runPromise(loadDefinition(fixture("seed.yaml")))
    const busybox = def.images[2]!
    expect(busybox.source).toBe(`busybox@sha256:${SHA}`)
    expect(busybox.reference).toEqual({
      registry: "docker.io",
      repository: "library/busybox",
      tag: undefined,
      digest: `sha256:${SHA}`
    })
    expect(busybox.target).toEqual({
      registry: "eu.gcr.io",
      repository: "kyma-project/external/library/busybox",
      tag: "1.32.0-v1"
    })
    expect(def.images[4]!.reference.digest).toBe(`sha256:${SHA2}`)
  })
})

describe("the design example (registries)", () => {
  test("decodes registries with normalised keys", async () => {
    const def = await Effect.runPromise(loadDefinition(fixture("design.yaml")))
    expect([...def.registries.entries()]).toEqual([
      ["docker.io", { mirror: "mirror.example.com:5000", insecure: false }],
      ["registry.internal:5000", { mirror: undefined, insecure: true }]
    ])
    expect(def.images.map((i) => formatTarget(i.target))).toEqual([
      "eu.gcr.io/kyma-project/external/bitnami/keycloak-gatekeeper:9.0.3",
      "eu.gcr.io/kyma-project/external/library/busybox:1.32.0-v1",
      "eu.gcr.io/kyma-project/external/bitnami/postgres-exporter:0.11.1-debian-11-r69",
      "eu.gcr.io/kyma-project/external/gcr.io/distroless/static:nonroot",
      "eu.gcr.io/kyma-project/external/registry.internal-5000/team/app:2.0"
    ])
    expect(def.images.map((i) => [i.line, i.column])).toEqual([[8, 5], [9, 5], [11, 5], [13, 5], [14, 5]])
  })

  test("Hub aliases as registries keys normalise to docker.io; mirror is lower-cased", () => {
    const def = valid(
      [PREFIX_LINE, "registries:", "  Index.Docker.IO:", "    mirror: Mirror.Example.com", "images:", "  - source: busybox", ""].join("\n")
    )
    expect([...def.registries.entries()]).toEqual([["docker.io", { mirror: "mirror.example.com", insecure: false }]])
  })

  test("an empty registries options mapping is fine", () => {
    const def = valid([PREFIX_LINE, "registries:", "  gcr.io: {}", "images:", "  - source: busybox", ""].join("\n"))
    expect(def.registries.get("gcr.io")).toEqual({ mirror: undefined, insecure: false })
  })
})

describe("targetRepoPrefix", () => {
  test("missing", () => {
    expect(lines("images:\n  - source: busybox\n")).toEqual([
      "images.yaml:1:1: missing required key \"targetRepoPrefix\" (e.g. targetRepoPrefix: \"eu.gcr.io/my-project/external/\")"
    ])
  })

  test("the override supplies a missing prefix", () => {
    const def = valid("images:\n  - source: busybox\n", { targetRepoPrefix: "localhost:5000/mirror/" })
    expect(def.targetRepoPrefix).toBe("localhost:5000/mirror/")
    expect(formatTarget(def.images[0]!.target)).toBe("localhost:5000/mirror/library/busybox:latest")
  })

  test("the override wins over the file", () => {
    const def = valid(withImages("  - source: busybox"), { targetRepoPrefix: "127.0.0.1:5000/" })
    expect(def.targetRepoPrefix).toBe("127.0.0.1:5000/")
    expect(formatTarget(def.images[0]!.target)).toBe("127.0.0.1:5000/library/busybox:latest")
  })

  test("the override wins even over an invalid prefix in the file", () => {
    const def = valid("targetRepoPrefix: \"no-slash\"\nimages:\n  - source: busybox\n", { targetRepoPrefix: "127.0.0.1:5000/" })
    expect(def.targetRepoPrefix).toBe("127.0.0.1:5000/")
  })

  test("an empty override means no override", () => {
    expect(valid(withImages("  - source: busybox"), { targetRepoPrefix: "" }).targetRepoPrefix).toBe(
      "eu.gcr.io/kyma-project/external/"
    )
  })

  test("an invalid override is reported without a file position", () => {
    const ps = problems(withImages("  - source: busybox"), { targetRepoPrefix: "no-slash" })
    expect(ps).toEqual([
      {
        line: 0,
        column: 0,
        entry: undefined,
        message: "invalid target repository prefix \"no-slash\": prefix must end with \"/\" (given as an override of the file's targetRepoPrefix)"
      }
    ])
    expect(failure(withImages("  - source: busybox"), { targetRepoPrefix: "no-slash" }).message).toBe(
      "invalid target repository prefix \"no-slash\": prefix must end with \"/\" (given as an override of the file's targetRepoPrefix)"
    )
  })

  test("not ending with /", () => {
    expect(lines("targetRepoPrefix: \"eu.gcr.io/kyma\"\nimages:\n  - source: busybox\n")).toEqual([
      "images.yaml:1:19: invalid target repository prefix \"eu.gcr.io/kyma\": prefix must end with \"/\""
    ])
  })

  test("without a registry host", () => {
    expect(lines("targetRepoPrefix: kyma/external/\nimages:\n  - source: busybox\n")[0]).toContain(
      "images.yaml:1:19: invalid target repository prefix \"kyma/external/\": prefix must start with a registry host"
    )
  })

  test("with an invalid repository", () => {
    expect(lines("targetRepoPrefix: eu.gcr.io/Kyma/\nimages:\n  - source: busybox\n")).toEqual([
      "images.yaml:1:19: invalid target repository prefix \"eu.gcr.io/Kyma/\": repository name must be lowercase"
    ])
  })

  test("not a string", () => {
    expect(lines("targetRepoPrefix: 5\nimages:\n  - source: busybox\n")).toEqual([
      "images.yaml:1:19: targetRepoPrefix must be a string or a list of strings (got the number 5)"
    ])
  })
})

describe("YAML structure", () => {
  test("malformed YAML reports yaml's error with its position", () => {
    const ls = lines("targetRepoPrefix: \"eu.gcr.io/x/\"\nimages: [\n  - source: busybox\n")
    expect(ls.length).toBeGreaterThan(0)
    for (const l of ls) expect(l).toMatch(/^images\.yaml:\d+:\d+: invalid YAML: /)
  })

  test("an unterminated quote", () => {
    const ps = problems("targetRepoPrefix: \"eu.gcr.io/x/\nimages:\n  - source: busybox\n")
    expect(ps[0]!.message).toStartWith("invalid YAML: ")
    expect(ps[0]!.line).toBeGreaterThanOrEqual(1)
  })

  test("duplicate keys are a YAML error", () => {
    const ps = problems(`${PREFIX_LINE}\n${PREFIX_LINE}\nimages:\n  - source: busybox\n`)
    expect(ps).toHaveLength(1)
    expect(ps[0]).toMatchObject({ line: 2, column: 1 })
    expect(ps[0]!.message).toContain("Map keys must be unique")
  })

  test("empty file", () => {
    expect(lines("")).toEqual(["images.yaml:1:1: the file is empty; it needs targetRepoPrefix and images"])
  })

  test("only comments", () => {
    expect(lines("# nothing here\n")).toEqual(["images.yaml:1:1: the file is empty; it needs targetRepoPrefix and images"])
  })

  test("an empty document", () => {
    expect(lines("---\n")).toEqual(["images.yaml:1:1: the file is empty; it needs targetRepoPrefix and images"])
  })

  test("not a mapping: a list", () => {
    expect(lines("- source: busybox\n")).toEqual([
      "images.yaml:1:1: the file must be a mapping with targetRepoPrefix and images (got a list)"
    ])
  })

  test("not a mapping: a string", () => {
    expect(lines("just text\n")).toEqual([
      "images.yaml:1:1: the file must be a mapping with targetRepoPrefix and images (got a string)"
    ])
  })

  test("multiple documents", () => {
    expect(lines(`${withImages("  - source: busybox")}---\n${withImages("  - source: alpine")}`)).toEqual([
      "images.yaml:4:1: the file holds 2 YAML documents; it must hold exactly one (remove the \"---\" separator)"
    ])
  })

  test("a leading --- is one document", () => {
    expect(valid(`---\n${withImages("  - source: busybox")}`).images).toHaveLength(1)
  })

  test("a byte-order mark is ignored", () => {
    expect(valid(`\uFEFF${withImages("  - source: busybox")}`).images).toHaveLength(1)
  })

  test("an alias bomb is refused, not expanded", () => {
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
      ""
    ].join("\n")
    const ps = problems(bomb)
    expect(ps).toHaveLength(1)
    expect(ps[0]!.message).toStartWith("invalid YAML: ")
  })

  test("anchors and aliases resolve", () => {
    const def = valid(withImages("  - source: busybox", "    tag: &t \"1.0\"", "  - source: alpine", "    tag: *t"))
    expect(def.images.map((i) => i.tag)).toEqual(["1.0", "1.0"])
  })
})

describe("images", () => {
  test("missing", () => {
    expect(lines(`${PREFIX_LINE}\n`)).toEqual([
      "images.yaml:1:1: missing required key \"images\" (a list of entries like \"- source: busybox:1.36\")"
    ])
  })

  test("not a list", () => {
    expect(lines(`${PREFIX_LINE}\nimages: busybox\n`)).toEqual([
      "images.yaml:2:9: images must be a list of entries like \"- source: busybox:1.36\" (got the string \"busybox\")"
    ])
  })

  test("a mapping instead of a list", () => {
    expect(lines(`${PREFIX_LINE}\nimages:\n  source: busybox\n`)).toEqual([
      "images.yaml:3:3: images must be a list of entries like \"- source: busybox:1.36\" (got a mapping)"
    ])
  })

  test("empty list", () => {
    expect(lines(`${PREFIX_LINE}\nimages: []\n`)).toEqual(["images.yaml:2:9: images is empty; list at least one image"])
  })

  test("no value", () => {
    expect(lines(`${PREFIX_LINE}\nimages:\n`)).toEqual([
      "images.yaml:2:1: images has no entries; list at least one image (- source: \"busybox:1.36\")"
    ])
  })

  test("an entry that is a plain string", () => {
    expect(lines(withImages("  - busybox"))).toEqual([
      "images.yaml:3:5: images[0]: each images entry must be a mapping; write \"- source: busybox\" (got a plain string)"
    ])
  })

  test("an entry without source", () => {
    expect(lines(withImages("  - source: busybox", "  - tag: \"1.0\""))).toEqual([
      "images.yaml:4:5: images[1]: missing required key \"source\""
    ])
  })
})

describe("unknown keys with did-you-mean", () => {
  test("amd64only → amd64Only (the design's example message)", () => {
    const text = withImages(
      "  - source: \"bitnami/keycloak-gatekeeper:9.0.3\"",
      "  - source: \"busybox:1.36\"",
      `  - source: "busybox@sha256:${SHA}"`,
      "    tag: \"1.32.0-v1\"",
      "    amd64only: true"
    )
    const ps = problems(text)
    expect(ps).toEqual([
      {
        line: 7,
        column: 5,
        entry: `images[2] (busybox@sha256:${SHA})`,
        message: "unknown key \"amd64only\" (did you mean \"amd64Only\"?)"
      }
    ])
    expect(failure(text).message).toBe(
      `images.yaml:7:5: images[2] (busybox@sha256:${SHA}): unknown key "amd64only" (did you mean "amd64Only"?)`
    )
  })

  test("Tag → tag", () => {
    expect(lines(withImages("  - source: busybox", "    Tag: \"1.0\""))).toEqual([
      "images.yaml:4:5: images[0] (busybox): unknown key \"Tag\" (did you mean \"tag\"?)"
    ])
  })

  test("image → images, without also reporting images as missing", () => {
    expect(lines(`${PREFIX_LINE}\nimage:\n  - source: busybox\n`)).toEqual([
      "images.yaml:2:1: unknown key \"image\" (did you mean \"images\"?)"
    ])
  })

  test("Source → source, without also reporting source as missing", () => {
    expect(lines(withImages("  - Source: busybox"))).toEqual([
      "images.yaml:3:5: images[0]: unknown key \"Source\" (did you mean \"source\"?)"
    ])
  })

  test("targetRepoPrefx → targetRepoPrefix", () => {
    expect(lines("targetRepoPrefx: \"eu.gcr.io/x/\"\nimages:\n  - source: busybox\n")).toEqual([
      "images.yaml:1:1: unknown key \"targetRepoPrefx\" (did you mean \"targetRepoPrefix\"?)"
    ])
  })

  test("mirrors → mirror", () => {
    expect(lines([PREFIX_LINE, "registries:", "  docker.io:", "    mirrors: mirror.example.com", "images:", "  - source: busybox", ""].join("\n"))).toEqual([
      "images.yaml:4:5: registries[\"docker.io\"]: unknown key \"mirrors\" (did you mean \"mirror\"?)"
    ])
  })

  test("no close match lists the allowed keys", () => {
    expect(lines(withImages("  - source: busybox", "    arch: arm64"))).toEqual([
      "images.yaml:4:5: images[0] (busybox): unknown key \"arch\" (allowed keys: \"source\", \"tag\", \"amd64Only\", \"tags\", \"platforms\")"
    ])
    expect(lines(`${withImages("  - source: busybox")}dryRun: true\n`)).toEqual([
      "images.yaml:4:1: unknown key \"dryRun\" (allowed keys: \"targetRepoPrefix\", \"platforms\", \"registries\", \"createRepositories\", \"images\")"
    ])
  })
})

describe("didYouMean", () => {
  test("case-insensitive and edit distance ≤ 2", () => {
    expect(didYouMean("amd64only", ["source", "tag", "amd64Only"])).toBe("amd64Only")
    expect(didYouMean("AMD64ONLY", ["source", "tag", "amd64Only"])).toBe("amd64Only")
    expect(didYouMean("Tag", ["source", "tag", "amd64Only"])).toBe("tag")
    expect(didYouMean("tags", ["source", "tag", "amd64Only"])).toBe("tag")
    expect(didYouMean("sorce", ["source", "tag", "amd64Only"])).toBe("source")
    expect(didYouMean("image", ["targetRepoPrefix", "registries", "images"])).toBe("images")
    expect(didYouMean("mirrors", ["mirror", "insecure"])).toBe("mirror")
    expect(didYouMean("insecur", ["mirror", "insecure"])).toBe("insecure")
  })

  test("nothing close", () => {
    expect(didYouMean("platform", ["source", "tag", "amd64Only"])).toBeUndefined()
    expect(didYouMean("xyz", ["mirror", "insecure"])).toBeUndefined()
  })
})

describe("wrong types", () => {
  test("amd64Only: \"yes\"", () => {
    expect(lines(withImages("  - source: busybox", "    amd64Only: \"yes\""))).toEqual([
      "images.yaml:4:16: images[0] (busybox): amd64Only must be true or false (got the string \"yes\")"
    ])
  })

  test("amd64Only: yes (a string in YAML 1.2)", () => {
    expect(lines(withImages("  - source: busybox", "    amd64Only: yes"))).toEqual([
      "images.yaml:4:16: images[0] (busybox): amd64Only must be true or false (got the string \"yes\")"
    ])
  })

  test("tag: 5", () => {
    expect(lines(withImages("  - source: busybox", "    tag: 5"))).toEqual([
      "images.yaml:4:10: images[0] (busybox): tag must be a string (quote it: tag: \"5\")"
    ])
  })

  test("tag: 1.32 is a number in YAML", () => {
    expect(lines(withImages("  - source: busybox", "    tag: 1.32"))).toEqual([
      "images.yaml:4:10: images[0] (busybox): tag must be a string (quote it: tag: \"1.32\")"
    ])
  })

  test("tag: 1.30 keeps the digits as written", () => {
    expect(lines(withImages("  - source: busybox", "    tag: 1.30"))[0]).toContain("quote it: tag: \"1.30\"")
  })

  test("tag with no value", () => {
    expect(lines(withImages("  - source: busybox", "    tag:"))).toEqual([
      "images.yaml:4:5: images[0] (busybox): tag must be a string (got nothing)"
    ])
  })

  test("source: 5", () => {
    expect(lines(withImages("  - source: 5"))).toEqual(["images.yaml:3:13: images[0]: source must be a string (got the number 5)"])
  })

  test("source: a list", () => {
    expect(lines(withImages("  - source: [a, b]"))).toEqual(["images.yaml:3:13: images[0]: source must be a string (got a list)"])
  })
})

describe("references and tags", () => {
  test("invalid reference with whitespace", () => {
    expect(lines(withImages("  - source: \"Busy Box::1\""))).toEqual([
      "images.yaml:3:13: images[0] (Busy Box::1): invalid image reference \"Busy Box::1\": reference must not contain whitespace"
    ])
  })

  test("upper-case repository", () => {
    expect(lines(withImages("  - source: Library/BusyBox"))).toEqual([
      "images.yaml:3:13: images[0] (Library/BusyBox): invalid image reference \"Library/BusyBox\": repository name must be lowercase"
    ])
  })

  test("digest without tag", () => {
    expect(lines(withImages(`  - source: busybox@sha256:${SHA}`))).toEqual([
      `images.yaml:3:13: images[0] (busybox@sha256:${SHA}): source is pinned by digest only; add a "tag" for the target (e.g. tag: "1.36.1")`
    ])
  })

  test("tag and digest in the source need no extra tag", () => {
    const def = valid(withImages(`  - source: busybox:1.36@sha256:${SHA}`))
    expect(formatTarget(def.images[0]!.target)).toBe("eu.gcr.io/kyma-project/external/library/busybox:1.36")
    expect(def.images[0]!.reference.digest).toBe(`sha256:${SHA}`)
  })

  test("malformed digest", () => {
    expect(lines(withImages("  - source: busybox@sha256:abc", "    tag: \"1.0\""))).toEqual([
      "images.yaml:3:13: images[0] (busybox@sha256:abc): invalid image reference \"busybox@sha256:abc\": invalid digest \"sha256:abc\": a sha256 digest is 64 lower-case hex characters"
    ])
  })

  test("invalid tag value", () => {
    expect(lines(withImages("  - source: busybox", "    tag: \"-bad\""))).toEqual([
      "images.yaml:4:10: images[0] (busybox): invalid tag \"-bad\": up to 128 letters, digits, \"_\", \".\" or \"-\", not starting with \".\" or \"-\""
    ])
  })

  test("empty tag value", () => {
    expect(lines(withImages("  - source: busybox", "    tag: \"\""))[0]).toContain("images.yaml:4:10: images[0] (busybox): invalid tag \"\"")
  })

  test("the entry's tag replaces the source tag", () => {
    const def = valid(withImages("  - source: busybox:1.36", "    tag: \"1.36-custom\""))
    expect(def.images[0]!.tag).toBe("1.36-custom")
    expect(def.images[0]!.target.tag).toBe("1.36-custom")
    expect(def.images[0]!.reference.tag).toBe("1.36")
  })
})

describe("duplicate targets", () => {
  test("two entries mapping to the same target name both lines", () => {
    const ps = problems(withImages("  - source: busybox", "  - source: alpine", "  - source: docker.io/library/busybox:latest"))
    expect(ps).toEqual([
      {
        line: 5,
        column: 5,
        entry: "images[2] (docker.io/library/busybox:latest)",
        message: "maps to the same target \"eu.gcr.io/kyma-project/external/library/busybox:latest\" as images[0] (busybox): lines 3 and 5"
      }
    ])
  })

  test("a digest entry whose tag collides with a tagged entry", () => {
    const ls = lines(withImages("  - source: busybox:1.36", `  - source: busybox@sha256:${SHA}`, "    tag: \"1.36\""))
    expect(ls).toEqual([
      `images.yaml:4:5: images[1] (busybox@sha256:${SHA}): maps to the same target "eu.gcr.io/kyma-project/external/library/busybox:1.36" as images[0] (busybox:1.36): lines 3 and 4`
    ])
  })

  test("same repository with different tags is fine", () => {
    expect(valid(withImages("  - source: busybox:1.35", "  - source: busybox:1.36")).images).toHaveLength(2)
  })
})

describe("registries", () => {
  const withRegistries = (...registryLines: Array<string>) => [PREFIX_LINE, "registries:", ...registryLines, "images:", "  - source: busybox", ""].join("\n")

  test("mirror that is not a valid host[:port]", () => {
    expect(lines(withRegistries("  docker.io:", "    mirror: \"https://mirror.example.com\""))).toEqual([
      "images.yaml:4:13: registries[\"docker.io\"]: mirror \"https://mirror.example.com\" is not a valid host[:port] (no scheme such as \"https://\", no path)"
    ])
  })

  test("mirror with a path", () => {
    expect(lines(withRegistries("  docker.io:", "    mirror: mirror.example.com/hub"))[0]).toContain("is not a valid host[:port]")
  })

  test("mirror not a string", () => {
    expect(lines(withRegistries("  docker.io:", "    mirror: 5000"))).toEqual([
      "images.yaml:4:13: registries[\"docker.io\"]: mirror must be a string host[:port] (got the number 5000)"
    ])
  })

  test("maxRequests: a whole number from 1 to 256, kept for the host; anything else named with its position", () => {
    const def = valid(withRegistries("  docker.io:", "    maxRequests: 4"))
    expect(def.registries.get("docker.io")).toEqual({ mirror: undefined, insecure: false, maxRequests: 4 })
    expect(lines(withRegistries("  docker.io:", "    maxRequests: 0", "  quay.io:", "    maxRequests: 2.5", "  ghcr.io:", "    maxRequests: 300"))).toEqual([
      "images.yaml:4:18: registries[\"docker.io\"]: maxRequests must be a whole number from 1 to 256 (got 0)",
      "images.yaml:6:18: registries[\"quay.io\"]: maxRequests must be a whole number from 1 to 256 (got 2.5)",
      "images.yaml:8:18: registries[\"ghcr.io\"]: maxRequests must be a whole number from 1 to 256 (got 300)"
    ])
  })

  test("insecure not boolean", () => {
    expect(lines(withRegistries("  \"registry.internal:5000\":", "    insecure: \"yes\""))).toEqual([
      "images.yaml:4:15: registries[\"registry.internal:5000\"]: insecure must be true or false (got the string \"yes\")"
    ])
  })

  test("registries key not a valid host", () => {
    expect(lines(withRegistries("  \"https://registry.internal\":", "    insecure: true"))).toEqual([
      "images.yaml:3:3: registries[\"https://registry.internal\"]: \"https://registry.internal\" is not a valid registry host: write host[:port], without scheme or path"
    ])
  })

  test("two keys for the same registry", () => {
    expect(lines(withRegistries("  docker.io:", "    insecure: false", "  index.docker.io:", "    insecure: true"))).toEqual([
      "images.yaml:5:3: registries[\"index.docker.io\"]: \"index.docker.io\" is the same registry as \"docker.io\" (line 3); merge them"
    ])
  })

  test("registries not a mapping", () => {
    expect(lines(withRegistries("  - docker.io"))).toEqual([
      "images.yaml:3:3: registries must be a mapping of registry host to options (got a list)"
    ])
  })

  test("registry options not a mapping", () => {
    expect(lines(withRegistries("  docker.io: mirror.example.com"))).toEqual([
      "images.yaml:3:14: registries[\"docker.io\"]: registry options must be a mapping with \"mirror\" and/or \"insecure\" (got the string \"mirror.example.com\")"
    ])
  })
})

describe("all problems are collected, in file order", () => {
  test("several problems in one file", async () => {
    const r = await Effect.runPromise(Effect.either(loadDefinition(fixture("invalid.yaml"))))
    if (Either.isRight(r)) throw new Error("expected Left")
    const file = fixture("invalid.yaml")
    expect(r.left.message.split("\n")).toEqual([
      `${file}:4:13: images[1] (busybox@sha256:${SHA}): source is pinned by digest only; add a "tag" for the target (e.g. tag: "1.36.1")`,
      `${file}:5:5: images[1] (busybox@sha256:${SHA}): unknown key "amd64only" (did you mean "amd64Only"?)`,
      `${file}:6:13: images[2] (Library/BusyBox): invalid image reference "Library/BusyBox": repository name must be lowercase`,
      `${file}:7:5: images[2] (Library/BusyBox): unknown key "Tag" (did you mean "tag"?)`
    ])
  })

  test("type, key and semantic problems together", () => {
    const text = [
      "targetRepoPrefix: eu.gcr.io/x",
      "registries:",
      "  docker.io:",
      "    insecure: maybe",
      "images:",
      "  - source: busybox",
      "    amd64Only: \"no\"",
      "  - tag: \"1\"",
      "  - source: Busy"
    ].join("\n")
    const ps = problems(text)
    expect(ps.map((p) => [p.line, p.column])).toEqual([[1, 19], [4, 15], [7, 16], [8, 5], [9, 13]])
  })
})

describe("DefinitionError", () => {
  test("is a tagged error with the file and problems", () => {
    const e = failure("")
    expect(e).toBeInstanceOf(DefinitionError)
    expect(e._tag).toBe("DefinitionError")
    expect(e.file).toBe("images.yaml")
  })

  test("formatProblem", () => {
    expect(formatProblem("a.yaml", { line: 2, column: 3, entry: "images[0] (x)", message: "bad" })).toBe("a.yaml:2:3: images[0] (x): bad")
    expect(formatProblem("a.yaml", { line: 2, column: 3, entry: undefined, message: "bad" })).toBe("a.yaml:2:3: bad")
    expect(formatProblem("a.yaml", { line: 0, column: 0, entry: undefined, message: "bad" })).toBe("bad")
  })
})

describe("amd64Only with a tags rule", () => {
  test("is accepted and holds for the rule (each selected tag gets it); the file's platforms do not apply", () => {
    const def = valid([
      PREFIX_LINE,
      "platforms: [\"linux/arm64\"]",
      "images:",
      "  - source: \"bitnami/postgres-exporter\"",
      "    amd64Only: true",
      "    tags: { semver: \">=0.11.0 <0.12.0\", match: \"-debian-11-\" }",
      ""
    ].join("\n"))
    const [rule] = def.images
    expect(rule?.amd64Only).toBe(true)
    expect(rule?.platforms).toBeUndefined()
    expect(rule?.tags?.spec).toMatchObject({ semver: ">=0.11.0 <0.12.0", match: "-debian-11-" })
  })

  test("with platforms beside it, the entry is still refused, naming both", () => {
    expect(lines(withImages(
      "  - source: \"bitnami/postgres-exporter\"",
      "    amd64Only: true",
      "    platforms: [\"linux/amd64\"]",
      "    tags: { match: \"-debian-11-\" }"
    ))).toEqual([
      "images.yaml:5:5: images[0] (bitnami/postgres-exporter): platforms cannot be combined with amd64Only: list \"linux/amd64\" in platforms instead"
    ])
  })
})

describe("loadDefinition", () => {
  test("missing file", async () => {
    const r = await Effect.runPromise(Effect.either(loadDefinition("does-not-exist.yaml")))
    if (Either.isRight(r)) throw new Error("expected Left")
    expect(r.left.problems).toEqual([
      { line: 0, column: 0, entry: undefined, message: "cannot read images file \"does-not-exist.yaml\": no such file" }
    ])
    expect(r.left.message).toBe("cannot read images file \"does-not-exist.yaml\": no such file")
  })

  test("a directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "definition-test-"))
    try {
      const r = await Effect.runPromise(Effect.either(loadDefinition(dir)))
      if (Either.isRight(r)) throw new Error("expected Left")
      expect(r.left.message).toBe(`cannot read images file "${dir}": it is a directory`)
    } finally {
      await rm(dir, { recursive: true })
    }
  })

  test("passes the override through", async () => {
    const def = await Effect.runPromise(loadDefinition(fixture("seed.yaml"), { targetRepoPrefix: "localhost:5000/" }))
    expect(formatTarget(def.images[0]!.target)).toBe("localhost:5000/bitnami/keycloak-gatekeeper:9.0.3")
  })
})

describe("DefinitionFileSchema", () => {
  test("generates a JSON Schema", () => {
    const schema = JSONSchema.make(DefinitionFileSchema) as unknown as Record<string, unknown>
    const text = JSON.stringify(schema)
    expect(text).toContain("\"targetRepoPrefix\"")
    expect(text).toContain("\"amd64Only\"")
    expect(text).toContain("\"minItems\":1")
    expect(text).toContain("\"additionalProperties\":false")
    expect(text).toContain("\"description\"")
  })
})
