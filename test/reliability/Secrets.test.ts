/**
 * Secrets kept (must-hold 5) and token scopes no wider than needed. Every secret input carries
 * a distinctive planted marker: the key file, an access token, a docker config password (which
 * is also an htpasswd password), a wrong one, an identity token, a registry token, the signing
 * key's password (right and wrong), and the pre-signed URL of a cross-origin blob redirect. The
 * CLI runs with `--debug --report` through successful and failing paths (wrong credentials,
 * 401s, a bad key password, an untrusted TLS registry) with a flaky, redirecting source, and
 * every byte it printed or wrote is searched for every secret.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { randomBytes } from "node:crypto"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import { encryptCosignKey, p256, pemBodyLines } from "../fixtures/signing/CosignKeys.ts"
import { paths, startFaultProxy } from "../support/FaultProxy.ts"
import type { FaultProxy } from "../support/FaultProxy.ts"
import { makeTestCertificates } from "../support/TestCertificates.ts"
import { startTokenServer } from "../support/TokenServer.ts"
import type { TokenServer } from "../support/TokenServer.ts"
import { describeRun, makeTempDir, removeDir, resultLines, runCli, SMALL, TWO_PLATFORMS, writeDefinition } from "../integration/helpers.ts"
import type { CliRun } from "../integration/helpers.ts"

const marker = (what: string) => `PLANTED-${what}-${randomBytes(8).toString("hex")}`

const KEY_MARKER = marker("KEY")
const WRONG_KEY_MARKER = marker("WRONG-KEY")
const BAD_ACCESS_TOKEN = marker("ACCESS-TOKEN")
const SRC_USER = "source-reader"
const SRC_PASSWORD = marker("SOURCE-PASSWORD")
const HT_USER = "syncer"
const HT_PASSWORD = marker("HTPASSWD-PASSWORD")
const WRONG_HT_PASSWORD = marker("WRONG-HTPASSWD-PASSWORD")
const BAD_IDENTITY_TOKEN = marker("IDENTITY-TOKEN")
const BAD_REGISTRY_TOKEN = marker("REGISTRY-TOKEN")
const SIGN_PASSWORD = marker("SIGN-PASSWORD")
const WRONG_SIGN_PASSWORD = marker("WRONG-SIGN-PASSWORD")
const REDIRECT_SIGNATURE = marker("PRESIGNED-URL-SIGNATURE")

/** A service-account key file as GCR wants it (pretty JSON, multi-line), with the marker inside. */
const keyFile = (m: string) =>
  `${
    JSON.stringify(
      {
        type: "service_account",
        project_id: "syncer-test",
        private_key_id: randomBytes(20).toString("hex"),
        private_key: `-----BEGIN PRIVATE KEY-----\n${m}\n-----END PRIVATE KEY-----\n`,
        client_email: "image-syncer@syncer-test.iam.gserviceaccount.com"
      },
      null,
      2
    )
  }\n`
const KEY = keyFile(KEY_MARKER)
const WRONG_KEY = keyFile(WRONG_KEY_MARKER)
const SIGNING_KEY = encryptCosignKey(p256().privateKey, SIGN_PASSWORD)

/** Source repositories (in the token source registry); everything else asked of the token server is a target. */
const SOURCE_REPOS = ["secrets/app", "secrets/tool"] as const

let tokens: TokenServer
let tokenSrc: LocalRegistry
let gcr: LocalRegistry
let ht: LocalRegistry
let tlsDst: LocalRegistry
let proxy: FaultProxy
let dir: string
/** a refresh token the token server really issued (the good identity token) */
let refreshToken: string
/** an access token minted for the token-ok run */
let mintedToken: string
/** token requests made while setting up (pushing the sources), before any CLI run */
let setupTokenRequests = 0

/** One CLI run, everything it printed or wrote. */
interface SecretRun {
  readonly name: string
  readonly run: CliRun
  readonly report: string
  /** target repositories this run writes (or plans), when it exchanges credentials for tokens at the token server */
  readonly targets: ReadonlyArray<string>
  readonly dryRun: boolean
}
const runs: Array<SecretRun> = []

const sources = () => SOURCE_REPOS.map((r) => `${proxy.host}/${r}:1`)
const targetReposUnder = (prefix: string) => SOURCE_REPOS.map((r) => `${prefix}/${proxy.host.replace(":", "-")}/${r}`)

/** A HOME with a docker config: the source's credentials plus `extra` auths entries. */
const homeWith = async (name: string, extra: Record<string, Record<string, string>>) => {
  const home = join(dir, `home-${name}`)
  await mkdir(join(home, ".docker"), { recursive: true })
  const b64 = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString("base64")
  await writeFile(join(home, ".docker", "config.json"), JSON.stringify({ auths: { [proxy.host]: { auth: b64(SRC_USER, SRC_PASSWORD) }, ...extra } }))
  return home
}

