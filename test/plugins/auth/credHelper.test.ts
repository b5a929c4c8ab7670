import { BunContext } from "@effect/platform-bun"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Either, Layer, Option, Redacted } from "effect"
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cachedGet, get, HUB_SERVER, parseGetOutput, programOf, serverAddressOf } from "../../../plugins/auth/credHelper.ts"
import type { Runner } from "../../../plugins/auth/credHelper.ts"
import type { Credential } from "../../../src/transport/Credentials.ts"
import { Exec } from "../../../src/process/Exec.ts"

/** The stand-in helpers (docker-credential-test, -other, -garbage). */
const HELPERS_DIR = join(import.meta.dir, "..", "..", "fixtures", "credhelpers")

let exec: Runner
let dir = ""
beforeAll(async () => {
  exec = await Effect.runPromise(Effect.provide(Exec, Exec.layer.pipe(Layer.provide(BunContext.layer))))
  dir = await mkdtemp(join(tmpdir(), "cred-helper-test-"))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The real runner with the helpers' directory first on PATH and the stand-in's settings in the environment. */
const withEnv = (env: Record<string, string> = {}): Runner => ({
  run: (argv, options = {}) => exec.run(argv, { ...options, env: { PATH: `${HELPERS_DIR}:${process.env["PATH"] ?? ""}`, ...env, ...options.env } })
})

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

const run = (runner: Runner, suffix: string, server: string) =>
  Effect.runPromise(Effect.either(get(runner, suffix, server)).pipe(Effect.map(Either.map(plain))))

describe("parseGetOutput", () => {
  test("Username/Secret is Basic", () => {
    expect(plain(parseGetOutput("{\"ServerURL\":\"r\",\"Username\":\"u\",\"Secret\":\"s\"}")!)).toEqual({
      _tag: "Basic",
      username: "u",
      password: "s"
    })
  })

  test("Username \"<token>\" makes Secret an identity token", () => {
    expect(plain(parseGetOutput("{\"ServerURL\":\"r\",\"Username\":\"<token>\",\"Secret\":\"refresh\"}")!)).toEqual({
      _tag: "IdentityToken",
      username: "<token>",
      token: "refresh"
    })
  })

  test("an empty answer is no credential; non-JSON or wrong types are undefined", () => {
    expect(Option.isNone(parseGetOutput("{\"ServerURL\":\"r\",\"Username\":\"\",\"Secret\":\"\"}")!)).toBe(true)
    expect(parseGetOutput("not json")).toBeUndefined()
    expect(parseGetOutput("\"a string\"")).toBeUndefined()
    expect(parseGetOutput("{\"Username\":1,\"Secret\":\"s\"}")).toBeUndefined()
  })
})

describe("serverAddressOf", () => {
  test("Docker Hub's aliases use the legacy URL key; other hosts are sent as is", () => {
    for (const host of ["docker.io", "index.docker.io", "registry-1.docker.io", "Registry-1.Docker.IO"]) {
      expect(serverAddressOf(host)).toBe(HUB_SERVER)
    }
    expect(HUB_SERVER).toBe("https://index.docker.io/v1/")
    expect(serverAddressOf("127.0.0.1:5000")).toBe("127.0.0.1:5000")
    expect(programOf("ecr-login")).toBe("docker-credential-ecr-login")
  })
})

describe("get (through Exec, with stand-in helpers on PATH)", () => {
  test("a known server: Basic from Username/Secret", async () => {
    expect(await run(withEnv(), "test", "known.example.com")).toEqual(
      Either.right({ _tag: "Basic", username: "helper-user", password: "helper-secret" })
    )
  })

  test("Username \"<token>\": an IdentityToken", async () => {
    const runner = withEnv({ CREDHELPER_TEST_USER: "<token>", CREDHELPER_TEST_SECRET: "refresh-xyz" })
    expect(await run(runner, "test", "known.example.com")).toEqual(
      Either.right({ _tag: "IdentityToken", username: "<token>", token: "refresh-xyz" })
    )
  })

  test("the server address is what the helper reads on stdin", async () => {
    const log = join(dir, "stdin.log")
    await run(withEnv({ CREDHELPER_TEST_LOG: log }), "test", HUB_SERVER)
    expect(await readFile(log, "utf8")).toBe(`docker-credential-test ${HUB_SERVER}\n`)
  })

  test("\"credentials not found\" (exit 1) is no credential, not an error", async () => {
    expect(await run(withEnv(), "test", "elsewhere.example.com")).toEqual(Either.right(undefined))
  })

  test("a crashing helper: CredentialsFailed naming the helper, the server, the exit code and its stderr, in one line", async () => {
    const result = await Effect.runPromise(Effect.either(get(withEnv(), "test", "crash.example.com")))
    expect(Either.isLeft(result)).toBe(true)
    const e = Either.getLeft(result).pipe(Option.getOrThrow)
    expect(e._tag).toBe("CredentialsFailed")
    expect(e.provider).toBe("docker-credential-test")
    expect(e.message).toBe("credentials (docker-credential-test): get for crash.example.com exited with 3: boom")
    expect(e.message).not.toContain("\n")
  })

  test("a helper missing from PATH: CredentialsFailed saying so", async () => {
    const result = await Effect.runPromise(Effect.either(get(withEnv(), "absent", "known.example.com")))
    const e = Either.getLeft(result).pipe(Option.getOrThrow)
    expect(e.provider).toBe("docker-credential-absent")
    expect(e.detail).toBe("not found on PATH (the docker config names it for known.example.com)")
  })

  test("an answer that is not JSON: CredentialsFailed without quoting the answer", async () => {
    const result = await Effect.runPromise(Effect.either(get(withEnv(), "garbage", "known.example.com")))
    const e = Either.getLeft(result).pipe(Option.getOrThrow)
    expect(e.detail).toBe("get for known.example.com: the answer is not the expected JSON")
    expect(e.message).not.toContain("this is not json")
  })

  test("a helper that prints its answer and then fails: the answer (a secret) is not quoted", async () => {
    const script = join(dir, "docker-credential-leaky")
    await writeFile(script, "#!/usr/bin/env bash\ncat >/dev/null\necho '{\"Username\":\"u\",\"Secret\":\"LEAKED-SECRET\"}'\nexit 4\n", {
      mode: 0o755
    })
    const runner: Runner = { run: (argv, o = {}) => exec.run(argv, { ...o, env: { PATH: `${dir}:${process.env["PATH"] ?? ""}` } }) }
    const e = Either.getLeft(await Effect.runPromise(Effect.either(get(runner, "leaky", "h")))).pipe(Option.getOrThrow)
    expect(e.detail).toBe("get for h exited with 4")
    expect(e.message).not.toContain("LEAKED-SECRET")
  })

  test("a helper that does not answer in time: CredentialsFailed", async () => {
    const script = join(dir, "docker-credential-silent")
    // never answers (tail -f /dev/null blocks until killed)
    await writeFile(script, "#!/usr/bin/env bash\ncat >/dev/null\nexec tail -f /dev/null\n", { mode: 0o755 })
    const runner: Runner = { run: (argv, o = {}) => exec.run(argv, { ...o, env: { PATH: `${dir}:${process.env["PATH"] ?? ""}` } }) }
    const e = Either.getLeft(await Effect.runPromise(Effect.either(get(runner, "silent", "h", "200 millis")))).pipe(
      Option.getOrThrow
    )
    expect(e.provider).toBe("docker-credential-silent")
    expect(e.detail).toContain("no answer within")
  })

  test("a helper name that is not a plain name is refused without running anything", async () => {
    const result = await Effect.runPromise(Effect.either(get(withEnv(), "../../bin/sh", "h")))
    expect(Either.getLeft(result).pipe(Option.getOrThrow).detail).toContain("invalid credential helper name")
  })
})

describe("cachedGet", () => {
  test("one process per helper and server, also for concurrent lookups; failures are remembered too", async () => {
    const log = join(dir, "cache.log")
    const cached = cachedGet(withEnv({ CREDHELPER_TEST_LOG: log }))
    const all = Effect.all(
      [
        cached("test", "known.example.com"),
        cached("test", "known.example.com"),
        cached("test", "other.example.com"),
        Effect.either(cached("test", "crash.example.com")),
        Effect.either(cached("test", "crash.example.com"))
      ],
      { concurrency: "unbounded" }
    )
    await Effect.runPromise(all)
    await Effect.runPromise(all)
    const lines = (await readFile(log, "utf8")).trim().split("\n").sort()
    expect(lines).toEqual([
      "docker-credential-test crash.example.com",
      "docker-credential-test known.example.com",
      "docker-credential-test other.example.com"
    ])
  })
})
