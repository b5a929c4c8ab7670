import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { BunContext } from "@effect/platform-bun"
import { Effect, Layer, Logger, Option, Redacted } from "effect"
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Runner } from "../../../plugins/auth/credHelper.ts"
import { configPath, credentialOf, load, make, normaliseKey, provider } from "../../../plugins/auth/dockerConfig.ts"
import type { Credential } from "../../../src/transport/Credentials.ts"
import { Exec } from "../../../src/process/Exec.ts"

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")

let dir = ""
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "docker-config-test-"))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const writeConfig = async (name: string, content: unknown) => {
  const path = join(dir, name)
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content))
  return path
}

/** A plain view of a credential, secrets unwrapped, for comparisons. */
const plain = (c: Option.Option<Credential>) => {
  if (Option.isNone(c)) return undefined
  const v = c.value
  switch (v._tag) {
    case "Basic":
      return { _tag: v._tag, username: v.username, password: Redacted.value(v.password) }
    case "RegistryToken":
      return { _tag: v._tag, token: Redacted.value(v.token) }
    case "IdentityToken":
      return { _tag: v._tag, username: v.username, token: Redacted.value(v.token) }
  }
}

const lookup = (path: string, host: string) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const file = yield* load(path)
      return plain(yield* provider(file).lookup(host, "source"))
    })
  )

describe("credentialOf", () => {
  test("auth is base64 user:pass, split at the FIRST colon", () => {
    expect(plain(credentialOf({ auth: b64("alice:pa:ss:word") }))).toEqual({ _tag: "Basic", username: "alice", password: "pa:ss:word" })
  })

  test("trailing NULs after the password are trimmed", () => {
    expect(plain(credentialOf({ auth: b64("alice:secret\0\0\0") }))).toEqual({ _tag: "Basic", username: "alice", password: "secret" })
  })

  test("an empty password is still a credential", () => {
    expect(plain(credentialOf({ auth: b64("alice:") }))).toEqual({ _tag: "Basic", username: "alice", password: "" })
  })

  test("plain username/password fields", () => {
    expect(plain(credentialOf({ username: "bob", password: "pw" }))).toEqual({ _tag: "Basic", username: "bob", password: "pw" })
  })

  test("identitytoken gives an IdentityToken (username from auth, else \"<token>\")", () => {
    expect(plain(credentialOf({ auth: b64("bob:unused"), identitytoken: "refresh-1" }))).toEqual({
      _tag: "IdentityToken",
      username: "bob",
      token: "refresh-1"
    })
    expect(plain(credentialOf({ identitytoken: "refresh-2" }))).toEqual({ _tag: "IdentityToken", username: "<token>", token: "refresh-2" })
  })

  test("registrytoken gives a RegistryToken, before anything else in the entry", () => {
    expect(plain(credentialOf({ auth: b64("bob:pw"), identitytoken: "r", registrytoken: "reg-tok" }))).toEqual({
      _tag: "RegistryToken",
      token: "reg-tok"
    })
  })

  test("{} (a credential-helper marker) and an auth without a colon give nothing", () => {
    expect(Option.isNone(credentialOf({}))).toBe(true)
    expect(Option.isNone(credentialOf({ auth: b64("no-colon-here") }))).toBe(true)
  })

  test("secrets are Redacted: they never print", () => {
    const c = Option.getOrThrow(credentialOf({ auth: b64("alice:top-secret") }))
    expect(JSON.stringify(c)).not.toContain("top-secret")
    expect(c._tag === "Basic" ? String(c.password) : "").toBe("<redacted>")
  })
})

describe("normaliseKey", () => {
  test("URL keys lose scheme and path, and are lower-cased", () => {
    expect(normaliseKey("https://index.docker.io/v1/")).toBe("index.docker.io")
    expect(normaliseKey("http://Reg.Example:5000/v2/")).toBe("reg.example:5000")
    expect(normaliseKey("reg.example:5000")).toBe("reg.example:5000")
  })
})

describe("configPath", () => {
  test("$DOCKER_CONFIG/config.json, else $HOME/.docker/config.json", () => {
    expect(configPath({ DOCKER_CONFIG: "/etc/dc", HOME: "/home/x" })).toBe("/etc/dc/config.json")
    expect(configPath({ HOME: "/home/x" })).toBe("/home/x/.docker/config.json")
  })
})

