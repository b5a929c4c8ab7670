/**
 * Credentials from docker credential helpers, end to end (oci-protocol.md §2.5): a stand-in
 * `docker-credential-test` (test/fixtures/credhelpers, first on PATH) named in `credHelpers`
 * supplies target credentials for an htpasswd registry and an identity token for a token-auth
 * registry; "credentials not found" falls through to the `auths` entry; a crashing or missing
 * helper fails the image with one line naming it. Also `--auth-plugin` with the example
 * provider, and a bad plugin module. Every sync runs with `--debug` and a report, and none may
 * show a secret.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { randomBytes } from "node:crypto"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage } from "../../demo/SampleImages.ts"
import { startTokenServer } from "../support/TokenServer.ts"
import type { TokenServer } from "../support/TokenServer.ts"
import {
  AMD64,
  basic,
  bearer,
  describeRun,
  headManifest,
  lineFor,
  loopbackFetch,
  makeTempDir,
  readReport,
  removeDir,
  reportFor,
  resultLines,
  runCli,
  SMALL,
  writeDefinition
} from "./helpers.ts"
import type { CliRun } from "./helpers.ts"

const HELPERS_DIR = join(import.meta.dir, "..", "fixtures", "credhelpers")
const EXAMPLE_PLUGIN = "examples/custom-auth/provider.ts"

const HT_USER = "helper-htuser"
const HT_PASSWORD = `PLANTED-SECRET-HT-PASSWORD-${randomBytes(8).toString("hex")}`
const TOKEN_USER = "helper-tokenuser"
const TOKEN_PASSWORD = `PLANTED-SECRET-TOKEN-PASSWORD-${randomBytes(8).toString("hex")}`
const REPOSITORY = "creds/app"

let src: LocalRegistry
let ht: LocalRegistry
let tokens: TokenServer
let tokenRegistry: LocalRegistry
let dir: string
let images: string
let pushed: PushedImage
/** the refresh token the helper hands out for the token registry (obtained in beforeAll) */
let refreshToken = ""

/** One CLI run of this file, kept for the secret checks. */
interface HelperRun {
  readonly name: string
  readonly run: CliRun
  readonly report: string
}
const runs: Array<HelperRun> = []

/** The target repository of the image under a prefix path, e.g. "helper/127.0.0.1-PORT/creds/app". */
const targetRepo = (prefixPath: string): string => `${prefixPath}/${src.host.replace(":", "-")}/${REPOSITORY}`

const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64")

/** A HOME with `.docker/config.json` holding `config` (none when undefined). */
const homeWith = async (name: string, config?: unknown): Promise<string> => {
  const home = join(dir, `home-${name}`)
  await mkdir(join(home, ".docker"), { recursive: true })
  if (config !== undefined) await writeFile(join(home, ".docker", "config.json"), JSON.stringify(config))
  return home
}

/** Syncs the image to `registry` under `prefixPath` with --debug and a report, the helpers first on PATH; records the run. */
const syncRun = async (
  name: string,
  registry: LocalRegistry,
  prefixPath: string,
  options: { readonly config?: unknown; readonly env?: Record<string, string>; readonly args?: ReadonlyArray<string> } = {}
): Promise<HelperRun & { readonly log: string }> => {
  const home = await homeWith(name, options.config)
  const report = join(dir, `report-${name}.json`)
  const log = join(dir, `helper-${name}.log`)
  const run = await runCli(
    ["-i", images, "-r", `${registry.host}/${prefixPath}/`, "--debug", "--report", report, ...(options.args ?? [])],
    {
      home,
      env: {
        PATH: `${HELPERS_DIR}:${process.env["PATH"] ?? "/usr/bin:/bin"}`,
        CREDHELPER_TEST_LOG: log,
        ...options.env
      }
    }
  )
  const recorded = { name, run, report: await readFile(report, "utf8").catch(() => "") }
  runs.push(recorded)
  return { ...recorded, log: await readFile(log, "utf8").catch(() => "") }
}

/** The image synced (exit 0) and its target digest equal to the source's. */
const expectSynced = async (r: HelperRun, registry: LocalRegistry, prefixPath: string, reader: Record<string, string>) => {
  expect(r.run.code, describeRun(r.run)).toBe(0)
  expect(resultLines(r.run).map((l) => l.status), describeRun(r.run)).toEqual(["synced"])
  const head = await headManifest(registry.url, targetRepo(prefixPath), "1", reader)
  expect(head.digest).toBe(pushed.digest)
}

