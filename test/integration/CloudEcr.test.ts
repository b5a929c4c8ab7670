/**
 * ECR as a new user meets it: the real @aws-sdk/client-ecr talking to the ECR API stand-in
 * (AWS_ENDPOINT_URL, test credentials in the environment), and a real docker-registry behind
 * the ECR personality (Basic AWS:<password> only, no create-on-push). No docker config at all:
 * the credentials come from the cloud identity. The CLI runs as a real subprocess at -j 8.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { FetchHttpClient } from "@effect/platform"
import { BunContext } from "@effect/platform-bun"
import { Effect, Layer } from "effect"
import { repositoriesFor, runEcrApi } from "../../src/composition/Cloud.ts"
import { pipelineLayer } from "../../src/composition/Live.ts"
import { loadDefinition } from "../../src/definition/Load.ts"
import { Pipeline } from "../../src/pipeline/Pipeline.ts"
import * as EcrAuth from "../../plugins/auth/ecr.ts"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { cloudEnv, closedPort, setProcessEnv } from "../support/CloudEnv.ts"
import { startEcrApi } from "../support/EcrApi.ts"
import type { EcrApiStandIn } from "../support/EcrApi.ts"
import { startEcrRegistry } from "../support/registries/Ecr.ts"
import type { EcrRegistry } from "../support/registries/Ecr.ts"
import { pushSeed, seedImages } from "../support/SeedSet.ts"
import type { SeededImage } from "../support/SeedSet.ts"
import { shiftedClock } from "../support/ShiftedClock.ts"
import { skopeoDigest } from "../support/Skopeo.ts"
import { describeRun, makeTempDir, readReport, removeDir, resultLines, runCli, writeDefinition } from "./helpers.ts"
import type { CliRun, DefinitionSpec } from "./helpers.ts"

let source: LocalRegistry
let upstream: LocalRegistry
let api: EcrApiStandIn
let ecr: EcrRegistry
let ecrSecond: EcrRegistry
let dir: string
let home: string
let seed: ReadonlyArray<SeededImage>
let closedMetadata: string

const REGION = "eu-west-1"
const SECOND_REGION = "us-east-2"
const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"])

/** The seed into `prefix` on the given ECR registries, read through a docker.io mirror. */
const definition = (
  prefixes: ReadonlyArray<string>,
  extra: Partial<DefinitionSpec> & Record<string, unknown> = {},
  registries: Record<string, Record<string, unknown>> = {}
): DefinitionSpec =>
  ({
    targetRepoPrefix: prefixes.length === 1 ? prefixes[0]! : prefixes,
    registries: {
      "docker.io": { mirror: source.host },
      [ecr.host]: { cloud: "ecr", region: REGION, registryId: api.registryId },
      [ecrSecond.host]: { cloud: "ecr", region: SECOND_REGION, registryId: api.registryId },
      ...registries
    },
    images: seed.map(({ image, source: src }) => ({
      source: src,
      ...(image.tag === undefined ? {} : { tag: image.tag }),
      ...(image.amd64Only === undefined ? {} : { amd64Only: image.amd64Only })
    })),
    ...extra
  }) as DefinitionSpec

/** Target repositories of the seed under a prefix path ("mirror/"). */
const repositoriesUnder = (path: string) => [...new Set(seed.map((s) => `${path}${s.image.repository}`))].sort()

const run = async (
  name: string,
  spec: DefinitionSpec,
  args: ReadonlyArray<string> = [],
  env: Record<string, string> = {}
): Promise<CliRun & { readonly report: string }> => {
  const file = await writeDefinition(dir, `${name}.yaml`, spec)
  const report = `${dir}/${name}.report.json`
  const result = await runCli(["-i", file, "-j", "8", "--output", "plain", "--report", report, ...args], {
    home,
    env: { ...cloudEnv(home, { ecr: api, metadataHost: closedMetadata }), ...env }
  })
  return { ...result, report }
}

beforeAll(async () => {
  ;[source, upstream] = await Promise.all([startRegistry(), startRegistry()])
  api = startEcrApi()
  ecr = startEcrRegistry(upstream.url, api)
  ecrSecond = startEcrRegistry(upstream.url, api)
  dir = await makeTempDir("cloud-ecr")
  home = await makeTempDir("cloud-ecr-home")
  closedMetadata = `127.0.0.1:${await closedPort()}`
  seed = await pushSeed(source.url, seedImages("cloud-ecr"))
}, 120_000)

afterAll(async () => {
  await Promise.all([source?.stop(), upstream?.stop(), api?.stop(), ecr?.stop(), ecrSecond?.stop()])
  await Promise.all([removeDir(dir), removeDir(home)])
})

