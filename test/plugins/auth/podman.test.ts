import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Option, Redacted } from "effect"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { authFilePath, fromFile, make } from "../../../plugins/auth/podman.ts"
import type { CredentialProvider } from "../../../src/transport/Credentials.ts"

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")

let dir = ""
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "podman-auth-test-"))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** username:password of a lookup, or undefined. */
const basicOf = async (p: CredentialProvider, host: string) => {
  const c = await Effect.runPromise(p.lookup(host, "source"))
  if (Option.isNone(c) || c.value._tag !== "Basic") return undefined
  return `${c.value.username}:${Redacted.value(c.value.password)}`
}

/** Runs `make` with some environment variables replaced, restoring them afterwards. */
const makeWith = async (env: Record<string, string | undefined>) => {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  apply(env)
  try {
    return await Effect.runPromise(make)
  } finally {
    apply(saved)
  }
}

describe("authFilePath", () => {
  test("$REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json, else none", () => {
    expect(authFilePath({ REGISTRY_AUTH_FILE: "/a/auth.json", XDG_RUNTIME_DIR: "/run/user/1" })).toBe("/a/auth.json")
    expect(authFilePath({ XDG_RUNTIME_DIR: "/run/user/1" })).toBe("/run/user/1/containers/auth.json")
    expect(authFilePath({ REGISTRY_AUTH_FILE: "", XDG_RUNTIME_DIR: "/run/user/1" })).toBe("/run/user/1/containers/auth.json")
    expect(authFilePath({})).toBeUndefined()
  })
})

describe("fromFile", () => {
  test("an auths file gives a provider named after it; keys are normalised as in docker config", async () => {
    const path = join(dir, "auth.json")
    await writeFile(path, JSON.stringify({ auths: { "https://quay.io": { auth: b64("pod:man") }, "reg.example:5000": { auth: b64("r:s") } } }))
    const p = Option.getOrThrow(await Effect.runPromise(fromFile(path)))
    expect(p.name).toBe(`podman (${path})`)
    expect(await basicOf(p, "quay.io")).toBe("pod:man")
    expect(await basicOf(p, "reg.example:5000")).toBe("r:s")
    expect(await basicOf(p, "other.example")).toBeUndefined()
  })

  test("a missing file (or a directory) is no provider", async () => {
    expect(Option.isNone(await Effect.runPromise(fromFile(join(dir, "missing.json"))))).toBe(true)
    expect(Option.isNone(await Effect.runPromise(fromFile(dir)))).toBe(true)
  })
})

describe("make (reads the environment when run)", () => {
  test("$REGISTRY_AUTH_FILE", async () => {
    const path = join(dir, "explicit.json")
    await writeFile(path, JSON.stringify({ auths: { "ghcr.io": { auth: b64("gh:pw") } } }))
    const p = await makeWith({ REGISTRY_AUTH_FILE: path, XDG_RUNTIME_DIR: undefined })
    expect(await basicOf(Option.getOrThrow(p), "ghcr.io")).toBe("gh:pw")
  })

  test("$XDG_RUNTIME_DIR/containers/auth.json when $REGISTRY_AUTH_FILE is unset", async () => {
    const runtime = join(dir, "runtime")
    await mkdir(join(runtime, "containers"), { recursive: true })
    await writeFile(join(runtime, "containers", "auth.json"), JSON.stringify({ auths: { "ghcr.io": { auth: b64("xdg:pw") } } }))
    const p = await makeWith({ REGISTRY_AUTH_FILE: undefined, XDG_RUNTIME_DIR: runtime })
    expect(Option.getOrThrow(p).name).toContain(join(runtime, "containers", "auth.json"))
    expect(await basicOf(Option.getOrThrow(p), "ghcr.io")).toBe("xdg:pw")
  })

  test("no file, or neither variable: None", async () => {
    expect(Option.isNone(await makeWith({ REGISTRY_AUTH_FILE: join(dir, "nope.json"), XDG_RUNTIME_DIR: undefined }))).toBe(true)
    expect(Option.isNone(await makeWith({ REGISTRY_AUTH_FILE: undefined, XDG_RUNTIME_DIR: join(dir, "empty-runtime") }))).toBe(true)
    expect(Option.isNone(await makeWith({ REGISTRY_AUTH_FILE: undefined, XDG_RUNTIME_DIR: undefined }))).toBe(true)
  })
})
