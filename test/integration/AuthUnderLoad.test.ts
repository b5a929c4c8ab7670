/**
 * Credentials with many images in flight, against real registries behind auth stand-ins:
 * - a target whose `/v2/` is open but whose repositories want Basic (or Bearer) credentials:
 *   every image gets the key the first one got, cold and warm, at -j 8;
 * - tokens the registry stops accepting after a second while the token service still
 *   announces five minutes, with images slower than that: the refused token is dropped and a
 *   fresh one fetched, on the target side and on the source side;
 * - 30 tags of one repository at -j 32 against token-auth registries with a slow token
 *   service: one token request per scope and side.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import { startAuthProxy } from "../support/AuthProxy.ts"
import type { AuthProxy } from "../support/AuthProxy.ts"
import { startFaultProxy } from "../support/FaultProxy.ts"
import type { FaultProxy } from "../support/FaultProxy.ts"
import { skopeoDigest } from "../support/Skopeo.ts"
import { startTokenServer } from "../support/TokenServer.ts"
import type { TokenServer } from "../support/TokenServer.ts"
import { describeRun, makeTempDir, readReport, removeDir, resultLines, runCli, settledRequests, SMALL, TWO_PLATFORMS, writeDefinition } from "./helpers.ts"
import type { CliRun } from "./helpers.ts"

const TIMEOUT = 120_000
const KEY = "{\"type\":\"service_account\",\"private_key_id\":\"under-load\"}\n"

let dir: string
let src: LocalRegistry
let dst: LocalRegistry
const stops: Array<() => Promise<void>> = []

const IMAGES = 20
const repositories = Array.from({ length: IMAGES }, (_, i) => `load/app${String(i).padStart(2, "0")}`)

beforeAll(async () => {
  dir = await makeTempDir("auth-load")
  ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
  await Promise.all(repositories.map((r, i) => pushImage(src.url, r, "1", { platforms: TWO_PLATFORMS, seed: `load-${i}`, ...SMALL })))
}, TIMEOUT)

afterAll(async () => {
  for (const stop of stops.splice(0).reverse()) await stop()
  await Promise.all([src?.stop(), dst?.stop()])
  await removeDir(dir)
}, 60_000)

const statuses = (run: CliRun) => resultLines(run).map((l) => l.status)

describe("a target whose /v2/ is open and whose repositories want credentials: every image gets them (-j 8)", () => {
  for (const mode of ["basic", "bearer"] as const) {
    test(`${mode}: 20 images with --target-repo-auth-key all synced cold, all present warm`, async () => {
      const proxy: AuthProxy = startAuthProxy(dst.url, { mode, username: "_json_key", password: KEY })
      stops.push(proxy.stop)
      const keyPath = join(dir, `key-${mode}.json`)
      await writeFile(keyPath, KEY)
      const file = await writeDefinition(dir, `open-${mode}.yaml`, {
        targetRepoPrefix: `${proxy.host}/${mode}/`,
        images: repositories.map((r) => ({ source: `${src.host}/${r}:1` }))
      })
      const cold = await runCli(["-i", file, "-t", keyPath, "-j", "8"], { home: dir })
      expect(cold.code, describeRun(cold)).toBe(0)
      expect(statuses(cold)).toEqual(Array(IMAGES).fill("synced"))
      const warm = await runCli(["-i", file, "-t", keyPath, "-j", "8"], { home: dir })
      expect(warm.code, describeRun(warm)).toBe(0)
      expect(statuses(warm)).toEqual(Array(IMAGES).fill("present"))
      // the content is really there, behind the stand-in's registry
      const sample = resultLines(cold)[7]!
      expect(await skopeoDigest(sample.target.replace(proxy.host, dst.host))).toBe(sample.digest)
      if (mode === "bearer") expect(proxy.tokenRequests().every((t) => t.granted)).toBe(true)
    }, TIMEOUT)
  }
})

/** A registry with token auth from `tokens`, its token service handing out tokens as `tokens` does. */
const tokenRegistry = async (tokens: TokenServer): Promise<LocalRegistry> => {
  const registry = await startRegistry({
    token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle }
  })
  stops.push(registry.stop)
  return registry
}

/** A docker config.json in its own directory with Basic credentials for `host`; the directory. */
const dockerConfig = async (name: string, auths: Record<string, { readonly username: string; readonly password: string }>) => {
  const home = join(dir, name)
  await mkdir(join(home, ".docker"), { recursive: true })
  const entries = Object.fromEntries(Object.entries(auths).map(([host, c]) => [host, { auth: Buffer.from(`${c.username}:${c.password}`).toString("base64") }]))
  await writeFile(join(home, ".docker", "config.json"), JSON.stringify({ auths: entries }))
  return home
}

