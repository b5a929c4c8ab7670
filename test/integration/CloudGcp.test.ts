/**
 * Artifact Registry / GCR with the cloud identity: google-auth-library's Application Default
 * Credentials reach a metadata server stand-in (GCE_METADATA_HOST); a real docker-registry
 * with token auth whose token server accepts Basic `oauth2accesstoken` with exactly the access
 * token the metadata server handed out last. No key file, no docker config.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { FetchHttpClient } from "@effect/platform"
import { BunContext } from "@effect/platform-bun"
import { Effect, Layer } from "effect"
import { pipelineLayer } from "../../src/composition/Live.ts"
import { loadDefinition } from "../../src/definition/Load.ts"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { Pipeline } from "../../src/pipeline/Pipeline.ts"
import * as GcpAuth from "../../plugins/auth/gcp.ts"
import { cloudEnv, closedPort, setProcessEnv } from "../support/CloudEnv.ts"
import { startGceMetadata, tokenCalls } from "../support/GceMetadata.ts"
import type { GceMetadata } from "../support/GceMetadata.ts"
import { pushSeed, seedImages } from "../support/SeedSet.ts"
import type { SeededImage } from "../support/SeedSet.ts"
import { shiftedClock } from "../support/ShiftedClock.ts"
import { skopeoDigest } from "../support/Skopeo.ts"
import { startTokenServer } from "../support/TokenServer.ts"
import type { TokenServer } from "../support/TokenServer.ts"
import { describeRun, makeTempDir, readReport, removeDir, resultLines, runCli, writeDefinition } from "./helpers.ts"
import type { DefinitionSpec } from "./helpers.ts"

/** A token-auth registry whose token server takes `oauth2accesstoken` with the metadata server's latest token only. */
interface GoogleLike {
  readonly metadata: GceMetadata
  readonly tokens: TokenServer
  readonly registry: LocalRegistry
}

const startGoogleLike = async (expiresInSeconds?: number): Promise<GoogleLike> => {
  const metadata = startGceMetadata(expiresInSeconds === undefined ? {} : { expiresInSeconds })
  const tokens = await startTokenServer({ users: (user) => (user === "oauth2accesstoken" ? metadata.current() : undefined) })
  const registry = await startRegistry({
    token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle }
  })
  return { metadata, tokens, registry }
}

const stopGoogleLike = (g: GoogleLike | undefined) => Promise.all([g?.metadata.stop(), g?.tokens.stop(), g?.registry.stop()])

let source: LocalRegistry
let google: GoogleLike
let dir: string
let home: string
let seed: ReadonlyArray<SeededImage>

const spec = (host: string, prefix: string, registry: Record<string, unknown> = { cloud: "gcp" }): DefinitionSpec =>
  ({
    targetRepoPrefix: `${host}/${prefix}`,
    registries: { "docker.io": { mirror: source.host }, [host]: registry },
    images: seed.map(({ image, source: src }) => ({
      source: src,
      ...(image.tag === undefined ? {} : { tag: image.tag }),
      ...(image.amd64Only === undefined ? {} : { amd64Only: image.amd64Only })
    }))
  }) as DefinitionSpec

beforeAll(async () => {
  source = await startRegistry()
  google = await startGoogleLike()
  dir = await makeTempDir("cloud-gcp")
  home = await makeTempDir("cloud-gcp-home")
  seed = await pushSeed(source.url, seedImages("cloud-gcp"))
}, 120_000)

afterAll(async () => {
  await Promise.all([source?.stop(), stopGoogleLike(google)])
  await Promise.all([removeDir(dir), removeDir(home)])
})