describe("createRepositories: true, with the cloud identity and no docker config", () => {
  test("the seed syncs into two ECR registries: each repository created once, IMMUTABLE; one token per registry; the content checks out", async () => {
    const before = api.calls().length
    const sync = await run("create", definition([`${ecr.host}/mirror/`, `${ecrSecond.host}/second/`], { createRepositories: true }))
    expect(sync.code, describeRun(sync)).toBe(0)
    const lines = resultLines(sync)
    expect(lines).toHaveLength(seed.length * 2)
    expect(lines.every((l) => l.status === "synced"), describeRun(sync)).toBe(true)

    const calls = api.calls().slice(before)
    // One token per registry (region) for the whole run, although 10 images went to them 8 at a time.
    const tokens = calls.filter((c) => c.operation === "GetAuthorizationToken")
    expect(tokens.map((c) => c.region).sort()).toEqual([SECOND_REGION, REGION].sort())
    // Four repositories per target (postgres-exporter holds two of the images): asked and created once each.
    const expected = [...repositoriesUnder("mirror/"), ...repositoriesUnder("second/")].sort()
    expect(calls.filter((c) => c.operation === "CreateRepository").map((c) => String(c.body.repositoryName)).sort()).toEqual(expected)
    expect(calls.filter((c) => c.operation === "DescribeRepositories").map((c) => (c.body.repositoryNames as Array<string>)[0]).sort()).toEqual(expected)
    for (const name of expected) expect(api.repository(name)?.imageTagMutability).toBe("IMMUTABLE")

    const report = await readReport(sync.report)
    expect(report.images.every((i) => (i as { repositoryCreated?: boolean }).repositoryCreated === true)).toBe(true)
    expect(sync.stdout).toContain("(created repository)")
    // What the registry holds, read by another client.
    for (const s of seed) {
      const tag = s.image.tag ?? s.image.sourceTag!
      expect(await skopeoDigest(`${upstream.host}/mirror/${s.image.repository}:${tag}`)).toBe(s.pushed.digest)
      expect(await skopeoDigest(`${upstream.host}/second/${s.image.repository}:${tag}`)).toBe(s.pushed.digest)
    }
    // Without the password GetAuthorizationToken handed out, the registry let nothing through.
    for (const r of [...ecr.requests(), ...ecrSecond.requests()]) if (!r.authorized) expect(r.status).toBe(401)
  }, 120_000)

  test("a second run creates nothing and is all present, with no write", async () => {
    const before = api.calls().length
    ecr.clearRequests()
    const again = await run("again", definition([`${ecr.host}/mirror/`], { createRepositories: true }))
    expect(again.code, describeRun(again)).toBe(0)
    expect(resultLines(again).map((l) => l.status)).toEqual(seed.map(() => "present"))
    const calls = api.calls().slice(before)
    expect(calls.map((c) => c.operation)).toEqual(["GetAuthorizationToken"])
    expect(ecr.requests().filter((r) => WRITES.has(r.method))).toEqual([])
  }, 60_000)
})

describe("without createRepositories", () => {
  test("every image is RepositoryNotFound naming its repository and the option, exit 1, nothing written", async () => {
    const before = api.calls().length
    ecr.clearRequests()
    const failed = await run("missing", definition([`${ecr.host}/absent/`]))
    expect(failed.code, describeRun(failed)).toBe(1)
    const report = await readReport(failed.report)
    expect(report.images).toHaveLength(seed.length)
    for (const image of report.images) {
      expect(image.status).toBe("failed")
      expect(image.errorType).toBe("RepositoryNotFound")
      const repository = image.target.slice(ecr.host.length + 1).replace(/:[^:]*$/, "")
      expect(image.error).toBe(
        `repository ${repository} does not exist on ${ecr.host}; create it first (ECR: set createRepositories: true, or enable create-on-push with a repository creation template)`
      )
    }
    expect(api.calls().slice(before).map((c) => c.operation)).toEqual(["GetAuthorizationToken"])
    // Every write was refused by the personality; the registry behind it has no such repository.
    const writes = ecr.requests().filter((r) => WRITES.has(r.method))
    expect(writes.length).toBeGreaterThan(0)
    expect(writes.every((r) => r.status === 404)).toBe(true)
    const catalog = (await (await fetch(`${upstream.url}/v2/_catalog?n=1000`, { proxy: false } as RequestInit)).json()) as { repositories: Array<string> }
    expect(catalog.repositories.filter((r) => r.startsWith("absent/"))).toEqual([])
  }, 60_000)
})

