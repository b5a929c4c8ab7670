/** ECR repositories created on demand: which targets, with which mutability, and how ECR's refusals read. */
import { describe, expect, test } from "bun:test"
import { Effect, Either, Redacted } from "effect"
import { EcrCallFailed } from "../../../plugins/auth/ecrApi.ts"
import type { EcrApi, EcrWhere } from "../../../plugins/auth/ecrApi.ts"
import { anyCreates, creator } from "../../../plugins/auth/ecrRepositories.ts"
import { endpointFor } from "../../../src/model/Location.ts"
import type { ImageLocation, RegistryOptions } from "../../../src/model/Location.ts"

const ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
const OTHER = "210987654321.dkr.ecr.us-east-2.amazonaws.com"

const at = (host: string, repository: string): ImageLocation => ({ endpoint: endpointFor(host, new Map(), "target"), repository, reference: "1" })

const registries = (entries: Record<string, Partial<RegistryOptions>>) =>
  new Map(Object.entries(entries).map(([host, o]) => [host, { mirror: undefined, insecure: false, ...o }]))

const recordingApi = (fail?: (where: EcrWhere) => EcrCallFailed) => {
  const created: Array<[string, string, string | undefined]> = []
  const api: EcrApi = {
    authorizationToken: () => Effect.succeed({ username: "AWS", password: Redacted.make("p"), expiresAt: undefined }),
    repositoryExists: () => Effect.succeed(false),
    createRepository: (where, repository, mutability) =>
      fail ? Effect.fail(fail(where)) : Effect.sync(() => void created.push([repository, mutability, where.region]))
  }
  return { api, created }
}

describe("which targets", () => {
  test("the file's default for every ECR target, the host's value winning; non-ECR targets never", () => {
    const settings = { registries: registries({ [OTHER]: { createRepositories: false } }), createRepositories: true }
    const c = creator(recordingApi().api, settings)
    expect([c.creates(at(ECR, "a")), c.creates(at(OTHER, "a")), c.creates(at("ghcr.io", "a"))]).toEqual([true, false, false])
    expect(anyCreates(settings, [OTHER, "ghcr.io"])).toBe(false)
    expect(anyCreates(settings, [OTHER, ECR])).toBe(true)
    expect(anyCreates({ registries: registries({}) }, [ECR])).toBe(false)
  })
})

describe("create", () => {
  test("IMMUTABLE unless the host says otherwise, in the host's region", async () => {
    const { api, created } = recordingApi()
    const c = creator(api, { registries: registries({ [OTHER]: { tagMutability: "MUTABLE" } }), createRepositories: true })
    await Effect.runPromise(c.create(at(ECR, "mirror/a")))
    await Effect.runPromise(c.create(at(OTHER, "mirror/b")))
    expect(created).toEqual([["mirror/a", "IMMUTABLE", "eu-west-1"], ["mirror/b", "MUTABLE", "us-east-2"]])
  })

  test("a refusal is Unauthorized (403) naming the registry and the call; another failure a TransportFailure", async () => {
    const refused = creator(
      recordingApi((where) => new EcrCallFailed({ operation: "CreateRepository", where, refused: true, detail: "AccessDeniedException: no" })).api,
      { registries: registries({}), createRepositories: true }
    )
    const broken = creator(
      recordingApi((where) => new EcrCallFailed({ operation: "CreateRepository", where, refused: false, detail: "LimitExceededException: too many" })).api,
      { registries: registries({}), createRepositories: true }
    )
    const a = await Effect.runPromise(Effect.either(refused.create(at(ECR, "x"))))
    const b = await Effect.runPromise(Effect.either(broken.create(at(ECR, "x"))))
    expect(Either.isLeft(a) && [a.left._tag, a.left.message]).toEqual([
      "Unauthorized",
      `${ECR}: access denied (HTTP 403): ecr (AWS SDK): CreateRepository for ${ECR} (eu-west-1): AccessDeniedException: no`
    ])
    expect(Either.isLeft(b) && [b.left._tag, b.left.message]).toEqual([
      "TransportFailure",
      `ecr (AWS SDK): CreateRepository for ${ECR} (eu-west-1): LimitExceededException: too many`
    ])
  })
})