const auth = (user: string, password: string) => ({ auth: Buffer.from(`${user}:${password}`).toString("base64") })

/** Runs the CLI with --debug and --report into `registry/prefix/`; records everything. */
const secretRun = async (
  name: string,
  registry: LocalRegistry,
  args: ReadonlyArray<string>,
  options: { readonly home?: string; readonly env?: Record<string, string>; readonly dryRun?: boolean } = {}
) => {
  const report = join(dir, `report-${name}.json`)
  const file = join(dir, "images.yaml")
  const run = await runCli(
    ["-i", file, "-r", `${registry.host}/${name}/`, "--debug", "--report", report, ...(options.dryRun ? ["--dry-run"] : []), ...args],
    { home: options.home ?? (await homeWith(name, {})), ...(options.env ? { env: options.env } : {}) }
  )
  runs.push({
    name,
    run,
    report: await readFile(report, "utf8").catch(() => ""),
    // an access token is sent as it is: no token exchange to check
    targets: registry === gcr && !args.includes("--access-token") && options.env?.["SYNCER_ACCESS_TOKEN"] === undefined ? targetReposUnder(name) : [],
    dryRun: options.dryRun === true
  })
}

const runOf = (name: string): SecretRun => {
  const r = runs.find((x) => x.name === name)
  if (r === undefined) throw new Error(`no run ${name}`)
  return r
}

beforeAll(async () => {
  tokens = await startTokenServer({ users: { _json_key: KEY, [SRC_USER]: SRC_PASSWORD } })
  const tokenAuth = { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle }
  dir = await makeTempDir("secrets")
  const certs = await makeTestCertificates(join(dir, "certs"))
  ;[tokenSrc, gcr, ht, tlsDst] = await Promise.all([
    startRegistry({ token: tokenAuth }),
    startRegistry({ token: tokenAuth }),
    startRegistry({ htpasswd: { username: HT_USER, password: HT_PASSWORD } }),
    startRegistry({ tls: { certificate: certs.certificate, key: certs.key } })
  ])
  for (const repository of SOURCE_REPOS) {
    await pushImage(tokenSrc.url, repository, "1", {
      platforms: TWO_PLATFORMS,
      seed: repository,
      ...SMALL,
      sharedBaseLayer: { seed: "secrets-base", size: 2048 }
    }, { username: SRC_USER, password: SRC_PASSWORD })
  }
  // a flaky source whose blobs live behind pre-signed URLs on another origin
  proxy = await startFaultProxy({
    upstream: tokenSrc.url,
    seed: "secrets",
    redirectSignature: REDIRECT_SIGNATURE,
    redirectHeaders: () => ({ authorization: `Bearer ${tokens.mint(SOURCE_REPOS.map((name) => ({ type: "repository", name, actions: ["pull"] })))}` }),
    rules: [
      { match: (m, path) => m === "GET" && paths.blob()(path), fault: "redirect-cross-origin" },
      { match: (_m, path) => paths.manifest()(path), fault: "503", firstTries: 1 }
    ]
  })
  await writeDefinition(dir, "images.yaml", { targetRepoPrefix: "example.invalid/overridden-by-r/", images: sources().map((source) => ({ source })) })
  await writeFile(join(dir, "key.json"), KEY, { mode: 0o600 })
  await writeFile(join(dir, "wrong-key.json"), WRONG_KEY, { mode: 0o600 })
  await writeFile(join(dir, "cosign.key"), SIGNING_KEY, { mode: 0o600 })

  // a refresh token the server really issued, for the identity-token path that works
  const offline = await fetch(`${tokens.realm}?service=${tokens.service}&offline_token=true&scope=repository:none:pull`, {
    headers: { authorization: `Basic ${Buffer.from(`_json_key:${KEY}`).toString("base64")}` },
    proxy: false
  })
  refreshToken = ((await offline.json()) as { refresh_token: string }).refresh_token
  mintedToken = tokens.mint(targetReposUnder("token-ok").map((name) => ({ type: "repository", name, actions: ["pull", "push"] })))

  setupTokenRequests = tokens.requests().length
  const key = ["-t", join(dir, "key.json")]
  const signing = { SYNCER_SIGN_KEY_PASSWORD: SIGN_PASSWORD }
  // two at a time: the machine has few cores, and a run is mostly waiting on registries
  await Promise.all([
    secretRun("keyfile-ok", gcr, [...key, "--sign-key", join(dir, "cosign.key")], { env: signing }),
    secretRun("keyfile-wrong", gcr, ["-t", join(dir, "wrong-key.json")])
  ])
  await Promise.all([
    secretRun("token-ok", gcr, ["--access-token", mintedToken]),
    secretRun("token-bad", gcr, [], { env: { SYNCER_ACCESS_TOKEN: BAD_ACCESS_TOKEN } })
  ])
  await Promise.all([
    secretRun("htpasswd-ok", ht, [], { home: await homeWith("htpasswd-ok", { [ht.host]: auth(HT_USER, HT_PASSWORD) }) }),
    secretRun("htpasswd-wrong", ht, [], { home: await homeWith("htpasswd-wrong", { [ht.host]: auth(HT_USER, WRONG_HT_PASSWORD) }) })
  ])
  await Promise.all([
    secretRun("registry-token-bad", ht, [], { home: await homeWith("registry-token-bad", { [ht.host]: { registrytoken: BAD_REGISTRY_TOKEN } }) }),
    secretRun("identity-ok", gcr, [], { home: await homeWith("identity-ok", { [gcr.host]: { identitytoken: refreshToken } }) })
  ])
  await Promise.all([
    secretRun("identity-bad", gcr, [], { home: await homeWith("identity-bad", { [gcr.host]: { identitytoken: BAD_IDENTITY_TOKEN } }) }),
    secretRun("sign-wrong-password", gcr, [...key, "--sign-key", join(dir, "cosign.key")], { env: { SYNCER_SIGN_KEY_PASSWORD: WRONG_SIGN_PASSWORD } })
  ])
  await Promise.all([
    secretRun("tls-untrusted", tlsDst, key),
    secretRun("dry-run", gcr, key, { dryRun: true })
  ])
}, 180_000)