describe("load + provider", () => {
  test("URL keys match the bare host", async () => {
    const path = await writeConfig("url-keys.json", { auths: { "https://reg.example:5000/v2/": { auth: b64("u:p") } } })
    expect(await lookup(path, "reg.example:5000")).toEqual({ _tag: "Basic", username: "u", password: "p" })
    expect(await lookup(path, "REG.EXAMPLE:5000")).toEqual({ _tag: "Basic", username: "u", password: "p" })
    expect(await lookup(path, "reg.example")).toBeUndefined()
  })

  test("Docker Hub: the https://index.docker.io/v1/ entry answers for every Hub alias", async () => {
    const path = await writeConfig("hub.json", { auths: { "https://index.docker.io/v1/": { auth: b64("hubuser:hubpass") } } })
    for (const host of ["registry-1.docker.io", "docker.io", "index.docker.io"]) {
      expect(await lookup(path, host)).toEqual({ _tag: "Basic", username: "hubuser", password: "hubpass" })
    }
    expect(await lookup(path, "quay.io")).toBeUndefined()
  })

  test("Docker Hub: an exact alias entry wins over another alias", async () => {
    const path = await writeConfig("hub-two.json", {
      auths: { "https://index.docker.io/v1/": { auth: b64("index:1") }, "registry-1.docker.io": { auth: b64("api:2") } }
    })
    expect(await lookup(path, "registry-1.docker.io")).toEqual({ _tag: "Basic", username: "api", password: "2" })
    expect(await lookup(path, "index.docker.io")).toEqual({ _tag: "Basic", username: "index", password: "1" })
  })

  test("Docker Hub: a {} marker under one alias falls through to the next", async () => {
    const path = await writeConfig("hub-marker.json", {
      auths: { "docker.io": {}, "https://index.docker.io/v1/": { auth: b64("hubuser:hubpass") } }
    })
    expect(await lookup(path, "docker.io")).toEqual({ _tag: "Basic", username: "hubuser", password: "hubpass" })
  })

  test("identitytoken and registrytoken entries come through the provider", async () => {
    const path = await writeConfig("tokens.json", {
      auths: { "id.example": { identitytoken: "refresh" }, "reg.example": { registrytoken: "bearer" } }
    })
    expect(await lookup(path, "id.example")).toEqual({ _tag: "IdentityToken", username: "<token>", token: "refresh" })
    expect(await lookup(path, "reg.example")).toEqual({ _tag: "RegistryToken", token: "bearer" })
  })

  test("a missing file is simply empty", async () => {
    const path = join(dir, "does-not-exist.json")
    const file = await Effect.runPromise(load(path))
    expect(file.path).toBe(path)
    expect(file.auths.size).toBe(0)
    expect(await lookup(path, "reg.example")).toBeUndefined()
  })

  test("invalid JSON is ignored (empty), with one warning naming the file", async () => {
    const path = await writeConfig("broken.json", "{ \"auths\": { nope")
    const warnings: Array<string> = []
    const logger = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ logLevel, message }) => {
        warnings.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
      })
    )
    const file = await Effect.runPromise(load(path).pipe(Effect.provide(logger)))
    expect(file.auths.size).toBe(0)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain("WARN")
    expect(warnings[0]).toContain(path)
  })

  test("a file without auths is empty", async () => {
    const path = await writeConfig("no-auths.json", { credsStore: "desktop" })
    expect((await Effect.runPromise(load(path))).auths.size).toBe(0)
  })

  test("the provider's name says where the file is", async () => {
    const path = await writeConfig("named.json", { auths: {} })
    expect(provider(await Effect.runPromise(load(path))).name).toContain(path)
  })
})

// == credential helpers (stand-ins in test/fixtures/credhelpers, put first on PATH)

const HELPERS_DIR = join(import.meta.dir, "..", "..", "fixtures", "credhelpers")

let realExec: Runner
beforeAll(async () => {
  realExec = await Effect.runPromise(Effect.provide(Exec, Exec.layer.pipe(Layer.provide(BunContext.layer))))
})

/** The real runner with the stand-in helpers first on PATH and their settings in the environment. */
const runnerWith = (env: Record<string, string> = {}): Runner => ({
  run: (argv, options = {}) => realExec.run(argv, { ...options, env: { PATH: `${HELPERS_DIR}:${process.env["PATH"] ?? ""}`, ...env, ...options.env } })
})

const lookupVia = (path: string, host: string, env: Record<string, string> = {}) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const file = yield* load(path)
      return plain(yield* provider(file, runnerWith(env)).lookup(host, "target"))
    })
  )

