/**
 * Target credentials end to end: a GCR-style token registry (Basic `_json_key` + key file at
 * the realm), access tokens by flag and by environment, an htpasswd registry with docker
 * config.json, and anonymous. Every run has `--debug` and a report, and none of them may show
 * a secret: the key file content, the minted tokens, the htpasswd password.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { randomBytes } from "node:crypto"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage } from "../../demo/SampleImages.ts"
import { skopeoDigest } from "../support/Skopeo.ts"
import type { SkopeoReadOptions } from "../support/Skopeo.ts"
import { startTokenServer } from "../support/TokenServer.ts"
import type { TokenServer } from "../support/TokenServer.ts"
import { AMD64, describeRun, headManifest, makeTempDir, removeDir, resultLines, runCli, SMALL, TWO_PLATFORMS, writeDefinition } from "./helpers.ts"
import type { CliRun } from "./helpers.ts"

const KEY_MARKER = `PLANTED-SECRET-KEY-${randomBytes(8).toString("hex")}`
const WRONG_KEY_MARKER = `PLANTED-SECRET-WRONG-KEY-${randomBytes(8).toString("hex")}`
const HT_USER = "syncer"
const HT_PASSWORD = `PLANTED-SECRET-PASSWORD-${randomBytes(8).toString("hex")}`

/** A service-account key file as GCR wants it: pretty-printed JSON, so the content has newlines. */
const keyFile = (marker: string): string =>
  `${
    JSON.stringify(
      {
        type: "service_account",
        project_id: "syncer-test",
        private_key_id: randomBytes(20).toString("hex"),
        private_key: `-----BEGIN PRIVATE KEY-----\n${marker}\n-----END PRIVATE KEY-----\n`,
        client_email: "image-syncer@syncer-test.iam.gserviceaccount.com",
        client_id: "1234567890"
      },
      null,
      2
    )
  }\n`

const KEY = keyFile(KEY_MARKER)
const WRONG_KEY = keyFile(WRONG_KEY_MARKER)

/** The images: repository under "auth/" in the source, tag "1"; one index, one single amd64 manifest. */
const IMAGES = [
  { repository: "auth/app", amd64Only: false },
  { repository: "auth/tool", amd64Only: true }
] as const

let src: LocalRegistry
let tokens: TokenServer
let gcr: LocalRegistry
let ht: LocalRegistry
let dir: string
let homeEmpty: string
let homeDockerConfig: string
const pushed: Record<string, PushedImage> = {}

/** One CLI run of this file, kept for the secret checks. */
interface AuthRun {
  readonly name: string
  readonly run: CliRun
  readonly report: string
}
const runs: Array<AuthRun> = []
/** every token minted for the runs */
const mintedTokens: Array<string> = []

/** Target repository of an image under a prefix path, e.g. "keyfile/127.0.0.1-PORT/auth/app". */
const targetRepo = (prefixPath: string, repository: string): string => `${prefixPath}/${src.host.replace(":", "-")}/${repository}`

/** A minted token with the given actions on every image's target repository under prefixPath. */
const mintFor = (prefixPath: string, actions: ReadonlyArray<string>): string =>
  tokens.mint(IMAGES.map((i) => ({ type: "repository", name: targetRepo(prefixPath, i.repository), actions })))

/** Runs the CLI with --debug and a report against `registry` under `prefixPath`; records it. */
const authRun = async (
  name: string,
  registry: LocalRegistry,
  prefixPath: string,
  extraArgs: ReadonlyArray<string>,
  options: { readonly home?: string; readonly env?: Record<string, string> } = {}
): Promise<AuthRun> => {
  const report = join(dir, `report-${name}.json`)
  const run = await runCli(
    ["-i", join(dir, "images.yaml"), "-r", `${registry.host}/${prefixPath}/`, "--debug", "--report", report, ...extraArgs],
    { home: options.home ?? homeEmpty, ...(options.env === undefined ? {} : { env: options.env }) }
  )
  const recorded = { name, run, report: await readFile(report, "utf8").catch(() => "") }
  runs.push(recorded)
  return recorded
}

