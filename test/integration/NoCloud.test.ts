/**
 * A run with no cloud registry is what it was: the cloud SDKs are never loaded (a preload
 * poisons them and records any attempt), no cloud endpoint is contacted although test
 * credentials and reachable stand-ins are in the environment, and the registry sees the same
 * requests as in an environment without any cloud variable. The same preload shows that a run
 * with an ECR or Google target does load them (the poison can catch something).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry, LoggedRequest } from "../../demo/LocalRegistry.ts"
import { cloudEnv } from "../support/CloudEnv.ts"
import { startEcrApi } from "../support/EcrApi.ts"
import type { EcrApiStandIn } from "../support/EcrApi.ts"
import { startGceMetadata } from "../support/GceMetadata.ts"
import type { GceMetadata } from "../support/GceMetadata.ts"
import { startEcrRegistry } from "../support/registries/Ecr.ts"
import type { EcrRegistry } from "../support/registries/Ecr.ts"
import { pushSeed, seedImages, writeSeedDefinition } from "../support/SeedSet.ts"
import type { SeededImage } from "../support/SeedSet.ts"
import { describeRun, makeTempDir, readReport, removeDir, REPO_ROOT, resultLines, runCli, settledRequests, writeDefinition } from "./helpers.ts"

const POISON = join(REPO_ROOT, "test", "fixtures", "cloud", "poisonSdks.ts")

let source: LocalRegistry
let target: LocalRegistry
let api: EcrApiStandIn
let metadata: GceMetadata
let ecr: EcrRegistry
let dir: string
let home: string
let seed: ReadonlyArray<SeededImage>

/** The CLI with the poison preloaded; what it tried to load. */
const poisoned = async (name: string, args: ReadonlyArray<string>, env: Record<string, string>) => {
  const log = join(dir, `${name}.loads`)
  const run = await runCli(args, { home, bunArgs: ["--preload", POISON], env: { ...env, SDK_LOAD_LOG: log } })
  return { run, loaded: existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((l) => l !== "") : [] }
}

/**
 * A registry log as a comparable multiset: method, route after the repository (upload sessions
 * as "*"), status. The repository is left out: which of two images sharing a layer uploads it
 * and which mounts it is a race between them, in any run.
 */
const shape = (requests: ReadonlyArray<LoggedRequest>, prefix: string) =>
  requests
    .filter((r) => r.path.startsWith(`/v2/${prefix}`))
    .map((r) =>
      `${r.method} ${r.path.split("?")[0]!.replace(/^.*?\/(manifests|blobs|tags)\//, "$1/").replace(/^blobs\/uploads\/[^/]+$/, "blobs/uploads/*")} ${r.status}`
    )
    .sort()

beforeAll(async () => {
  ;[source, target] = await Promise.all([startRegistry(), startRegistry()])
  api = startEcrApi()
  metadata = startGceMetadata()
  ecr = startEcrRegistry(target.url, api)
  dir = await makeTempDir("no-cloud")
  home = await makeTempDir("no-cloud-home")
  seed = await pushSeed(source.url, seedImages("no-cloud"))
}, 120_000)

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop(), api?.stop(), metadata?.stop(), ecr?.stop()])
  await Promise.all([removeDir(dir), removeDir(home)])
})

describe("a run without a cloud registry", () => {
  test("never loads the SDKs, contacts no cloud, and sends the registry the same requests as with no cloud variable at all", async () => {
    const withCloud = await writeSeedDefinition(dir, "with-cloud.yaml", target.host, source.host, seed)
    const { run, loaded } = await poisoned(
      "plain",
      ["-i", withCloud, "-j", "8", "--output", "plain", "-r", `${target.host}/with-cloud/`],
      cloudEnv(home, { ecr: api, metadataHost: metadata.host })
    )
    expect(run.code, describeRun(run)).toBe(0)
    expect(resultLines(run).map((l) => l.status)).toEqual(seed.map(() => "synced"))
    expect(loaded).toEqual([])
    expect(api.calls()).toEqual([])
    expect(metadata.calls()).toEqual([])

    const bare = await runCli(["-i", withCloud, "-j", "8", "--output", "plain", "-r", `${target.host}/bare/`], { home })
    expect(bare.code, describeRun(bare)).toBe(0)
    const requests = await settledRequests(target)
    expect(shape(requests, "with-cloud/")).toEqual(shape(requests, "bare/"))
  }, 120_000)
})

describe("the poison catches a run that needs a cloud SDK", () => {
  test("an ECR target loads @aws-sdk/client-ecr", async () => {
    const file = await writeDefinition(dir, "ecr.yaml", {
      targetRepoPrefix: `${ecr.host}/poisoned/`,
      registries: { "docker.io": { mirror: source.host }, [ecr.host]: { cloud: "ecr", region: "eu-west-1" } as never },
      images: [{ source: seed[0]!.source }]
    })
    const report = join(dir, "ecr.json")
    const { run, loaded } = await poisoned(
      "ecr",
      ["-i", file, "--output", "plain", "--report", report],
      cloudEnv(home, { ecr: api, metadataHost: metadata.host })
    )
    expect(run.code, describeRun(run)).toBe(1)
    expect(loaded.some((path) => path.includes("/@aws-sdk/client-ecr/"))).toBe(true)
    expect((await readReport(report)).images[0]?.error).toContain("poisoned")
  }, 60_000)

  test("a Google target loads google-auth-library", async () => {
    // Providers are asked only behind a challenge: the ECR personality's, for a host said to be Google's.
    const file = await writeDefinition(dir, "gcp.yaml", {
      targetRepoPrefix: `${ecr.host}/poisoned-gcp/`,
      registries: { "docker.io": { mirror: source.host }, [ecr.host]: { cloud: "gcp" } as never },
      images: [{ source: seed[0]!.source }]
    })
    const report = join(dir, "gcp.json")
    const { run, loaded } = await poisoned("gcp", ["-i", file, "--output", "plain", "--report", report], cloudEnv(home, { metadataHost: metadata.host }))
    expect(run.code, describeRun(run)).toBe(1)
    expect(loaded.some((path) => path.includes("/google-auth-library/"))).toBe(true)
    expect((await readReport(report)).images[0]?.error).toContain("poisoned")
  }, 60_000)
})
