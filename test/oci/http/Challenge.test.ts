import { describe, expect, test } from "bun:test"
import { challengeScopes, parseChallenges, pickChallenge, scopeCovered } from "../../../src/oci/http/Challenge.ts"

describe("parseChallenges", () => {
  test("one Bearer challenge: scheme lower-cased, parameters by lower-cased key", () => {
    const all = parseChallenges("Bearer Realm=\"https://auth.docker.io/token\",Service=\"registry.docker.io\"")
    expect(all).toEqual([
      { scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io" } }
    ])
  })

  test("headers joined by fetch with \", \" become separate challenges", () => {
    const joined = "Basic realm=\"test-realm\", Bearer realm=\"https://auth.example/token\",service=\"reg\", Negotiate"
    const all = parseChallenges(joined)
    expect(all.map((c) => c.scheme)).toEqual(["basic", "bearer", "negotiate"])
    expect(all[0]!.params).toEqual({ realm: "test-realm" })
    expect(all[1]!.params).toEqual({ realm: "https://auth.example/token", service: "reg" })
    expect(all[2]!.params).toEqual({})
  })

  test("a quoted value keeps its commas and spaces (scope lists)", () => {
    const [c] = parseChallenges(
      "Bearer realm=\"http://127.0.0.1:5001/token\",service=\"test-registry\",scope=\"repository:dst/app:pull,push repository:src/app:pull\",error=\"insufficient_scope\""
    )
    expect(c!.params["scope"]).toBe("repository:dst/app:pull,push repository:src/app:pull")
    expect(c!.params["error"]).toBe("insufficient_scope")
    expect(challengeScopes(c!)).toEqual(["repository:dst/app:pull,push", "repository:src/app:pull"])
  })

  test("unquoted token values and spaces around \"=\" and \",\"", () => {
    const [c] = parseChallenges("Bearer realm = \"https://r/token\" , service=reg , error=invalid_token")
    expect(c!.params).toEqual({ realm: "https://r/token", service: "reg", error: "invalid_token" })
  })

  test("escaped quotes inside a quoted value are unescaped", () => {
    const [c] = parseChallenges("Basic realm=\"say \\\"hi\\\", please\"")
    expect(c!.params["realm"]).toBe("say \"hi\", please")
  })

  test("an ECR-style Basic challenge with a URL realm", () => {
    const [c] = parseChallenges("Basic realm=\"https://123.dkr.ecr.eu-west-1.amazonaws.com/\",service=\"ecr.amazonaws.com\"")
    expect(c).toEqual({
      scheme: "basic",
      params: { realm: "https://123.dkr.ecr.eu-west-1.amazonaws.com/", service: "ecr.amazonaws.com" }
    })
  })

  test("an empty header gives no challenges", () => {
    expect(parseChallenges("")).toEqual([])
    expect(parseChallenges(" , ")).toEqual([])
  })
})

describe("pickChallenge", () => {
  test("Bearer is preferred over Basic whatever the order", () => {
    expect(pickChallenge("Basic realm=\"b\", Bearer realm=\"t\"")?.scheme).toBe("bearer")
    expect(pickChallenge("Bearer realm=\"t\", Basic realm=\"b\"")?.scheme).toBe("bearer")
  })

  test("Basic when it is the only usable scheme; Negotiate is skipped", () => {
    expect(pickChallenge("Negotiate, Basic realm=\"b\"")).toEqual({ scheme: "basic", params: { realm: "b" } })
  })

  test("a Negotiate token68 does not hide the Basic challenge after it", () => {
    expect(pickChallenge("Negotiate YIIabc==, Basic realm=\"b\"")).toEqual({ scheme: "basic", params: { realm: "b" } })
  })

  test("nothing usable, or no header, gives undefined", () => {
    expect(pickChallenge("Negotiate")).toBeUndefined()
    expect(pickChallenge("")).toBeUndefined()
    expect(pickChallenge(undefined)).toBeUndefined()
  })
})

describe("challengeScopes", () => {
  test("no scope parameter gives no scopes", () => {
    expect(challengeScopes({ scheme: "bearer", params: { realm: "r" } })).toEqual([])
  })

  test("several spaces between scopes are one separator", () => {
    expect(challengeScopes({ scheme: "bearer", params: { scope: "repository:a:pull   repository:b:pull" } })).toEqual([
      "repository:a:pull",
      "repository:b:pull"
    ])
  })
})

describe("scopeCovered", () => {
  test("pull,push covers pull of the same repository, not of another; a host:port name is read from both ends", () => {
    const held = ["repository:127.0.0.1:5000/team/app:pull,push"]
    expect(scopeCovered(held, "repository:127.0.0.1:5000/team/app:pull")).toBe(true)
    expect(scopeCovered(held, "repository:127.0.0.1:5000/team/app:pull,push")).toBe(true)
    expect(scopeCovered(held, "repository:127.0.0.1:5000/team/other:pull")).toBe(false)
    expect(scopeCovered(["repository:team/app:pull"], "repository:team/app:push")).toBe(false)
    expect(scopeCovered(["registry:catalog:*"], "registry:catalog:search")).toBe(true)
  })
})
