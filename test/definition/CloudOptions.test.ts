/** The cloud keys of a definition file: accepted, kept for their host, and every misuse named with file:line:col. */
import { describe, expect, test } from "bun:test"
import { Either, JSONSchema } from "effect"
import type { Definition } from "../../src/definition/Definition.ts"
import { parseDefinition } from "../../src/definition/Parse.ts"
import { DefinitionFileSchema } from "../../src/definition/Schema.ts"

const ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"

const file = (...lines: Array<string>) => [...lines, "images:", "  - source: busybox:1.36", ""].join("\n")

const valid = (text: string): Definition => {
  const r = parseDefinition("images.yaml", text)
  if (Either.isLeft(r)) throw new Error(`expected a valid definition:\n${r.left.message}`)
  return r.right
}

const lines = (text: string, options?: { readonly targetRepoPrefix?: string }): Array<string> => {
  const r = parseDefinition("images.yaml", text, options)
  if (Either.isRight(r)) throw new Error("expected the definition to be rejected")
  return r.left.message.split("\n")
}

describe("accepted", () => {
  test("an ECR target creating repositories, with its region, account and mutability, kept for the host", () => {
    const def = valid(file(
      `targetRepoPrefix: "${ECR}/mirror/"`,
      "createRepositories: true",
      "registries:",
      `  "${ECR}":`,
      "    region: eu-west-1",
      "    registryId: \"123456789012\"",
      "    tagMutability: MUTABLE"
    ))
    expect(def.createRepositories).toBe(true)
    expect(def.registries.get(ECR)).toEqual({ mirror: undefined, insecure: false, region: "eu-west-1", registryId: "123456789012", tagMutability: "MUTABLE" })
  })

  test("cloud: ecr on another host name, with its region; cloud: gcp and none; per-host createRepositories", () => {
    const def = valid(file(
      "targetRepoPrefix: \"registry.internal:5000/mirror/\"",
      "registries:",
      "  \"registry.internal:5000\":",
      "    cloud: ecr",
      "    region: us-east-2",
      "    createRepositories: true",
      "  europe-docker.pkg.dev:",
      "    cloud: none",
      "  \"127.0.0.1:5001\":",
      "    cloud: gcp"
    ))
    expect(def.createRepositories).toBeUndefined()
    expect(def.registries.get("registry.internal:5000")).toMatchObject({ cloud: "ecr", region: "us-east-2", createRepositories: true })
    expect(def.registries.get("europe-docker.pkg.dev")).toMatchObject({ cloud: "none" })
    expect(def.registries.get("127.0.0.1:5001")).toMatchObject({ cloud: "gcp" })
  })

  test("the top-level default with a non-ECR target that opts out", () => {
    const def = valid(file(
      `targetRepoPrefix: ["${ECR}/mirror/", "ghcr.io/acme/mirror/"]`,
      "createRepositories: true",
      "registries:",
      "  ghcr.io:",
      "    createRepositories: false"
    ))
    expect(def.createRepositories).toBe(true)
  })
})