describe("Application Default Credentials from the metadata server", () => {
  test("the seed syncs with no key file: one access token for the run, sent as oauth2accesstoken to the token server", async () => {
    const file = await writeDefinition(dir, "gcp.yaml", spec(google.registry.host, "gcp/"))
    const sync = await runCli(["-i", file, "-j", "8", "--output", "plain"], { home, env: cloudEnv(home, { metadataHost: google.metadata.host }) })
    expect(sync.code, describeRun(sync)).toBe(0)
    expect(resultLines(sync).map((l) => l.status)).toEqual(seed.map(() => "synced"))
    expect(tokenCalls(google.metadata)).toHaveLength(1)
    expect(google.metadata.calls().every((c) => c.flavored)).toBe(true)
    const asked = google.tokens.requests()
    expect(asked.length).toBeGreaterThan(0)
    expect(asked.every((r) => r.username === "oauth2accesstoken")).toBe(true)
    for (const s of seed) {
      const repository = `gcp/${s.image.repository}`
      const token = google.tokens.mint([{ type: "repository", name: repository, actions: ["pull"] }])
      expect(await skopeoDigest(`${google.registry.host}/${repository}:${s.image.tag ?? s.image.sourceTag}`, { registryToken: token })).toBe(s.pushed.digest)
    }
  }, 120_000)

  test("with no ADC at all the images fail at once as Unauthorized naming the provider and the registry", async () => {
    const file = await writeDefinition(dir, "no-adc.yaml", spec(google.registry.host, "no-adc/"))
    const report = `${dir}/no-adc.json`
    const before = google.tokens.requests().length
    const run = await runCli(["-i", file, "-j", "8", "--output", "plain", "--report", report], {
      home,
      env: cloudEnv(home, { metadataHost: `127.0.0.1:${await closedPort()}` })
    })
    expect(run.code, describeRun(run)).toBe(1)
    const written = await readReport(report)
    for (const image of written.images) {
      expect(image.errorType).toBe("Unauthorized")
      expect(image.error).toBe(
        `${google.registry.host}: access denied (HTTP 401): gcp (Application Default Credentials): no Application Default Credentials found (tried GOOGLE_APPLICATION_CREDENTIALS, gcloud's application_default_credentials.json and the metadata server (GCE_METADATA_HOST, else metadata.google.internal))`
      )
    }
    // Nothing was sent to the token server without credentials, and the run did not wait on a metadata server.
    expect(google.tokens.requests().length).toBe(before)
    expect((written as unknown as { durationMs: number }).durationMs).toBeLessThan(15_000)
  }, 60_000)
})

describe("a token that expires (in process, on a clock the test moves)", () => {
  let short: GoogleLike | undefined

  afterAll(async () => {
    await stopGoogleLike(short)
  })

  test("the refreshed access token is the one used after the first expired", async () => {
    // Four minutes: shorter than the library's own five-minute margin, so each asking gets a fresh token.
    short = await startGoogleLike(240)
    const g = short
    const time = shiftedClock()
    const restore = setProcessEnv({ ...cloudEnv(home, { metadataHost: g.metadata.host }), NO_PROXY: "*", HOME: home })
    try {
      const first = await writeDefinition(dir, "refresh-1.yaml", spec(g.registry.host, "refresh-one/"))
      const second = await writeDefinition(dir, "refresh-2.yaml", spec(g.registry.host, "refresh-two/"))
      const program = Effect.gen(function*() {
        const d1 = yield* loadDefinition(first)
        const d2 = yield* loadDefinition(second)
        const live = pipelineLayer({ dryRun: false, concurrency: 8, credentials: [GcpAuth.provider(d1.registries)] }).pipe(
          Layer.provide(Layer.merge(FetchHttpClient.layer, BunContext.layer))
        )
        return yield* Effect.gen(function*() {
          const pipeline = yield* Pipeline
          const before = yield* pipeline.syncAll(d1)
          const tokensBefore = tokenCalls(g.metadata).length
          const realmBefore = g.tokens.requests().length
          // Past the access token's life and the registry token's (five minutes).
          time.advance("2 hours")
          const after = yield* pipeline.syncAll(d2)
          return { before, tokensBefore, realmBefore, after }
        }).pipe(Effect.provide(live))
      }).pipe(Effect.withClock(time.clock))
      const { before, tokensBefore, realmBefore, after } = await Effect.runPromise(program)
      expect(before.map((r) => r.status)).toEqual(seed.map(() => "synced"))
      expect(tokensBefore).toBe(1)
      expect(after.map((r) => [r.status, r.error])).toEqual(seed.map(() => ["synced", undefined]))
      // One new access token, and the token server (which takes only the latest) was asked with it.
      expect(tokenCalls(g.metadata)).toHaveLength(2)
      expect(g.tokens.requests().length).toBeGreaterThan(realmBefore)
    } finally {
      restore()
    }
  }, 120_000)
})