afterAll(async () => {
  await proxy?.stop()
  await Promise.all([tokenSrc?.stop(), gcr?.stop(), ht?.stop(), tlsDst?.stop()])
  await tokens?.stop()
  await removeDir(dir)
}, 60_000)

describe("the runs took the paths they were meant to", () => {
  const expectations: ReadonlyArray<readonly [string, number, string | RegExp]> = [
    ["keyfile-ok", 0, "synced"],
    ["token-ok", 0, "synced"],
    ["htpasswd-ok", 0, "synced"],
    ["identity-ok", 0, "synced"],
    ["dry-run", 0, "planned"],
    ["keyfile-wrong", 1, /access denied/],
    ["token-bad", 1, /access denied/],
    ["htpasswd-wrong", 1, /access denied/],
    ["registry-token-bad", 1, /access denied/],
    ["identity-bad", 1, /access denied/],
    ["tls-untrusted", 1, /TLS certificate not trusted/]
  ]
  for (const [name, code, what] of expectations) {
    test(`${name}: exit ${code}, every image ${typeof what === "string" ? what : `failed (${what.source})`}`, () => {
      const r = runOf(name)
      expect(r.run.code, describeRun(r.run)).toBe(code)
      const lines = resultLines(r.run)
      expect(lines).toHaveLength(SOURCE_REPOS.length)
      for (const line of lines) {
        if (typeof what === "string") expect(line.status, line.line).toBe(what)
        else {
          expect(line.status, line.line).toBe("failed")
          expect(line.error).toMatch(what)
        }
      }
    })
  }

  test("keyfile-ok: both images were signed with the password-protected key", () => {
    const report = JSON.parse(runOf("keyfile-ok").report) as { images: Array<{ signed: unknown }> }
    expect(report.images.map((i) => i.signed)).toEqual([true, true])
  })

  test("sign-wrong-password: exit 2 with \"wrong password\" before any registry was contacted", () => {
    const r = runOf("sign-wrong-password")
    expect(r.run.code, describeRun(r.run)).toBe(2)
    expect(r.run.stderr).toContain("wrong password")
  })

  test("the source really was flaky and redirecting: 503s were retried and blobs came from the pre-signed URLs", () => {
    expect(proxy.faults().some((f) => f.fault === "503")).toBe(true)
    expect(proxy.redirected().length).toBeGreaterThan(0)
    expect(proxy.redirected().every((r) => !r.authorization)).toBe(true)
  })
})