beforeAll(async () => {
  tokens = await startTokenServer({ users: { [TOKEN_USER]: TOKEN_PASSWORD } })
  ;[src, ht, tokenRegistry] = await Promise.all([
    startRegistry(),
    startRegistry({ htpasswd: { username: HT_USER, password: HT_PASSWORD } }),
    startRegistry({
      token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle }
    })
  ])
  dir = await makeTempDir("credhelpers")
  pushed = await pushImage(src.url, REPOSITORY, "1", { platforms: AMD64, index: false, seed: "credhelpers", ...SMALL })
  images = await writeDefinition(dir, "images.yaml", {
    targetRepoPrefix: "example.invalid/overridden-by-r/",
    images: [{ source: `${src.host}/${REPOSITORY}:1`, amd64Only: true }]
  })
  // what `docker login` stores for an OAuth2 registry: a refresh token from an offline token request
  const url = new URL(tokens.realm)
  url.searchParams.set("service", tokens.service)
  url.searchParams.set("offline_token", "true")
  const res = await loopbackFetch(url.toString(), { headers: basic(TOKEN_USER, TOKEN_PASSWORD) })
  const body = (await res.json()) as { refresh_token?: string }
  if (res.status !== 200 || !body.refresh_token) throw new Error(`no refresh token from the token server: HTTP ${res.status}`)
  refreshToken = body.refresh_token
}, 60_000)

afterAll(async () => {
  await Promise.all([src?.stop(), ht?.stop(), tokenRegistry?.stop()])
  await tokens?.stop()
  await removeDir(dir)
}, 60_000)

describe("credHelpers", () => {
  test("a helper named in credHelpers supplies the target's htpasswd credentials: exit 0, digest correct, helper asked once", async () => {
    const r = await syncRun("helper-basic", ht, "helper", {
      config: { credHelpers: { [ht.host]: "test" } },
      env: { CREDHELPER_TEST_KNOWN: ht.host, CREDHELPER_TEST_USER: HT_USER, CREDHELPER_TEST_SECRET: HT_PASSWORD }
    })
    await expectSynced(r, ht, "helper", basic(HT_USER, HT_PASSWORD))
    // the server address on stdin is the host; the answer is cached for the run
    expect(r.log).toBe(`docker-credential-test ${ht.host}\n`)
  })

  test("\"credentials not found\" falls through to the auths entry: exit 0", async () => {
    const r = await syncRun("helper-notfound", ht, "notfound", {
      config: { credHelpers: { [ht.host]: "test" }, auths: { [ht.host]: { auth: b64(`${HT_USER}:${HT_PASSWORD}`) } } },
      env: { CREDHELPER_TEST_KNOWN: "someone-else.example.com" }
    })
    await expectSynced(r, ht, "notfound", basic(HT_USER, HT_PASSWORD))
    expect(r.log).toBe(`docker-credential-test ${ht.host}\n`)
  })

  test("a crashing helper: the image failed with one line naming the helper and its error; exit 1; nothing pushed", async () => {
    const r = await syncRun("helper-crash", ht, "crash", {
      config: { credHelpers: { [ht.host]: "test" }, auths: { [ht.host]: { auth: b64(`${HT_USER}:${HT_PASSWORD}`) } } },
      env: { CREDHELPER_TEST_CRASH: ht.host }
    })
    expect(r.run.code, describeRun(r.run)).toBe(1)
    const line = lineFor(r.run, `${src.host}/${REPOSITORY}:1`)
    expect(line.status).toBe("failed")
    expect(line.error).toBe(`docker-credential-test: get for ${ht.host} exited with 3: boom`)
    expect(r.run.stderr).not.toMatch(/^\s+at /m)
    const report = await readReport(join(dir, "report-helper-crash.json"))
    expect(reportFor(report, `${src.host}/${REPOSITORY}:1`).error).toContain("docker-credential-test")
    expect((await headManifest(ht.url, targetRepo("crash"), "1", basic(HT_USER, HT_PASSWORD))).status).toBe(404)
  })

  test("a helper missing from PATH: the image failed with one line saying so; exit 1", async () => {
    const r = await syncRun("helper-absent", ht, "absent", { config: { credHelpers: { [ht.host]: "absent" } } })
    expect(r.run.code, describeRun(r.run)).toBe(1)
    const line = lineFor(r.run, `${src.host}/${REPOSITORY}:1`)
    expect(line.status).toBe("failed")
    expect(line.error).toBe(`docker-credential-absent: not found on PATH (the docker config names it for ${ht.host})`)
  })

  test("an identity token from a helper (Username \"<token>\") is exchanged at the token realm (refresh_token grant): exit 0", async () => {
    const before = tokens.requests().length
    const r = await syncRun("helper-identity", tokenRegistry, "identity", {
      config: { credHelpers: { [tokenRegistry.host]: "test" } },
      env: { CREDHELPER_TEST_KNOWN: tokenRegistry.host, CREDHELPER_TEST_USER: "<token>", CREDHELPER_TEST_SECRET: refreshToken }
    })
    const reader = bearer(tokens.mint([{ type: "repository", name: targetRepo("identity"), actions: ["pull"] }]))
    await expectSynced(r, tokenRegistry, "identity", reader)
    const asked = tokens.requests().slice(before).filter((t) => t.scopes.some((s) => s.includes("identity/")))
    expect(asked.length).toBeGreaterThan(0)
    // POST refresh_token grants, resolved by the server to the user that owns the refresh token
    expect(asked.every((t) => t.method === "POST" && t.username === TOKEN_USER)).toBe(true)
  })
})

