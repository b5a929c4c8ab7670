/**
 * The ECR provider and ECR API: which hosts they answer, where the calls go, and what the
 * real @aws-sdk/client-ecr gets from the ECR API stand-in (AWS_ENDPOINT_URL); the SDK is
 * imported on the first call only.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Either, Option, Redacted } from "effect"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Ecr from "../../../plugins/auth/ecr.ts"
import * as EcrApi from "../../../plugins/auth/ecrApi.ts"
import type { EcrWhere } from "../../../plugins/auth/ecrApi.ts"
import type { RegistryOptions } from "../../../src/model/Location.ts"
import { cloudEnv, closedPort, setProcessEnv } from "../../support/CloudEnv.ts"
import { startEcrApi } from "../../support/EcrApi.ts"
import type { EcrApiStandIn } from "../../support/EcrApi.ts"

const ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"

/** An ECR API that records where it was asked and hands out "pw-<n>". */
const fakeApi = () => {
  const asked: Array<EcrWhere> = []
  const api: EcrApi.EcrApi = {
    authorizationToken: (where) =>
      Effect.sync(() => {
        asked.push(where)
        return { username: "AWS", password: Redacted.make(`pw-${asked.length}`), expiresAt: 1_000_000 }
      }),
    repositoryExists: () => Effect.succeed(true),
    createRepository: () => Effect.void
  }
  return { api, asked }
}

const registries = (entries: Record<string, Partial<RegistryOptions>>) =>
  new Map(Object.entries(entries).map(([host, o]) => [host, { mirror: undefined, insecure: false, ...o }]))

describe("the provider", () => {
  test("answers ECR host names on both sides with Basic AWS:<password> and its expiry, asking the host's region and account", async () => {
    const { api, asked } = fakeApi()
    const provider = Ecr.provider(api, registries({}))
    const target = await Effect.runPromise(provider.lookup(ECR, "target"))
    const source = await Effect.runPromise(provider.lookup(ECR, "source"))
    for (const c of [target, source]) expect(Option.isSome(c) && c.value._tag === "Basic" && c.value.username).toBe("AWS")
    expect(Option.isSome(target) && target.value.expiresAt).toBe(1_000_000)
    expect(asked).toEqual([{ host: ECR, region: "eu-west-1", registryId: "123456789012" }, { host: ECR, region: "eu-west-1", registryId: "123456789012" }])
  })

  test("cloud: ecr makes any host ECR with the options' region and account; cloud: none and other hosts are not its business", async () => {
    const { api, asked } = fakeApi()
    const provider = Ecr.provider(
      api,
      registries({ "registry.internal:5000": { cloud: "ecr", region: "us-east-2", registryId: "210987654321" }, [ECR]: { cloud: "none" } })
    )
    expect(Option.isSome(await Effect.runPromise(provider.lookup("registry.internal:5000", "target")))).toBe(true)
    expect(Option.isNone(await Effect.runPromise(provider.lookup(ECR, "target")))).toBe(true)
    expect(Option.isNone(await Effect.runPromise(provider.lookup("ghcr.io", "target")))).toBe(true)
    expect(asked).toEqual([{ host: "registry.internal:5000", region: "us-east-2", registryId: "210987654321" }])
  })

  test("a refusal is CredentialsFailed marked unauthorized, in the API's words", async () => {
    const api: EcrApi.EcrApi = {
      ...fakeApi().api,
      authorizationToken: (where) =>
        Effect.fail(new EcrApi.EcrCallFailed({ operation: "GetAuthorizationToken", where, refused: true, detail: "no AWS credentials: …" }))
    }
    const r = await Effect.runPromise(Effect.either(Ecr.provider(api, registries({})).lookup(ECR, "target")))
    expect(Either.isLeft(r) && [r.left.provider, r.left.unauthorized, r.left.detail]).toEqual([
      "ecr (AWS SDK)",
      true,
      `GetAuthorizationToken for ${ECR} (eu-west-1): no AWS credentials: …`
    ])
  })
})

describe("the ECR API on the real SDK", () => {
  let stand: EcrApiStandIn
  let home: string
  let restore: () => void
  const where: EcrWhere = { host: ECR, region: "eu-west-1", registryId: "123456789012" }

  beforeAll(async () => {
    stand = startEcrApi({ repositories: [{ name: "mirror/existing", imageTagMutability: "MUTABLE" }] })
    home = await mkdtemp(join(tmpdir(), "ecr-api-test-"))
    restore = setProcessEnv({ ...cloudEnv(home, { ecr: stand, metadataHost: `127.0.0.1:${await closedPort()}` }), NO_PROXY: "*", HOME: home })
  })
  afterAll(async () => {
    restore()
    await stand.stop()
    await rm(home, { recursive: true, force: true })
  })

  test("the SDK is imported on the first call, not when the API is made", async () => {
    let loads = 0
    const api = EcrApi.make(() => (loads++, import("@aws-sdk/client-ecr")))
    expect(loads).toBe(0)
    await Effect.runPromise(api.authorizationToken(where))
    await Effect.runPromise(api.authorizationToken(where))
    expect(loads).toBe(1)
  })

  test("GetAuthorizationToken: the password the stand-in handed out, user AWS, and its expiry", async () => {
    const before = Date.now()
    const token = await Effect.runPromise(EcrApi.make().authorizationToken(where))
    expect(token.username).toBe("AWS")
    expect(stand.acceptsPassword(Redacted.value(token.password))).toBe(true)
    expect(token.expiresAt! - before).toBeGreaterThan(43_000_000)
    expect(stand.callsOf("GetAuthorizationToken").at(-1)?.region).toBe("eu-west-1")
  })

  test("DescribeRepositories and CreateRepository: missing is false, created with the mutability asked, an existing one counts as done", async () => {
    const api = EcrApi.make()
    expect(await Effect.runPromise(api.repositoryExists(where, "mirror/existing"))).toBe(true)
    expect(await Effect.runPromise(api.repositoryExists(where, "mirror/new"))).toBe(false)
    await Effect.runPromise(api.createRepository(where, "mirror/new", "IMMUTABLE"))
    await Effect.runPromise(api.createRepository(where, "mirror/existing", "IMMUTABLE"))
    expect(stand.repository("mirror/new")?.imageTagMutability).toBe("IMMUTABLE")
    expect(stand.repository("mirror/existing")?.imageTagMutability).toBe("MUTABLE")
    expect(stand.callsOf("CreateRepository").map((c) => [c.body.repositoryName, c.body.registryId, c.status])).toEqual([
      ["mirror/new", "123456789012", 200],
      ["mirror/existing", "123456789012", 400]
    ])
  })

  test("another account's registry is refused as AWS refuses it", async () => {
    const r = await Effect.runPromise(Effect.either(EcrApi.make().repositoryExists({ ...where, registryId: "999999999999" }, "x")))
    expect(Either.isLeft(r) && [r.left.refused, r.left.detail]).toEqual([
      true,
      "AWS refused the credentials: AccessDeniedException: User is not authorized to access registry '999999999999'"
    ])
  })
})
