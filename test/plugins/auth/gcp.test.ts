/** The Google provider: which hosts and sides it answers, what it sends, and that the library is imported only for them. */
import { describe, expect, test } from "bun:test"
import { Effect, Either, Option, Redacted, TestClock, TestContext } from "effect"
import * as Gcp from "../../../plugins/auth/gcp.ts"
import type { RegistryOptions } from "../../../src/model/Location.ts"
import type { Credential } from "../../../src/transport/Credentials.ts"

type Library = typeof import("google-auth-library")

/** A stand-in for google-auth-library: tokens "tok-<n>" living `lifeMs` on the wall clock, or a failure. */
const fakeLibrary = (options: { readonly lifeMs?: number; readonly fail?: string } = {}) => {
  let loads = 0
  let issued = 0
  const scopes: Array<unknown> = []
  const load = () => {
    loads++
    class GoogleAuth {
      constructor(o: { scopes: unknown }) {
        scopes.push(o.scopes)
      }
      getClient() {
        if (options.fail !== undefined) return Promise.reject(new Error(options.fail))
        const credentials: { expiry_date?: number } = {}
        return Promise.resolve({
          credentials,
          getAccessToken: () => {
            issued++
            if (options.lifeMs !== undefined) credentials.expiry_date = Date.now() + options.lifeMs
            return Promise.resolve({ token: `tok-${issued}` })
          }
        })
      }
    }
    return Promise.resolve({ GoogleAuth } as unknown as Library)
  }
  return { load, loads: () => loads, issued: () => issued, scopes }
}

const registries = (entries: Record<string, Partial<RegistryOptions>>) =>
  new Map(Object.entries(entries).map(([host, o]) => [host, { mirror: undefined, insecure: false, ...o }]))

const basic = (c: Option.Option<Credential>) =>
  Option.isSome(c) && c.value._tag === "Basic" ? `${c.value.username}:${Redacted.value(c.value.password)}` : undefined

describe("which hosts", () => {
  test("targets on gcr.io, *.gcr.io and *-docker.pkg.dev get oauth2accesstoken:<token>; other hosts never load the library", async () => {
    const lib = fakeLibrary()
    const provider = Gcp.provider(registries({}), lib.load)
    expect(Option.isNone(await Effect.runPromise(provider.lookup("ghcr.io", "target")))).toBe(true)
    expect(Option.isNone(await Effect.runPromise(provider.lookup("127.0.0.1:5000", "target")))).toBe(true)
    expect(lib.loads()).toBe(0)
    expect(basic(await Effect.runPromise(provider.lookup("europe-docker.pkg.dev", "target")))).toBe("oauth2accesstoken:tok-1")
    expect(basic(await Effect.runPromise(provider.lookup("eu.gcr.io", "target")))).toBe("oauth2accesstoken:tok-2")
    expect(lib.loads()).toBe(1)
    expect(lib.scopes).toEqual([["https://www.googleapis.com/auth/cloud-platform"]])
  })

  test("sources only with cloud: gcp (public images there are read anonymously); cloud: none turns a target off", async () => {
    const lib = fakeLibrary()
    const provider = Gcp.provider(registries({ "us-docker.pkg.dev": { cloud: "gcp" }, "eu.gcr.io": { cloud: "none" } }), lib.load)
    expect(Option.isNone(await Effect.runPromise(provider.lookup("gcr.io", "source")))).toBe(true)
    expect(Option.isSome(await Effect.runPromise(provider.lookup("us-docker.pkg.dev", "source")))).toBe(true)
    expect(Option.isNone(await Effect.runPromise(provider.lookup("eu.gcr.io", "target")))).toBe(true)
  })
})

describe("tokens", () => {
  test("the expiry is the time the library says is left, counted on Effect's Clock", async () => {
    const lib = fakeLibrary({ lifeMs: 3_600_000 })
    const c = await Effect.runPromise(
      Effect.gen(function*() {
        yield* TestClock.setTime(1_000)
        return yield* Gcp.provider(registries({}), lib.load).lookup("gcr.io", "target")
      }).pipe(Effect.provide(TestContext.TestContext))
    )
    const expiresAt = Option.isSome(c) ? c.value.expiresAt : undefined
    expect(expiresAt).toBeGreaterThan(1_000 + 3_590_000)
    expect(expiresAt).toBeLessThanOrEqual(1_000 + 3_600_000)
  })

  test("no Application Default Credentials for a host that says cloud: gcp: CredentialsFailed marked unauthorized, saying what was tried", async () => {
    const lib = fakeLibrary({
      fail: "Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started for more information."
    })
    const r = await Effect.runPromise(Effect.either(Gcp.provider(registries({ "gcr.io": { cloud: "gcp" } }), lib.load).lookup("gcr.io", "target")))
    expect(Either.isLeft(r) && [r.left.provider, r.left.unauthorized, r.left.detail]).toEqual([
      "gcp (Application Default Credentials)",
      true,
      "no Application Default Credentials found (tried GOOGLE_APPLICATION_CREDENTIALS, gcloud's application_default_credentials.json and the metadata server (GCE_METADATA_HOST, else metadata.google.internal))"
    ])
  })

  test("no Application Default Credentials for a host known only by its name: anonymous, as before (a public target's dry run)", async () => {
    const lib = fakeLibrary({
      fail: "Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started for more information."
    })
    const r = await Effect.runPromise(Gcp.provider(registries({}), lib.load).lookup("eu.gcr.io", "target"))
    expect(Option.isNone(r)).toBe(true)
  })

  test("any other failure of the library names it (first line only), whatever the host", async () => {
    const lib = fakeLibrary({ fail: "invalid_grant: account disabled\n    at stack" })
    const r = await Effect.runPromise(Effect.either(Gcp.provider(registries({}), lib.load).lookup("gcr.io", "target")))
    expect(Either.isLeft(r) && r.left.detail).toBe("no access token: invalid_grant: account disabled")
  })
})