/** Every image synced and its target digest equal to the source's (read back with skopeo). */
const expectSynced = async (r: AuthRun, registry: LocalRegistry, prefixPath: string, read: SkopeoReadOptions) => {
  expect(r.run.code, describeRun(r.run)).toBe(0)
  const lines = resultLines(r.run)
  expect(lines.map((l) => l.status)).toEqual(["synced", "synced"])
  for (const image of IMAGES) {
    const target = `${registry.host}/${targetRepo(prefixPath, image.repository)}:1`
    expect(await skopeoDigest(target, read), target).toBe(pushed[image.repository]!.digest)
  }
  expect(r.report).toContain("\"status\": \"synced\"")
}

/** Every image failed with an access-denied message naming the registry; exit 1. */
const expectDenied = (r: AuthRun, registry: LocalRegistry) => {
  expect(r.run.code, describeRun(r.run)).toBe(1)
  const lines = resultLines(r.run)
  expect(lines).toHaveLength(2)
  for (const line of lines) {
    expect(line.status, describeRun(r.run)).toBe("failed")
    expect(line.error).toMatch(/access denied|unauthorized/i)
    expect(line.error).toContain(registry.host)
  }
  // an expected error: no stack trace
  expect(r.run.stderr).not.toMatch(/^\s+at /m)
}

beforeAll(async () => {
  tokens = await startTokenServer({ users: { _json_key: KEY } })
  ;[src, gcr, ht] = await Promise.all([
    startRegistry(),
    startRegistry({
      token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle }
    }),
    startRegistry({ htpasswd: { username: HT_USER, password: HT_PASSWORD } })
  ])
  dir = await makeTempDir("auth")
  homeEmpty = join(dir, "home-empty")
  homeDockerConfig = join(dir, "home-docker-config")
  await mkdir(homeEmpty)
  await mkdir(join(homeDockerConfig, ".docker"), { recursive: true })
  await writeFile(
    join(homeDockerConfig, ".docker", "config.json"),
    JSON.stringify({ auths: { [ht.host]: { auth: Buffer.from(`${HT_USER}:${HT_PASSWORD}`).toString("base64") } } })
  )
  await writeFile(join(dir, "key.json"), KEY, { mode: 0o600 })
  await writeFile(join(dir, "wrong-key.json"), WRONG_KEY, { mode: 0o600 })
  for (const image of IMAGES) {
    pushed[image.repository] = await pushImage(src.url, image.repository, "1", {
      platforms: image.amd64Only ? AMD64 : TWO_PLATFORMS,
      index: !image.amd64Only,
      seed: image.repository,
      ...SMALL
    })
  }
  // the file's prefix is never used: every run gives its own with -r
  await writeDefinition(dir, "images.yaml", {
    targetRepoPrefix: "example.invalid/overridden-by-r/",
    images: IMAGES.map((i) => ({ source: `${src.host}/${i.repository}:1`, ...(i.amd64Only ? { amd64Only: true } : {}) }))
  })
}, 60_000)

afterAll(async () => {
  await Promise.all([src?.stop(), gcr?.stop(), ht?.stop()])
  await tokens?.stop()
  await removeDir(dir)
}, 60_000)