describe("must-hold 5: planted secrets never appear in any output", () => {
  test("every run logged at debug level, so the silence about secrets means something", () => {
    expect(runs).toHaveLength(12)
    for (const r of runs.filter((x) => x.name !== "sign-wrong-password")) expect(r.run.stderr, r.name).toContain("debug:")
  })

  test("no stdout, stderr or report of any run contains any secret, in any encoding we send it", () => {
    const b64 = (s: string) => Buffer.from(s).toString("base64")
    const secrets: ReadonlyArray<readonly [string, string]> = [
      ["key file marker", KEY_MARKER],
      ["wrong key file marker", WRONG_KEY_MARKER],
      ["key file content", KEY.trim()],
      ["wrong key file content", WRONG_KEY.trim()],
      ["Basic _json_key", b64(`_json_key:${KEY}`)],
      ["Basic _json_key (wrong)", b64(`_json_key:${WRONG_KEY}`)],
      ["bad access token", BAD_ACCESS_TOKEN],
      ["minted access token", mintedToken],
      ["minted access token signature", mintedToken.split(".")[2]!],
      ["source password", SRC_PASSWORD],
      ["Basic source", b64(`${SRC_USER}:${SRC_PASSWORD}`)],
      ["htpasswd password", HT_PASSWORD],
      ["Basic htpasswd", b64(`${HT_USER}:${HT_PASSWORD}`)],
      ["wrong htpasswd password", WRONG_HT_PASSWORD],
      ["Basic wrong htpasswd", b64(`${HT_USER}:${WRONG_HT_PASSWORD}`)],
      ["bad identity token", BAD_IDENTITY_TOKEN],
      ["issued refresh token", refreshToken],
      ["bad registry token", BAD_REGISTRY_TOKEN],
      ["signing key password", SIGN_PASSWORD],
      ["wrong signing key password", WRONG_SIGN_PASSWORD],
      ["pre-signed URL signature", REDIRECT_SIGNATURE],
      ...pemBodyLines(SIGNING_KEY).map((line, i) => [`signing key PEM line ${i}`, line] as const)
    ]
    const leaks: Array<string> = []
    for (const r of runs) {
      for (const [where, text] of [["stdout", r.run.stdout], ["stderr", r.run.stderr], ["report", r.report]] as const) {
        for (const [what, secret] of secrets) if (text.includes(secret)) leaks.push(`${r.name} ${where}: ${what}`)
        // tokens the registries' token server issued to the CLI are never shown either
        if (/eyJ[\w-]{10,}\.eyJ[\w-]{10,}/.test(text)) leaks.push(`${r.name} ${where}: a JWT`)
      }
    }
    expect(leaks).toEqual([])
  })
})

describe("token scopes no wider than needed", () => {
  /** what the CLI runs asked the token server (not the setup's pushes) */
  const asked = () => tokens.requests().slice(setupTokenRequests)
  const parse = (scope: string) => {
    const first = scope.indexOf(":")
    const last = scope.lastIndexOf(":")
    return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(",").sort().join(",") }
  }

  test("sources are asked for pull only, with the source's own credentials (never the target's key)", () => {
    const forSources = asked().filter((t) => t.scopes.some((s) => (SOURCE_REPOS as ReadonlyArray<string>).includes(parse(s).name)))
    expect(forSources.length).toBeGreaterThan(0)
    for (const t of forSources) {
      expect(t.username).toBe(SRC_USER)
      expect(t.scopes.map((s) => parse(s).actions)).toEqual(t.scopes.map(() => "pull"))
    }
  })

  test("a target repository is asked for exactly pull,push; other target repositories only pull (the mount's source)", () => {
    for (const r of runs.filter((x) => x.targets.length > 0 && !x.dryRun)) {
      const mine = asked().flatMap((t) => t.scopes.map(parse)).filter((s) => s.name.startsWith(`${r.name}/`))
      if (r.run.code === 2) {
        expect(mine).toEqual([])
        continue
      }
      expect(mine.length, r.name).toBeGreaterThan(0)
      for (const s of mine) {
        expect(s.type).toBe("repository")
        expect(r.targets).toContain(s.name)
        expect(["pull,push", "pull"]).toContain(s.actions)
      }
      // push is asked for the repositories this run writes, and only those
      expect(new Set(mine.filter((s) => s.actions === "pull,push").map((s) => s.name)), r.name).toEqual(new Set(r.targets))
    }
  })

  test("a mount asks pull on the repository it mounts from, in the same token as pull,push on the destination", () => {
    const mounts = asked().filter((t) => t.scopes.length > 1 && t.scopes.some((s) => parse(s).actions === "pull,push"))
    expect(mounts.length).toBeGreaterThan(0)
    for (const t of mounts) {
      const parsed = t.scopes.map(parse)
      expect(parsed.filter((s) => s.actions === "pull,push")).toHaveLength(1)
      expect(parsed.filter((s) => s.actions === "pull").length).toBe(parsed.length - 1)
    }
  })

  test("a dry run asks the target for pull only", () => {
    const mine = asked().flatMap((t) => t.scopes.map(parse)).filter((s) => s.name.startsWith("dry-run/"))
    expect(mine.length).toBeGreaterThan(0)
    expect(mine.every((s) => s.actions === "pull")).toBe(true)
  })
})
