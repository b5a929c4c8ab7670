import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Either, Option, Redacted } from "effect"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { AuthKeyUnusable, load, provider } from "../../../plugins/auth/jsonKey.ts"

let dir = ""
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "json-key-test-"))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const loadEither = (path: string) => Effect.runPromise(Effect.either(load(path)))

const expectUnusable = async (path: string, reason: string) => {
  const r = await loadEither(path)
  expect(Either.isLeft(r)).toBe(true)
  if (Either.isRight(r)) return
  expect(r.left).toBeInstanceOf(AuthKeyUnusable)
  expect(r.left.path).toBe(path)
  expect(r.left.reason).toBe(reason)
  expect(r.left.message).toBe(`target repo auth key ${path}: ${reason}`)
}

describe("jsonKey.load", () => {
  test("a missing file: AuthKeyUnusable \"file not found\"", async () => {
    await expectUnusable(join(dir, "missing.json"), "file not found")
  })

  test("an empty file: AuthKeyUnusable \"file is empty\"", async () => {
    const path = join(dir, "empty.json")
    await writeFile(path, "")
    await expectUnusable(path, "file is empty")
  })

  test("a file of only whitespace counts as empty", async () => {
    const path = join(dir, "blank.json")
    await writeFile(path, "  \n\t\n")
    await expectUnusable(path, "file is empty")
  })

  test("a directory: AuthKeyUnusable \"is a directory, not a file\"", async () => {
    const path = join(dir, "a-directory")
    await mkdir(path)
    await expectUnusable(path, "is a directory, not a file")
  })

  test("a key file: its exact content, Redacted", async () => {
    const content = "{\n  \"type\": \"service_account\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nabc\\n\"\n}\n"
    const path = join(dir, "key.json")
    await writeFile(path, content)
    const key = await Effect.runPromise(load(path))
    expect(Redacted.value(key)).toBe(content)
    expect(String(key)).not.toContain("service_account")
  })
})

describe("jsonKey.provider", () => {
  const key = Redacted.make("{\"type\":\"service_account\"}")

  test("answers the target with Basic _json_key and the key file content", async () => {
    const c = await Effect.runPromise(provider(key).lookup("eu.gcr.io", "target"))
    expect(Option.isSome(c)).toBe(true)
    const v = Option.getOrThrow(c)
    expect(v._tag).toBe("Basic")
    if (v._tag !== "Basic") return
    expect(v.username).toBe("_json_key")
    expect(Redacted.value(v.password)).toBe("{\"type\":\"service_account\"}")
  })

  test("answers nothing for a source, even on the same host", async () => {
    expect(Option.isNone(await Effect.runPromise(provider(key).lookup("eu.gcr.io", "source")))).toBe(true)
    expect(Option.isNone(await Effect.runPromise(provider(key).lookup("registry-1.docker.io", "source")))).toBe(true)
  })

  test("is named target-repo-auth-key", () => {
    expect(provider(key).name).toBe("target-repo-auth-key")
  })
})