describe("dry run and plan", () => {
  test("nothing is created; the result says would create repository, and plan names each", async () => {
    const before = api.calls().length
    ecr.clearRequests()
    const dry = await run("dry", definition([`${ecr.host}/dry/`], { createRepositories: true }), ["--dry-run"])
    expect(dry.code, describeRun(dry)).toBe(0)
    const lines = resultLines(dry)
    expect(lines.map((l) => l.status)).toEqual(seed.map(() => "planned"))
    for (const l of lines) expect(l.line).toContain("(would create repository)")
    const report = await readReport(dry.report)
    expect(report.images.every((i) => (i as { wouldCreateRepository?: boolean }).wouldCreateRepository === true)).toBe(true)

    const planFile = await writeDefinition(dir, "plan.yaml", definition([`${ecr.host}/dry/`], { createRepositories: true }))
    const plan = await runCli(["plan", "-i", planFile, "--output", "plain"], { home, env: cloudEnv(home, { ecr: api, metadataHost: closedMetadata }) })
    expect(plan.code, describeRun(plan)).toBe(0)
    for (const repository of repositoriesUnder("dry/")) expect(plan.stdout).toContain(`would create repository ${ecr.host}/${repository}`)

    const calls = api.calls().slice(before)
    expect(calls.filter((c) => c.operation === "CreateRepository")).toEqual([])
    expect(api.repositories().filter((r) => r.name.startsWith("dry/"))).toEqual([])
    expect(ecr.requests().filter((r) => WRITES.has(r.method))).toEqual([])
  }, 60_000)
})