describe("--auth-plugin", () => {
  test("examples/custom-auth/provider.ts supplies the target's credentials from REGISTRY_USER_/REGISTRY_PASSWORD_ variables: exit 0", async () => {
    const suffix = ht.host.toUpperCase().replace(/[^A-Z0-9]/g, "_")
    const r = await syncRun("plugin-example", ht, "plugin", {
      args: ["--auth-plugin", EXAMPLE_PLUGIN],
      env: { [`REGISTRY_USER_${suffix}`]: HT_USER, [`REGISTRY_PASSWORD_${suffix}`]: HT_PASSWORD }
    })
    await expectSynced(r, ht, "plugin", basic(HT_USER, HT_PASSWORD))
  })

  test("a module that exports no provider: exit 2, one line on stderr naming it, nothing synced", async () => {
    const bad = join(dir, "not-a-provider.ts")
    await writeFile(bad, "export const hello = 1\n")
    const run = await runCli(["-i", images, "-r", `${ht.host}/badplugin/`, "--auth-plugin", bad], { home: await homeWith("bad-plugin") })
    expect(run.code, describeRun(run)).toBe(2)
    const lines = run.stderr.trim().split("\n")
    expect(lines, describeRun(run)).toHaveLength(1)
    expect(lines[0]).toContain("auth plugin")
    expect(lines[0]).toContain(bad)
    expect(resultLines(run)).toHaveLength(0)
  })

  test("a module path that does not exist: exit 2, one line on stderr naming it", async () => {
    const missing = join(dir, "no-such-plugin.ts")
    const run = await runCli(["-i", images, "-r", `${ht.host}/badplugin/`, "--auth-plugin", missing], {
      home: await homeWith("missing-plugin")
    })
    expect(run.code, describeRun(run)).toBe(2)
    const lines = run.stderr.trim().split("\n")
    expect(lines, describeRun(run)).toHaveLength(1)
    expect(lines[0]).toContain(missing)
  })

  test("a module that does not parse: exit 2, one line on stderr naming it", async () => {
    const broken = join(dir, "broken-plugin.ts")
    await writeFile(broken, "export const provider = {\n  name: \"broken\",\n  lookup: (\n")
    const run = await runCli(["-i", images, "-r", `${ht.host}/badplugin/`, "--auth-plugin", broken], {
      home: await homeWith("broken-plugin")
    })
    expect(run.code, describeRun(run)).toBe(2)
    const lines = run.stderr.trim().split("\n")
    expect(lines, describeRun(run)).toHaveLength(1)
    expect(lines[0]).toContain(broken)
    expect(lines[0]).toContain("failed to load")
  })
})

describe("secrets", () => {
  test("with --debug, no run shows a helper's Secret, a password, a refresh token or Basic auth (stdout, stderr, report)", () => {
    expect(runs.map((r) => r.name)).toEqual([
      "helper-basic",
      "helper-notfound",
      "helper-crash",
      "helper-absent",
      "helper-identity",
      "plugin-example"
    ])
    // --debug did produce logs, so their silence about secrets means something
    expect(runs.every((r) => r.run.stderr.includes("debug:"))).toBe(true)
    expect(refreshToken).not.toBe("")
    const secrets = [HT_PASSWORD, b64(`${HT_USER}:${HT_PASSWORD}`), TOKEN_PASSWORD, refreshToken]
    for (const r of runs) {
      for (const [where, text] of [["stdout", r.run.stdout], ["stderr", r.run.stderr], ["report", r.report]] as const) {
        for (const secret of secrets) {
          expect(text.includes(secret), `${r.name} ${where} contains a secret`).toBe(false)
        }
      }
    }
  })
})
