import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Logger, Option, Redacted } from "effect"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { configPath, credentialOf, load, normaliseKey, provider } from "../../../plugins/auth/dockerConfig.ts"
import type { Credential } from "../../../src/oci/Credentials.ts"

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