describe("when the cloud identity is missing or refused", () => {
  /** The first seed image into `host` (a personality of `account`), with `registries` for it. */
  const one = (host: string, options: Record<string, unknown>, create = false): DefinitionSpec =>
    ({
      targetRepoPrefix: `${host}/refused/`,
      registries: { "docker.io": { mirror: source.host }, [host]: options },
      ...(create ? { createRepositories: true } : {}),
      images: [{ source: seed[0]!.source }]
    }) as DefinitionSpec

  const failure = async (name: string, spec: DefinitionSpec, env: Record<string, string>) => {
    const result = await run(name, spec, [], env)
    expect(result.code, describeRun(result)).toBe(1)
    const [image] = (await readReport(result.report)).images
    expect(image?.status).toBe("failed")
    return { result, image: image! }
  }

  test("credentials AWS refuses: Unauthorized naming the registry, the provider and the call; no secret printed", async () => {
    const { result, image } = await failure("refused", one(ecr.host, { cloud: "ecr", region: REGION }), { AWS_ACCESS_KEY_ID: "AKIDUNKNOWN" })
    expect(image.errorType).toBe("Unauthorized")
    expect(image.error).toBe(
      `${ecr.host}: access denied (HTTP 401): ecr (AWS SDK): GetAuthorizationToken for ${ecr.host} (${REGION}): AWS refused the credentials: UnrecognizedClientException: The security token included in the request is invalid.`
    )
    expect(`${result.stdout}${result.stderr}`).not.toContain("standin-secret")
  }, 60_000)

  test("no AWS credentials anywhere: Unauthorized saying what the SDK's chain tried", async () => {
    const { image } = await failure("no-credentials", one(ecr.host, { cloud: "ecr", region: REGION }), { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" })
    expect(image.errorType).toBe("Unauthorized")
    expect(image.error).toStartWith(
      `${ecr.host}: access denied (HTTP 401): ecr (AWS SDK): GetAuthorizationToken for ${ecr.host} (${REGION}): no AWS credentials: the AWS SDK's default credential chain found none (it tried AWS_ACCESS_KEY_ID`
    )
  }, 60_000)

  test("no region for a host whose name does not say it: Unauthorized naming the missing region and where to set it", async () => {
    const { image } = await failure("no-region", one(ecr.host, { cloud: "ecr" }), {})
    expect(image.errorType).toBe("Unauthorized")
    expect(image.error).toBe(
      `${ecr.host}: access denied (HTTP 401): ecr (AWS SDK): GetAuthorizationToken for ${ecr.host}: no AWS region: set registries."${ecr.host}".region, or AWS_REGION`
    )
  }, 60_000)

  test("an identity without ecr:CreateRepository: Unauthorized naming the action, nothing written", async () => {
    const denying = startEcrApi({ denyCreate: true })
    const personality = startEcrRegistry(upstream.url, denying)
    try {
      const file = await writeDefinition(dir, "deny.yaml", one(personality.host, { cloud: "ecr", region: REGION }, true))
      const result = await runCli(["-i", file, "--output", "plain", "--report", `${dir}/deny.json`], {
        home,
        env: cloudEnv(home, { ecr: denying, metadataHost: closedMetadata })
      })
      expect(result.code, describeRun(result)).toBe(1)
      const [image] = (await readReport(`${dir}/deny.json`)).images
      expect(image?.errorType).toBe("Unauthorized")
      expect(image?.error).toContain(
        `${personality.host}: access denied (HTTP 403): ecr (AWS SDK): CreateRepository for ${personality.host} (${REGION}): AWS refused the credentials: AccessDeniedException: User: arn:aws:iam::`
      )
      expect(image?.error).toContain("is not authorized to perform: ecr:CreateRepository")
      expect(personality.requests().filter((r) => WRITES.has(r.method))).toEqual([])
    } finally {
      await Promise.all([denying.stop(), personality.stop()])
    }
  }, 60_000)
})

describe("the token's lifetime (in process, on a clock the test moves)", () => {
  test("fetched once per run and registry, and again after it expired; the new password is the one used", async () => {
    const time = shiftedClock()
    // Ten minutes, as a short-lived token: the chain asks again five minutes before it ends.
    const account = startEcrApi({ expirySeconds: 600, now: time.now })
    const personality = startEcrRegistry(upstream.url, account)
    const restore = setProcessEnv({ ...cloudEnv(home, { ecr: account, metadataHost: closedMetadata }), NO_PROXY: "*", HOME: home })
    try {
      const spec = (prefix: string) =>
        ({
          ...one(personality.host, prefix),
          images: seed.map(({ image, source: src }) => ({
            source: src,
            ...(image.tag ? { tag: image.tag } : {}),
            ...(image.amd64Only ? { amd64Only: true } : {})
          }))
        }) as DefinitionSpec
      const first = await writeDefinition(dir, "expiry-1.yaml", spec("expiry-one/"))
      const second = await writeDefinition(dir, "expiry-2.yaml", spec("expiry-two/"))
      const program = Effect.gen(function*() {
        const d1 = yield* loadDefinition(first)
        const d2 = yield* loadDefinition(second)
        const ecrApi = runEcrApi()
        const live = pipelineLayer({
          dryRun: false,
          concurrency: 8,
          credentials: [EcrAuth.provider(ecrApi, d1.registries)],
          repositories: repositoriesFor(d1, ecrApi)!
        }).pipe(Layer.provide(Layer.merge(FetchHttpClient.layer, BunContext.layer)))
        return yield* Effect.gen(function*() {
          const pipeline = yield* Pipeline
          const before = yield* pipeline.syncAll(d1)
          const tokensBefore = account.callsOf("GetAuthorizationToken").length
          time.advance("11 minutes")
          const after = yield* pipeline.syncAll(d2)
          return { before, tokensBefore, after }
        }).pipe(Effect.provide(live))
      }).pipe(Effect.withClock(time.clock))
      const { before, tokensBefore, after } = await Effect.runPromise(program)
      expect(before.map((r) => r.status)).toEqual(seed.map(() => "synced"))
      expect(tokensBefore).toBe(1)
      expect(after.map((r) => [r.status, r.error])).toEqual(seed.map(() => ["synced", undefined]))
      expect(account.callsOf("GetAuthorizationToken")).toHaveLength(2)
      // The first password had expired on the registry's clock: any request with it would have been a 401.
      expect(personality.requests().filter((r) => r.authorized && r.status === 401)).toEqual([])
    } finally {
      restore()
      await Promise.all([account.stop(), personality.stop()])
    }
  }, 120_000)

  /** Seed entries into `prefix` on `host` with createRepositories. */
  const one = (host: string, prefix: string): DefinitionSpec =>
    ({
      targetRepoPrefix: `${host}/${prefix}`,
      createRepositories: true,
      registries: { "docker.io": { mirror: source.host }, [host]: { cloud: "ecr", region: REGION } },
      images: []
    }) as unknown as DefinitionSpec
})

describe("a definition error", () => {
  test("createRepositories with a target that is not ECR: exit 2, file:line:col naming the host, nothing contacted", async () => {
    await upstream.resetRequests()
    const before = api.calls().length
    const file = await writeDefinition(dir, "not-ecr.yaml", {
      ...definition([`${upstream.host}/mirror/`], { createRepositories: true }),
      registries: { "docker.io": { mirror: source.host } }
    })
    const result = await runCli(["-i", file, "--output", "plain"], { home, env: cloudEnv(home, { ecr: api, metadataHost: closedMetadata }) })
    expect(result.code, describeRun(result)).toBe(2)
    expect(result.stderr).toContain(`${file}:15:1: createRepositories is for ECR targets only; target registry ${upstream.host} is not ECR`)
    expect(result.stderr).not.toContain("    at ")
    await upstream.settle()
    expect(upstream.requests()).toEqual([])
    expect(api.calls().length).toBe(before)
  }, 60_000)
})