describe("refused, each named with its position (exit 2 at the CLI)", () => {
  test("createRepositories at the top level with a target that is not ECR names the host", () => {
    expect(lines(file("targetRepoPrefix: \"ghcr.io/acme/mirror/\"", "createRepositories: true"))).toEqual([
      "images.yaml:2:1: createRepositories is for ECR targets only; target registry ghcr.io is not ECR (set registries.\"ghcr.io\".createRepositories: false, or cloud: ecr if it is ECR under another name)"
    ])
  })

  test("the same with the prefix given on the command line", () => {
    expect(lines(file(`targetRepoPrefix: "${ECR}/mirror/"`, "createRepositories: true"), { targetRepoPrefix: "quay.io/acme/" })).toEqual([
      "images.yaml:2:1: createRepositories is for ECR targets only; target registry quay.io is not ECR (set registries.\"quay.io\".createRepositories: false, or cloud: ecr if it is ECR under another name)"
    ])
  })

  test("per-host createRepositories on a host that is not ECR, or turned off with cloud: none", () => {
    expect(lines(file(
      "targetRepoPrefix: \"ghcr.io/acme/\"",
      "registries:",
      "  ghcr.io:",
      "    createRepositories: true",
      `  "${ECR}":`,
      "    cloud: none",
      "    createRepositories: true"
    ))).toEqual([
      "images.yaml:4:5: registries[\"ghcr.io\"]: createRepositories is for ECR registries only; ghcr.io is not ECR (cloud: ecr, or a <account>.dkr.ecr.<region>.amazonaws.com host)",
      `images.yaml:7:5: registries["${ECR}"]: createRepositories is for ECR registries only; ${ECR} is not ECR (cloud: none)`
    ])
  })

  test("region, registryId and tagMutability outside ECR, malformed, or against the host name", () => {
    expect(lines(file(
      `targetRepoPrefix: "${ECR}/mirror/"`,
      "registries:",
      "  ghcr.io:",
      "    region: eu-west-1",
      "    registryId: \"123456789012\"",
      "    tagMutability: IMMUTABLE",
      `  "${ECR}":`,
      "    region: us-east-1",
      "    registryId: \"999\"",
      "    tagMutability: IMMUTABLE",
      "  \"registry.internal\":",
      "    cloud: ecr",
      "    region: Europe",
      "    registryId: \"210987654321\""
    ))).toEqual([
      "images.yaml:4:5: registries[\"ghcr.io\"]: region applies to ECR registries only (cloud: ecr, or a <account>.dkr.ecr.<region>.amazonaws.com host)",
      "images.yaml:5:5: registries[\"ghcr.io\"]: registryId applies to ECR registries only (cloud: ecr, or a <account>.dkr.ecr.<region>.amazonaws.com host)",
      "images.yaml:6:5: registries[\"ghcr.io\"]: tagMutability applies to ECR registries only (cloud: ecr, or a <account>.dkr.ecr.<region>.amazonaws.com host)",
      `images.yaml:8:13: registries["${ECR}"]: region "us-east-1" differs from the one in the host name ("eu-west-1")`,
      `images.yaml:9:17: registries["${ECR}"]: registryId must be a 12-digit AWS account id (got "999")`,
      `images.yaml:10:5: registries["${ECR}"]: tagMutability applies to repositories created on demand: set createRepositories: true`,
      "images.yaml:13:13: registries[\"registry.internal\"]: region \"Europe\" is not an AWS region like \"eu-west-1\""
    ])
  })

  test("wrong types and values, with did-you-mean for keys and values", () => {
    expect(lines(file(
      `targetRepoPrefix: "${ECR}/mirror/"`,
      "createRepositories: \"yes\"",
      "registries:",
      `  "${ECR}":`,
      "    cloud: AWS",
      "    tagMutability: immutable",
      "    createRepositorys: true",
      "  quay.io:",
      "    cloud: azure"
    ))).toEqual([
      "images.yaml:2:21: createRepositories must be true or false (got the string \"yes\")",
      `images.yaml:5:12: registries["${ECR}"]: cloud must be one of "ecr", "gcp", "azure", "none" (got the string "AWS")`,
      `images.yaml:6:20: registries["${ECR}"]: tagMutability must be one of "IMMUTABLE", "MUTABLE" (got the string "immutable") (did you mean "IMMUTABLE"?)`,
      `images.yaml:7:5: registries["${ECR}"]: unknown key "createRepositorys" (did you mean "createRepositories"?)`,
      "images.yaml:9:12: registries[\"quay.io\"]: cloud: azure has no built-in identity yet; give ACR credentials through docker config (a credential helper such as docker-credential-acr-env, or az acr login): see docs/cloud.md"
    ])
  })

  test("a misspelt top-level key suggests createRepositories", () => {
    expect(lines(file(`targetRepoPrefix: "${ECR}/mirror/"`, "createRepositorys: true"))).toEqual([
      "images.yaml:2:1: unknown key \"createRepositorys\" (did you mean \"createRepositories\"?)"
    ])
  })
})

describe("JSON Schema", () => {
  test("documents the cloud keys with their allowed values", () => {
    const schema = JSONSchema.make(DefinitionFileSchema) as {
      $defs: Record<string, { properties: Record<string, { enum?: Array<string>; type?: string }> }>
      properties?: Record<string, unknown>
    }
    const registry = schema.$defs["RegistryOptions"]!.properties
    expect(registry["cloud"]?.enum).toEqual(["ecr", "gcp", "azure", "none"])
    expect(registry["tagMutability"]?.enum).toEqual(["IMMUTABLE", "MUTABLE"])
    expect(Object.keys(registry)).toEqual(expect.arrayContaining(["region", "registryId", "createRepositories"]))
    const root = (schema.$defs["DefinitionFile"] ?? schema) as { properties: Record<string, { type?: string }> }
    expect(root.properties["createRepositories"]?.type).toBe("boolean")
  })
})
