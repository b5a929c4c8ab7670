import { afterEach, describe, expect, test } from "bun:test"
import { Effect, Option, Redacted } from "effect"
import { join } from "node:path"
import { provider, sanitiseHost } from "../../../examples/custom-auth/provider.ts"
import { loadAuthPlugin } from "../../../src/composition/AuthPluginLoader.ts"

const set: Array<string> = []
const setEnv = (name: string, value: string) => {
  set.push(name)
  process.env[name] = value
}
afterEach(() => {
  for (const name of set.splice(0)) delete process.env[name]
})

describe("examples/custom-auth/provider.ts", () => {
  test("host names become variable suffixes", () => {
    expect(sanitiseHost("ghcr.io")).toBe("GHCR_IO")
    expect(sanitiseHost("127.0.0.1:5000")).toBe("127_0_0_1_5000")
    expect(sanitiseHost("my-reg.example.com")).toBe("MY_REG_EXAMPLE_COM")
  })

  test("both variables set: Basic credentials, the password Redacted", async () => {
    setEnv("REGISTRY_USER_REG_EXAMPLE_5000", "alice")
    setEnv("REGISTRY_PASSWORD_REG_EXAMPLE_5000", "example-secret")
    const c = Option.getOrThrow(await Effect.runPromise(provider.lookup("reg.example:5000", "target")))
    expect(c._tag).toBe("Basic")
    if (c._tag !== "Basic") return
    expect(c.username).toBe("alice")
    expect(Redacted.value(c.password)).toBe("example-secret")
    expect(JSON.stringify(c)).not.toContain("example-secret")
  })

  test("neither variable: None (the next provider is asked)", async () => {
    expect(Option.isNone(await Effect.runPromise(provider.lookup("unset.example", "source")))).toBe(true)
  })

  test("only one variable: CredentialsFailed naming both variables, without the value", async () => {
    setEnv("REGISTRY_PASSWORD_HALF_EXAMPLE", "half-secret")
    const e = await Effect.runPromise(Effect.flip(provider.lookup("half.example", "target")))
    expect(e._tag).toBe("CredentialsFailed")
    expect(e.message).toContain("REGISTRY_USER_HALF_EXAMPLE")
    expect(e.message).not.toContain("half-secret")
  })

  test("the auth plugin loader accepts the module", async () => {
    const p = await Effect.runPromise(loadAuthPlugin(join(import.meta.dir, "..", "..", "..", "examples", "custom-auth", "provider.ts")))
    expect(p.name).toBe(provider.name)
  })
})