describe("GCR-style token registry", () => {
  test("-t keyfile: Basic _json_key with the file's content at the realm; exit 0, digests correct", async () => {
    const r = await authRun("keyfile", gcr, "keyfile", ["-t", join(dir, "key.json")])
    await expectSynced(r, gcr, "keyfile", { registryToken: mintFor("keyfile", ["pull"]) })
    const asked = tokens.requests().filter((t) => t.scopes.some((s) => s.includes("keyfile/")))
    expect(asked.length).toBeGreaterThan(0)
    expect(asked.every((t) => t.username === "_json_key")).toBe(true)
    expect(asked.some((t) => t.scopes.some((s) => s.endsWith(":pull,push") || s.endsWith(":push,pull")))).toBe(true)
  })

  test("-t with a wrong key: every image failed with access denied, exit 1, nothing pushed", async () => {
    const r = await authRun("wrong-key", gcr, "wrongkey", ["-t", join(dir, "wrong-key.json")])
    expectDenied(r, gcr)
    const reader = { authorization: `Bearer ${mintFor("wrongkey", ["pull"])}` }
    for (const image of IMAGES) {
      expect((await headManifest(gcr.url, targetRepo("wrongkey", image.repository), "1", reader)).status).toBe(404)
    }
  })

  test("--access-token with a minted pull,push token: exit 0, digests correct", async () => {
    const token = mintFor("token", ["pull", "push"])
    mintedTokens.push(token)
    const r = await authRun("access-token", gcr, "token", ["--access-token", token])
    await expectSynced(r, gcr, "token", { registryToken: mintFor("token", ["pull"]) })
  })

  test("SYNCER_ACCESS_TOKEN in the environment works like --access-token", async () => {
    const token = mintFor("envtoken", ["pull", "push"])
    mintedTokens.push(token)
    const r = await authRun("env-token", gcr, "envtoken", [], { env: { SYNCER_ACCESS_TOKEN: token } })
    await expectSynced(r, gcr, "envtoken", { registryToken: mintFor("envtoken", ["pull"]) })
  })
})

describe("htpasswd registry", () => {
  test("credentials from docker config.json (DOCKER_CONFIG auths entry for 127.0.0.1:PORT): exit 0, digests correct", async () => {
    const r = await authRun("docker-config", ht, "dockercfg", [], { home: homeDockerConfig })
    await expectSynced(r, ht, "dockercfg", { creds: `${HT_USER}:${HT_PASSWORD}` })
  })

  test("anonymous: every image failed with an access-denied message naming the registry, exit 1", async () => {
    const r = await authRun("anonymous", ht, "anon", [])
    expectDenied(r, ht)
    for (const image of IMAGES) {
      const head = await headManifest(ht.url, targetRepo("anon", image.repository), "1", {
        authorization: `Basic ${Buffer.from(`${HT_USER}:${HT_PASSWORD}`).toString("base64")}`
      })
      expect(head.status).toBe(404)
    }
  })

  test("anonymous: the message says that no credentials were sent to the registry", () => {
    const r = runs.find((x) => x.name === "anonymous")
    expect(r).toBeDefined()
    const lines = resultLines(r!.run)
    expect(lines).toHaveLength(2)
    for (const line of lines) {
      // "access denied (HTTP 401)" alone reads like refused credentials: it must say none were sent
      expect(line.error, line.line).toMatch(/credential|authenticat|login/i)
    }
  })
})

describe("secrets", () => {
  test("with --debug, no run shows the key file content, a minted token or the htpasswd password (stdout, stderr, report)", () => {
    expect(runs.map((r) => r.name)).toEqual(["keyfile", "wrong-key", "access-token", "env-token", "docker-config", "anonymous"])
    // --debug did produce logs, so their silence about secrets means something
    expect(runs.every((r) => r.run.stderr.includes("debug:"))).toBe(true)
    expect(mintedTokens).toHaveLength(2)
    const secrets = [
      KEY_MARKER,
      WRONG_KEY_MARKER,
      KEY.trim(),
      WRONG_KEY.trim(),
      Buffer.from(`_json_key:${KEY}`).toString("base64"),
      HT_PASSWORD,
      Buffer.from(`${HT_USER}:${HT_PASSWORD}`).toString("base64"),
      ...mintedTokens,
      // the signature part of each token alone is secret enough
      ...mintedTokens.map((t) => t.split(".")[2]!)
    ]
    for (const r of runs) {
      for (const [where, text] of [["stdout", r.run.stdout], ["stderr", r.run.stderr], ["report", r.report]] as const) {
        for (const secret of secrets) {
          expect(text.includes(secret), `${r.name} ${where} contains a secret`).toBe(false)
        }
      }
    }
  })
})