const failureOf = (path: string, host: string, env: Record<string, string> = {}) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const file = yield* load(path)
      return yield* Effect.flip(provider(file, runnerWith(env)).lookup(host, "target"))
    })
  )

const KNOWN = "known.example.com"
const OTHER = "elsewhere.example.com"

describe("load: helpers", () => {
  test("credHelpers keys are normalised like auths keys; credsStore is kept; empty names are ignored", async () => {
    const path = await writeConfig("helpers-load.json", {
      credHelpers: { "https://Reg.Example:5000/v2/": "test", "gcr.io": "gcloud", "empty.example": "" },
      credsStore: "desktop"
    })
    const file = await Effect.runPromise(load(path))
    expect([...(file.credHelpers ?? new Map())]).toEqual([["reg.example:5000", "test"], ["gcr.io", "gcloud"]])
    expect(file.credsStore).toBe("desktop")
  })

  test("no helpers configured: none", async () => {
    const file = await Effect.runPromise(load(await writeConfig("helpers-none.json", { auths: {} })))
    expect(file.credHelpers?.size ?? 0).toBe(0)
    expect(file.credsStore).toBeUndefined()
  })
})

describe("provider: lookup order (credHelpers, then credsStore, then auths)", () => {
  test("credHelpers[host] beats credsStore and auths", async () => {
    const path = await writeConfig("order-1.json", {
      credHelpers: { [KNOWN]: "test" },
      credsStore: "other",
      auths: { [KNOWN]: { auth: b64("file-user:file-pass") } }
    })
    expect(await lookupVia(path, KNOWN)).toEqual({ _tag: "Basic", username: "helper-user", password: "helper-secret" })
  })

  test("credsStore beats auths", async () => {
    const path = await writeConfig("order-2.json", { credsStore: "other", auths: { [KNOWN]: { auth: b64("file-user:file-pass") } } })
    expect(await lookupVia(path, KNOWN)).toEqual({ _tag: "Basic", username: "other-user", password: "other-secret" })
  })

  test("a credHelpers entry for another host does not apply", async () => {
    const path = await writeConfig("order-3.json", {
      credHelpers: { [OTHER]: "other" },
      auths: { [KNOWN]: { auth: b64("file-user:file-pass") } }
    })
    expect(await lookupVia(path, KNOWN)).toEqual({ _tag: "Basic", username: "file-user", password: "file-pass" })
  })

  test("credHelpers says \"credentials not found\": credsStore is asked next", async () => {
    const path = await writeConfig("fall-1.json", { credHelpers: { [OTHER]: "test" }, credsStore: "other" })
    expect(await lookupVia(path, OTHER)).toEqual({ _tag: "Basic", username: "other-user", password: "other-secret" })
  })

  test("credHelpers says \"credentials not found\": the auths entry is used", async () => {
    const path = await writeConfig("fall-2.json", {
      credHelpers: { [OTHER]: "test" },
      auths: { [OTHER]: { auth: b64("file-user:file-pass") } }
    })
    expect(await lookupVia(path, OTHER)).toEqual({ _tag: "Basic", username: "file-user", password: "file-pass" })
  })

  test("credsStore says \"credentials not found\": the auths entry is used; with no entry, nothing", async () => {
    const path = await writeConfig("fall-3.json", { credsStore: "test", auths: { [OTHER]: { auth: b64("file-user:file-pass") } } })
    expect(await lookupVia(path, OTHER)).toEqual({ _tag: "Basic", username: "file-user", password: "file-pass" })
    expect(await lookupVia(path, "third.example.com")).toBeUndefined()
  })

  test("a helper's identity token (Username \"<token>\") is an IdentityToken", async () => {
    const path = await writeConfig("identity.json", { credHelpers: { [KNOWN]: "test" } })
    expect(await lookupVia(path, KNOWN, { CREDHELPER_TEST_USER: "<token>", CREDHELPER_TEST_SECRET: "refresh-from-helper" })).toEqual({
      _tag: "IdentityToken",
      username: "<token>",
      token: "refresh-from-helper"
    })
  })

  test("Docker Hub: a credHelpers entry under the legacy URL key applies to every alias, and the helper is asked for that key", async () => {
    const log = join(dir, "hub-helper.log")
    const path = await writeConfig("hub-helper.json", { credHelpers: { "https://index.docker.io/v1/": "test" } })
    const env = { CREDHELPER_TEST_KNOWN: "https://index.docker.io/v1/", CREDHELPER_TEST_LOG: log }
    for (const host of ["registry-1.docker.io", "docker.io"]) {
      expect(await lookupVia(path, host, env)).toEqual({ _tag: "Basic", username: "helper-user", password: "helper-secret" })
    }
    expect((await readFile(log, "utf8")).trim().split("\n")).toEqual([
      "docker-credential-test https://index.docker.io/v1/",
      "docker-credential-test https://index.docker.io/v1/"
    ])
  })

  test("the provider asks a helper once per host, however often and concurrently it is asked", async () => {
    const log = join(dir, "once.log")
    const path = await writeConfig("once.json", { credHelpers: { [KNOWN]: "test", [OTHER]: "test" } })
    const p = provider(await Effect.runPromise(load(path)), runnerWith({ CREDHELPER_TEST_LOG: log }))
    const lookups = [KNOWN, KNOWN, OTHER, KNOWN, OTHER].map((h) => p.lookup(h, "target"))
    await Effect.runPromise(Effect.all(lookups, { concurrency: "unbounded" }))
    await Effect.runPromise(Effect.all(lookups, { concurrency: "unbounded" }))
    expect((await readFile(log, "utf8")).trim().split("\n").sort()).toEqual([
      `docker-credential-test ${OTHER}`,
      `docker-credential-test ${KNOWN}`
    ].sort())
  })
})