describe("tokens the registry stops accepting after 2 s, images slower than that (-j 8)", () => {
  test("every image synced; after each refusal the token service was asked again, on both sides", async () => {
    const srcTokens = await startTokenServer({ users: { reader: "reader-pass" }, acceptedForSeconds: 2 })
    const dstTokens = await startTokenServer({ users: { writer: "writer-pass" }, acceptedForSeconds: 2 })
    stops.push(srcTokens.stop, dstTokens.stop)
    const [authedSrc, authedDst] = await Promise.all([tokenRegistry(srcTokens), tokenRegistry(dstTokens)])
    const images = repositories.slice(0, 10)
    await Promise.all(
      images.map((r, i) =>
        pushImage(authedSrc.url, r, "1", { platforms: TWO_PLATFORMS, seed: `expiring-${i}`, ...SMALL }, {
          bearer: srcTokens.mint([{ type: "repository", name: r, actions: ["pull", "push"] }])
        })
      )
    )
    // Every source request takes 700 ms: an image takes several seconds, longer than a token lives.
    const slow: FaultProxy = await startFaultProxy({ upstream: authedSrc.url, onRequest: () => Bun.sleep(700) })
    stops.push(slow.stop)
    const home = await dockerConfig("expiring", {
      [slow.host]: { username: "reader", password: "reader-pass" },
      [authedDst.host]: { username: "writer", password: "writer-pass" }
    })
    await authedDst.resetRequests()
    const file = await writeDefinition(dir, "expiring.yaml", {
      targetRepoPrefix: `${authedDst.host}/expiring/`,
      images: images.map((r) => ({ source: `${slow.host}/${r}:1` }))
    })
    const run = await runCli(["-i", file, "-j", "8"], { home })
    expect(run.code, describeRun(run)).toBe(0)
    expect(statuses(run)).toEqual(Array(images.length).fill("synced"))
    // the run outlived the tokens: both registries refused some
    const refusedAtTarget = (await settledRequests(authedDst)).filter((r) => r.status === 401 && r.path !== "/v2/")
    const refusedAtSource = slow.requests().filter((r) => r.status === 401 && r.path !== "/v2/")
    expect(refusedAtTarget.length).toBeGreaterThan(0)
    expect(refusedAtSource.length).toBeGreaterThan(0)
    // each side's token service was asked again after the first token of a scope: fresh tokens after refusals
    for (const tokens of [srcTokens, dstTokens]) {
      const byScope = new Map<string, number>()
      for (const t of tokens.requests()) byScope.set(t.scopes.join(" "), (byScope.get(t.scopes.join(" ")) ?? 0) + 1)
      expect(Math.max(...byScope.values())).toBeGreaterThan(1)
    }
    expect(run.stdout + run.stderr).not.toContain("reader-pass")
  }, TIMEOUT)
})

describe("30 tags of one repository at -j 32, token-auth source and target, a token service taking 300 ms", () => {
  test("one token request per scope and side; every tag synced", async () => {
    const srcTokens = await startTokenServer({ users: { reader: "reader-pass" }, delayMs: 300 })
    const dstTokens = await startTokenServer({ users: { writer: "writer-pass" }, delayMs: 300 })
    stops.push(srcTokens.stop, dstTokens.stop)
    const [authedSrc, authedDst] = await Promise.all([tokenRegistry(srcTokens), tokenRegistry(dstTokens)])
    const pushToken = srcTokens.mint([{ type: "repository", name: "many/tags", actions: ["pull", "push"] }])
    const tags = Array.from({ length: 30 }, (_, i) => `t${String(i).padStart(2, "0")}`)
    for (const tag of tags) await pushImage(authedSrc.url, "many/tags", tag, { platforms: TWO_PLATFORMS, seed: `many-${tag}`, ...SMALL }, { bearer: pushToken })
    const home = await dockerConfig("many-tags", {
      [authedSrc.host]: { username: "reader", password: "reader-pass" },
      [authedDst.host]: { username: "writer", password: "writer-pass" }
    })
    const file = await writeDefinition(dir, "many-tags.yaml", {
      targetRepoPrefix: `${authedDst.host}/many/`,
      images: [{ source: `${authedSrc.host}/many/tags`, tags: { match: "^t" } }]
    })
    const reportPath = join(dir, "many-tags.report.json")
    const before = { src: srcTokens.requests().length, dst: dstTokens.requests().length }
    const run = await runCli(["-i", file, "-j", "32", "--report", reportPath], { home })
    expect(run.code, describeRun(run)).toBe(0)
    expect((await readReport(reportPath)).summary["synced"]).toBe(30)
    for (const [tokens, from] of [[srcTokens, before.src], [dstTokens, before.dst]] as const) {
      const asked = tokens.requests().slice(from).map((t) => [...t.scopes].sort().join(" "))
      const counts = new Map<string, number>()
      for (const scope of asked) counts.set(scope, (counts.get(scope) ?? 0) + 1)
      expect([...counts.entries()].filter(([, n]) => n > 1)).toEqual([])
    }
  }, TIMEOUT)
})