describe("provider: failing helpers", () => {
  test("a crashing helper is CredentialsFailed naming it (no fall-through to auths), in one line", async () => {
    const path = await writeConfig("crash.json", {
      credHelpers: { "crash.example.com": "test" },
      auths: { "crash.example.com": { auth: b64("file-user:file-pass") } }
    })
    const e = await failureOf(path, "crash.example.com")
    expect(e._tag).toBe("CredentialsFailed")
    expect(e.provider).toBe("docker-credential-test")
    expect(e.message).toBe("credentials (docker-credential-test): get for crash.example.com exited with 3: boom")
    expect(e.message).not.toContain("\n")
    expect(e.message).not.toContain("file-pass")
  })

  test("a credsStore helper missing from PATH is CredentialsFailed naming it", async () => {
    const path = await writeConfig("absent.json", { credsStore: "absent", auths: { [KNOWN]: { auth: b64("u:p") } } })
    const e = await failureOf(path, KNOWN)
    expect(e.provider).toBe("docker-credential-absent")
    expect(e.message).toBe(`credentials (docker-credential-absent): not found on PATH (the docker config names it for ${KNOWN})`)
  })

  test("a provider built without a runner fails (typed, not a defect) when a helper is configured", async () => {
    const path = await writeConfig("no-runner.json", { credHelpers: { [KNOWN]: "test" } })
    const file = await Effect.runPromise(load(path))
    const e = await Effect.runPromise(Effect.flip(provider(file).lookup(KNOWN, "source")))
    expect(e._tag).toBe("CredentialsFailed")
    expect(e.message).toContain("docker-credential-test")
  })

  test("secrets from a helper never show in the provider's errors or when printed", async () => {
    const path = await writeConfig("secret-print.json", { credHelpers: { [KNOWN]: "test" } })
    const file = await Effect.runPromise(load(path))
    const c = Option.getOrThrow(
      await Effect.runPromise(provider(file, runnerWith({ CREDHELPER_TEST_SECRET: "HELPER-SECRET-XYZ" })).lookup(KNOWN, "target"))
    )
    expect(JSON.stringify(c)).not.toContain("HELPER-SECRET-XYZ")
    expect(c._tag === "Basic" ? String(c.password) : "").toBe("<redacted>")
  })
})

describe("make", () => {
  test("needs Exec (for helpers) and reads the given path", async () => {
    const path = await writeConfig("make.json", { credHelpers: { [KNOWN]: "test" }, auths: { [OTHER]: { auth: b64("u:p") } } })
    const p = await Effect.runPromise(make(path).pipe(Effect.provideService(Exec, runnerWith())))
    expect(p.name).toContain(path)
    expect(plain(await Effect.runPromise(p.lookup(KNOWN, "target")))).toEqual({
      _tag: "Basic",
      username: "helper-user",
      password: "helper-secret"
    })
    expect(plain(await Effect.runPromise(p.lookup(OTHER, "source")))).toEqual({ _tag: "Basic", username: "u", password: "p" })
  })
})
