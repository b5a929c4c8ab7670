/**
 * Bad input through the real CLI subprocess (`bun src/cli/bin.ts`): exit 2, a message on
 * stderr naming the problem and where it is, no stack trace, and not one request to any
 * registry (the definitions point their target, sources and mirror at a server that counts
 * every request it gets).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { generateKeyPairSync, randomBytes } from "node:crypto"
import { encryptCosignKey, p256, pkcs8Pem, spkiPem } from "../fixtures/signing/CosignKeys.ts"
import { startCountingServer } from "../support/FakeRegistry.ts"
import { paxArchive, paxRecord } from "../support/TarFixtures.ts"
import type { FakeServer } from "../support/FakeRegistry.ts"

const ROOT = join(import.meta.dir, "..", "..")
const SHA = "31a54a0cf86d7354788a8265f60ae6acb4b348a67efbcf7c1007dd3cf7af05ab"

let server: FakeServer
let dir = ""
let host = ""

beforeAll(async () => {
  server = startCountingServer()
  host = server.host
  dir = await mkdtemp(join(tmpdir(), "bad-input-test-"))
  await mkdir(join(dir, "home"))
})
afterAll(async () => {
  await server.stop()
  await rm(dir, { recursive: true, force: true })
})

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the CLI with a clean environment (no SYNCER_*, an empty docker config). */
const cli = async (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Run> => {
  const proc = Bun.spawn(["bun", "src/cli/bin.ts", ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env["PATH"] ?? "",
      HOME: join(dir, "home"),
      DOCKER_CONFIG: join(dir, "no-docker-config"),
      NO_COLOR: "1",
      ...env
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr }
}

const file = async (name: string, text: string) => {
  const path = join(dir, name)
  await writeFile(path, text)
  return path
}

/** A definition whose every registry is the counting server. */
const definition = (...images: ReadonlyArray<string>) =>
  [`targetRepoPrefix: "${host}/mirror/"`, "registries:", "  docker.io:", `    mirror: "${host}"`, "images:", ...images, ""].join("\n")

const validDefinition = () => definition(`  - source: "${host}/team/app:1.0"`, "  - source: \"busybox:1.36\"")

/** Exit 2, every expected piece on stderr, no stack trace anywhere, no request to any registry. */
const expectRejected = (run: Run, ...pieces: ReadonlyArray<string | RegExp>) => {
  expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 2 })
  for (const piece of pieces) {
    if (typeof piece === "string") expect(run.stderr).toContain(piece)
    else expect(run.stderr).toMatch(piece)
  }
  expect(`${run.stdout}\n${run.stderr}`).not.toMatch(/^ {4}at /m)
  expect(server.requests()).toEqual([])
}

describe("bad definition files: exit 2, file:line:col and entry, nothing contacted", () => {
  test("malformed YAML", async () => {
    const path = await file("malformed.yaml", `targetRepoPrefix: "${host}/mirror/"\nimages:\n  - source: "busybox:1.36\n  - [\n`)
    expectRejected(await cli(["-i", path]), "invalid YAML", new RegExp(`${path}:\\d+:\\d+: `))
  })

  test("an empty file", async () => {
    const path = await file("empty.yaml", "")
    expectRejected(await cli(["-i", path]), `${path}:1:1: `, "the file is empty")
  })

  test("`images` is not a list", async () => {
    const path = await file("not-a-list.yaml", `targetRepoPrefix: "${host}/mirror/"\nimages:\n  source: "${host}/team/app:1.0"\n`)
    expectRejected(await cli(["-i", path]), `${path}:3:3: `, "images must be a list")
  })

  test("missing targetRepoPrefix", async () => {
    const path = await file("no-prefix.yaml", `images:\n  - source: "${host}/team/app:1.0"\n`)
    expectRejected(await cli(["-i", path]), `${path}:1:1: `, "missing required key \"targetRepoPrefix\"")
  })

  test("unknown keys amd64only and Tag, each with a did-you-mean", async () => {
    const path = await file(
      "unknown-keys.yaml",
      definition(`  - source: "${host}/team/app:1.0"`, "    amd64only: true", "    Tag: \"1.0-v1\"")
    )
    const run = await cli(["-i", path])
    expectRejected(
      run,
      `${path}:7:5: images[0] (${host}/team/app:1.0): unknown key "amd64only" (did you mean "amd64Only"?)`,
      `${path}:8:5: images[0] (${host}/team/app:1.0): unknown key "Tag" (did you mean "tag"?)`
    )
  })

  test("invalid references: `Busy Box::1` and `Library/BusyBox:1`", async () => {
    const path = await file(
      "bad-refs.yaml",
      definition(`  - source: "${host}/team/app:1.0"`, "  - source: \"Busy Box::1\"", "  - source: \"Library/BusyBox:1\"")
    )
    expectRejected(
      await cli(["-i", path]),
      `${path}:7:13: images[1] (Busy Box::1): invalid image reference "Busy Box::1"`,
      `${path}:8:13: images[2] (Library/BusyBox:1): invalid image reference "Library/BusyBox:1": repository name must be lowercase`
    )
  })

  test("a digest without `tag`", async () => {
    const path = await file("digest-no-tag.yaml", definition(`  - source: "busybox@sha256:${SHA}"`))
    expectRejected(await cli(["-i", path]), `${path}:6:13: images[0] (busybox@sha256:${SHA}): `, "add a \"tag\"")
  })

  test("a malformed digest: busybox@sha256:abc", async () => {
    const path = await file("bad-digest.yaml", definition("  - source: \"busybox@sha256:abc\"", "    tag: \"1\""))
    expectRejected(await cli(["-i", path]), `${path}:6:13: images[0] (busybox@sha256:abc): `, "invalid digest \"sha256:abc\"")
  })

  test("two entries mapping to one target", async () => {
    const path = await file("duplicate.yaml", definition("  - source: \"busybox:1.36\"", "  - source: \"docker.io/library/busybox:1.36\""))
    expectRejected(
      await cli(["-i", path]),
      `${path}:7:5: images[1] (docker.io/library/busybox:1.36): maps to the same target "${host}/mirror/library/busybox:1.36" as images[0] (busybox:1.36)`,
      "lines 6 and 7"
    )
  })

  test("a mirror that is not a valid host", async () => {
    const path = await file(
      "bad-mirror.yaml",
      [
        `targetRepoPrefix: "${host}/mirror/"`,
        "registries:",
        "  docker.io:",
        "    mirror: \"https://mirror.example.com/v2\"",
        "images:",
        "  - source: \"busybox:1.36\"",
        ""
      ].join("\n")
    )
    expectRejected(
      await cli(["-i", path]),
      `${path}:4:13: registries["docker.io"]: mirror "https://mirror.example.com/v2" is not a valid host[:port]`
    )
  })

  test("a prefix that is not a valid registry/repository", async () => {
    const path = await file("bad-prefix.yaml", `targetRepoPrefix: "${host}/Mirror//"\nimages:\n  - source: "${host}/team/app:1.0"\n`)
    expectRejected(await cli(["-i", path]), `${path}:1:19: invalid target repository prefix "${host}/Mirror//"`)
  })

  test("a prefix without a registry host", async () => {
    const path = await file("hostless-prefix.yaml", `targetRepoPrefix: "mirror/"\nimages:\n  - source: "${host}/team/app:1.0"\n`)
    expectRejected(await cli(["-i", path]), `${path}:1:19: `, "prefix must start with a registry host")
  })

  test("an invalid --target-repo-prefix override says it came from the command line", async () => {
    const path = await file("valid-for-override.yaml", validDefinition())
    expectRejected(await cli(["-i", path, "-r", "Mirror"]), "invalid target repository prefix \"Mirror\"", "override")
  })
})

describe("bad tags rules: exit 2, file:line:col and entry, nothing contacted", () => {
  // the host is known once the counting server runs
  let repo = ""
  beforeAll(() => {
    repo = `${host}/team/app`
  })
  const rule = (name: string, ...lines: ReadonlyArray<string>) => file(name, definition(...lines))

  test("a tag in the source", async () => {
    const path = await rule("rule-tag.yaml", `  - source: "${host}/team/app:1.0"`, "    tags: { semver: \"^1\" }")
    expectRejected(
      await cli(["-i", path]),
      `${path}:6:13: images[0] (${host}/team/app:1.0): a tags rule selects the tags itself: name the repository only (source: "${repo}"), without a tag`
    )
  })

  test("a digest in the source", async () => {
    const path = await rule("rule-digest.yaml", `  - source: "${host}/team/app@sha256:${SHA}"`, "    tags: { semver: \"^1\" }")
    expectRejected(await cli(["-i", path]), `${path}:6:13: images[0] (${host}/team/app@sha256:${SHA}): `, "without a digest")
  })

  test("tag: beside tags", async () => {
    const path = await rule("rule-tag-key.yaml", `  - source: "${repo}"`, "    tag: \"1.0\"", "    tags: { semver: \"^1\" }")
    expectRejected(await cli(["-i", path]), `${path}:7:5: images[0] (${repo}): tag cannot be combined with tags`)
  })

  test("amd64Only and platforms beside tags (amd64Only alone goes with a rule)", async () => {
    const path = await rule(
      "rule-amd64.yaml",
      `  - source: "${repo}"`,
      "    amd64Only: true",
      "    platforms: [\"linux/amd64\"]",
      "    tags: { match: \"^1\" }"
    )
    expectRejected(await cli(["-i", path]), `${path}:8:5: images[0] (${repo}): platforms cannot be combined with amd64Only`)
  })

  test("neither semver nor match", async () => {
    const path = await rule("rule-empty.yaml", `  - source: "${repo}"`, "    tags:", "      exclude: \"rc\"", "      latest: 3")
    expectRejected(await cli(["-i", path]), `${path}:7:5: images[0] (${repo}): tags needs at least one of "semver" and "match"`)
  })

  test("an invalid semver range", async () => {
    const path = await rule("rule-range.yaml", `  - source: "${repo}"`, "    tags:", "      semver: \">=banana\"")
    expectRejected(await cli(["-i", path]), `${path}:8:15: images[0] (${repo}): semver ">=banana" is not a valid range`)
  })

  test("invalid regular expressions in match and exclude, both reported", async () => {
    const path = await rule("rule-regex.yaml", `  - source: "${repo}"`, "    tags:", "      match: \"(\"", "      exclude: \"[\"")
    expectRejected(
      await cli(["-i", path]),
      `${path}:8:14: images[0] (${repo}): match is not a valid regular expression`,
      `${path}:9:16: images[0] (${repo}): exclude is not a valid regular expression`
    )
  })

  for (const [latest, column] of [["0", 15], ["-1", 15], ["1.5", 15]] as const) {
    test(`latest: ${latest}`, async () => {
      const path = await rule(`rule-latest-${latest}.yaml`, `  - source: "${repo}"`, "    tags:", "      match: \"^1\"", `      latest: ${latest}`)
      expectRejected(await cli(["-i", path]), `${path}:9:${column}: images[0] (${repo}): latest must be a whole number of at least 1`)
    })
  }

  test("an unknown key in a rule, with a did-you-mean", async () => {
    const path = await rule("rule-unknown.yaml", `  - source: "${repo}"`, "    tags:", "      semvr: \"^1\"")
    expectRejected(await cli(["-i", path]), `${path}:8:7: images[0] (${repo}): unknown key "semvr" (did you mean "semver"?)`)
  })

  test("two rules for one repository", async () => {
    const path = await rule("rule-twice.yaml", `  - source: "${repo}"`, "    tags: { semver: \"^1\" }", `  - source: "${repo}"`, "    tags: { match: \"^2\" }")
    expectRejected(await cli(["-i", path]), `${path}:9:5: images[1] (${repo}): another tags rule (images[0], line 6) already selects tags of`)
  })

  test("plan, --dry-run and pin reject a bad rule the same way", async () => {
    const path = await rule("rule-commands.yaml", `  - source: "${repo}"`, "    tags: { latest: 0 }")
    for (const args of [["plan", "-i", path], ["--dry-run", "-i", path], ["pin", "-i", path], ["pin", "--check", "-i", path]]) {
      expectRejected(await cli(args), `${path}:7:5: images[0] (${repo}): tags needs at least one of`, `${path}:7:21: images[0] (${repo}): latest must be`)
    }
  })
})

describe("bad platforms and target lists: exit 2, file:line:col and entry, nothing contacted", () => {
  const app = () => `  - source: "${host}/team/app:1"`
  const entry = () => `images[0] (${host}/team/app:1)`

  test("a platform without an architecture", async () => {
    const path = await file("platform-os.yaml", definition(app(), "    platforms: [\"linux\"]"))
    expectRejected(await cli(["-i", path]), `${path}:7:17: ${entry()}: "linux" is not a platform: write os/architecture[/variant]`)
  })

  test("an empty platforms list", async () => {
    const path = await file("platform-empty.yaml", definition(app(), "    platforms: []"))
    expectRejected(await cli(["-i", path]), `${path}:7:16: ${entry()}: platforms is an empty list`)
  })

  test("platforms beside amd64Only", async () => {
    const path = await file("platform-amd64.yaml", definition(app(), "    amd64Only: true", "    platforms: [\"linux/amd64\"]"))
    expectRejected(await cli(["-i", path]), `${path}:8:5: ${entry()}: platforms cannot be combined with amd64Only`)
  })

  test("a platform given twice in the file's default", async () => {
    const path = await file("platform-twice.yaml", `platforms: ["linux/arm64", "linux/arm64/v8"]\n${definition(app())}`)
    expectRejected(await cli(["-i", path]), `${path}:1:28: platform "linux/arm64/v8" is listed twice ("linux/arm64" covers it)`)
  })

  test("a prefix list with a non-string", async () => {
    const path = await file("prefix-number.yaml", `targetRepoPrefix: ["${host}/a/", 5]\nimages:\n${app()}\n`)
    expectRejected(await cli(["-i", path]), `${path}:1:${27 + host.length}: each targetRepoPrefix must be a string`)
  })

  test("the same prefix twice in the file, and on the command line", async () => {
    const path = await file("prefix-twice.yaml", `targetRepoPrefix: ["${host}/a/", "${host}/a/"]\nimages:\n${app()}\n`)
    expectRejected(await cli(["-i", path]), `${path}:1:${27 + host.length}: target prefix "${host}/a/" is given twice`)
    const valid = await file("prefix-valid.yaml", validDefinition())
    expectRejected(await cli(["-i", valid, "-r", `${host}/b/`, "-r", `${host}/b/`]), `target prefix "${host}/b/" is given twice on the command line`)
  })

  test("an empty prefix list", async () => {
    const path = await file("prefix-empty.yaml", `targetRepoPrefix: []\nimages:\n${app()}\n`)
    expectRejected(await cli(["-i", path]), `${path}:1:19: targetRepoPrefix is an empty list`)
  })
})

describe("files that cannot be used: exit 2, nothing contacted", () => {
  test("a missing images file", async () => {
    const path = join(dir, "nope.yaml")
    expectRejected(await cli(["-i", path]), `cannot read images file "${path}": no such file`)
  })

  test("an unreadable images file (a directory)", async () => {
    const path = join(dir, "a-directory.yaml")
    await mkdir(path, { recursive: true })
    expectRejected(await cli(["-i", path]), `cannot read images file "${path}": it is a directory`)
  })

  test("a missing auth key file", async () => {
    const path = await file("valid-missing-key.yaml", validDefinition())
    const key = join(dir, "no-key.json")
    expectRejected(await cli(["-i", path, "-t", key]), `target repo auth key ${key}: file not found`)
  })

  test("an empty auth key file", async () => {
    const path = await file("valid-empty-key.yaml", validDefinition())
    const key = await file("empty-key.json", "")
    expectRejected(await cli(["-i", path, "--target-repo-auth-key", key]), `target repo auth key ${key}: file is empty`)
  })

  test("an empty auth key file given by SYNCER_TARGET_REPO_AUTH_KEY", async () => {
    const path = await file("valid-empty-key-env.yaml", validDefinition())
    const key = await file("empty-key-env.json", "\n")
    expectRejected(await cli(["-i", path], { SYNCER_TARGET_REPO_AUTH_KEY: key }), `target repo auth key ${key}: file is empty`)
  })
})

describe("bad flags: exit 2, nothing contacted", () => {
  test("--concurrency 0", async () => {
    const path = await file("valid-concurrency.yaml", validDefinition())
    expectRejected(await cli(["-i", path, "--concurrency", "0"]), "--concurrency must be a whole number from 1 to 256 (got 0)")
  })

  test("-j 100000: above the cap of 256", async () => {
    const path = await file("valid-concurrency-huge.yaml", validDefinition())
    expectRejected(await cli(["-i", path, "-j", "100000"]), "--concurrency must be a whole number from 1 to 256 (got 100000)")
  })

  test("--concurrency 257: one above the cap", async () => {
    const path = await file("valid-concurrency-257.yaml", validDefinition())
    expectRejected(await cli(["-i", path, "--concurrency", "257"]), "--concurrency must be a whole number from 1 to 256 (got 257)")
  })

  test("SYNCER_CONCURRENCY=0", async () => {
    const path = await file("valid-concurrency-env.yaml", validDefinition())
    expectRejected(await cli(["-i", path], { SYNCER_CONCURRENCY: "0" }), "--concurrency must be a whole number from 1 to 256 (got 0)")
  })

  test("an unknown flag after the others is named", async () => {
    const path = await file("valid-unknown-flag.yaml", validDefinition())
    expectRejected(await cli(["-i", path, "--bogus"]), "--bogus")
  })

  test("an unknown flag before the others is named", async () => {
    const path = await file("valid-unknown-flag-first.yaml", validDefinition())
    expectRejected(await cli(["--bogus", "-i", path]), "--bogus")
  })

  test("missing --images-file", async () => {
    expectRejected(await cli([]), "--images-file")
  })

  test("both --target-repo-auth-key and --access-token", async () => {
    const path = await file("valid-both.yaml", validDefinition())
    const key = await file("key.json", "{\"type\":\"service_account\"}")
    expectRejected(await cli(["-i", path, "-t", key, "-a", "token"]), "--target-repo-auth-key", "--access-token")
  })

  test("an invalid SYNCER_DRY_RUN value names the variable", async () => {
    const path = await file("valid-dry-run-env.yaml", validDefinition())
    expectRejected(await cli(["-i", path], { SYNCER_DRY_RUN: "maybe" }), "SYNCER_DRY_RUN")
  })
})

describe("key files and secrets that cannot be used: exit 2, nothing contacted, no secret echoed", () => {
  test("an auth key path that is a directory", async () => {
    const path = await file("valid-key-dir.yaml", validDefinition())
    const key = join(dir, "key-dir.json")
    await mkdir(key, { recursive: true })
    expectRejected(await cli(["-i", path, "-t", key]), `target repo auth key ${key}: is a directory, not a file`)
  })

  test("a blank --access-token", async () => {
    const path = await file("valid-blank-token.yaml", validDefinition())
    expectRejected(await cli(["-i", path, "--access-token", "   "]), "--access-token is empty")
  })

  test("a missing --sign-key file", async () => {
    const path = await file("valid-no-sign-key.yaml", validDefinition())
    const key = join(dir, "no-cosign.key")
    expectRejected(await cli(["-i", path, "--sign-key", key]), `signing key ${key}: not a key (file not found)`)
  })

  test("a --sign-key file without a PEM block", async () => {
    const path = await file("valid-sign-not-pem.yaml", validDefinition())
    const key = await file("not-pem.key", "this is not a key\n")
    expectRejected(await cli(["-i", path, "--sign-key", key]), `signing key ${key}: not a key (no PEM block found)`)
  })

  test("a --sign-key that is a public key", async () => {
    const path = await file("valid-sign-public.yaml", validDefinition())
    const key = await file("cosign.pub", spkiPem(p256().publicKey))
    expectRejected(await cli(["-i", path, "--sign-key", key]), `signing key ${key}: not a key (PEM block "PUBLIC KEY" is not a private key)`)
  })

  test("a --sign-key on an unsupported curve (P-384)", async () => {
    const path = await file("valid-sign-p384.yaml", validDefinition())
    const key = await file("p384.key", pkcs8Pem(generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey))
    expectRejected(await cli(["-i", path, "--sign-key", key]), `signing key ${key}: unsupported curve`, "only P-256 is supported")
  })

  test("an encrypted --sign-key with the wrong SYNCER_SIGN_KEY_PASSWORD: \"wrong password\", and neither password is echoed", async () => {
    const path = await file("valid-sign-wrong-pw.yaml", validDefinition())
    const right = `PLANTED-RIGHT-${randomBytes(6).toString("hex")}`
    const wrong = `PLANTED-WRONG-${randomBytes(6).toString("hex")}`
    const key = await file("encrypted.key", encryptCosignKey(p256().privateKey, right))
    const run = await cli(["-i", path, "--sign-key", key], { SYNCER_SIGN_KEY_PASSWORD: wrong })
    expectRejected(run, `signing key ${key}: wrong password`)
    expect(`${run.stdout}${run.stderr}`).not.toContain(right)
    expect(`${run.stdout}${run.stderr}`).not.toContain(wrong)
  })

  test("an encrypted key by SYNCER_SIGN_KEY with the wrong COSIGN_PASSWORD", async () => {
    const path = await file("valid-sign-env-wrong-pw.yaml", validDefinition())
    const key = await file("encrypted-env.key", encryptCosignKey(p256().privateKey, "right-password"))
    expectRejected(await cli(["-i", path], { SYNCER_SIGN_KEY: key, COSIGN_PASSWORD: "wrong-password" }), `signing key ${key}: wrong password`)
  })

  test("a --sign-key path that is a directory", async () => {
    const path = await file("valid-sign-dir.yaml", validDefinition())
    const key = join(dir, "sign-key-dir")
    await mkdir(key, { recursive: true })
    expectRejected(await cli(["-i", path, "--sign-key", key]), `signing key ${key}: not a key (is a directory)`)
  })
})

describe("careless input: exit 2, nothing contacted, no input lost", () => {
  test("--report naming the definition file itself: refused, the file untouched", async () => {
    const text = validDefinition()
    const path = await file("report-is-definition.yaml", text)
    expectRejected(await cli(["-i", path, "--report", path]), `--report ${path} is also given as --images-file`)
    expect(await Bun.file(path).text()).toBe(text)
  })

  test("--junit naming the auth key file (through another spelling of the path): refused, the key untouched", async () => {
    const path = await file("junit-is-key.yaml", validDefinition())
    const key = await file("junit-key.json", "{\"type\":\"service_account\"}\n")
    const other = join(dir, ".", "junit-key.json")
    expectRejected(await cli(["-i", path, "-t", key, "--junit", other]), "is also given as --target-repo-auth-key")
    expect(await Bun.file(key).text()).toBe("{\"type\":\"service_account\"}\n")
  })

  test("--report and --junit naming the same file", async () => {
    const path = await file("report-junit-same.yaml", validDefinition())
    const out = join(dir, "same-output.xml")
    expectRejected(await cli(["-i", path, "--report", out, "--junit", out]), "--report and --junit name the same file")
  })

  test("an access token with a line break (flag and variable): refused up front, the flag named, the token not echoed", async () => {
    const path = await file("token-crlf.yaml", validDefinition())
    const token = "secret-token-value\r\nX-Injected: 1"
    const byFlag = await cli(["-i", path, "-a", token])
    expectRejected(byFlag, "--access-token (SYNCER_ACCESS_TOKEN) contains a control character")
    expect(byFlag.stderr).not.toContain("secret-token-value")
    const byEnv = await cli(["-i", path], { SYNCER_ACCESS_TOKEN: "secret-token-value\nmore" })
    expectRejected(byEnv, "--access-token (SYNCER_ACCESS_TOKEN) contains a control character")
    expect(byEnv.stderr).not.toContain("secret-token-value")
  })

  test("-i /dev/zero ends at once: larger than 4 MiB", async () => {
    const started = performance.now()
    expectRejected(await cli(["-i", "/dev/zero"]), "cannot read images file \"/dev/zero\": larger than 4 MiB")
    expect(performance.now() - started).toBeLessThan(10_000)
  })

  test("-t /dev/zero ends at once: larger than 4 MiB", async () => {
    const path = await file("key-dev-zero.yaml", validDefinition())
    expectRejected(await cli(["-i", path, "-t", "/dev/zero"]), "target repo auth key /dev/zero: larger than 4 MiB")
  })

  test("a 3 MB value in the file is shortened in the message, not echoed (twice)", async () => {
    const huge = `${host}/team/${"Ab".repeat(1536 * 1024)}:1`
    const path = await file("huge-value.yaml", definition(`  - source: "${huge}"`))
    const run = await cli(["-i", path])
    expectRejected(run, "invalid image reference", "characters)")
    expect(run.stderr.length).toBeLessThan(4000)
  })

  test("a 100 KB --target-repo-prefix is shortened in the message", async () => {
    const path = await file("huge-prefix.yaml", validDefinition())
    const run = await cli(["-i", path, "-r", `${host}/${"x".repeat(100 * 1024)}`])
    expectRejected(run, "invalid target repository prefix", "characters)")
    expect(run.stderr.length).toBeLessThan(4000)
  })

  test("--from a tar whose pax header says size=-1536 exits 2 within 5 s (no endless loop)", async () => {
    const path = await file("pax-negative.yaml", validDefinition())
    const tar = join(dir, "pax-negative.tar")
    await writeFile(tar, paxArchive(paxRecord("size", "-1536")))
    const started = performance.now()
    expectRejected(await cli(["-i", path, "--from", tar]), `layout ${tar}: not a usable tar archive`, "bad pax size")
    expect(performance.now() - started).toBeLessThan(5000)
  })

  test("a definition file over 4 MiB is refused before it is parsed", async () => {
    const path = await file("over-cap.yaml", `${validDefinition()}# ${"x".repeat(4 * 1024 * 1024)}\n`)
    expectRejected(await cli(["-i", path]), "larger than 4 MiB")
  })
})

describe("--help", () => {
  const flags: ReadonlyArray<readonly [string, string | undefined, string]> = [
    ["--images-file", "-i", "SYNCER_IMAGES_FILE"],
    ["--target-repo-auth-key", "-t", "SYNCER_TARGET_REPO_AUTH_KEY"],
    ["--access-token", "-a", "SYNCER_ACCESS_TOKEN"],
    ["--target-repo-prefix", "-r", "SYNCER_TARGET_REPO_PREFIX"],
    ["--dry-run", undefined, "SYNCER_DRY_RUN"],
    ["--debug", undefined, "SYNCER_DEBUG"],
    ["--report", undefined, "SYNCER_REPORT"],
    ["--concurrency", "-j", "SYNCER_CONCURRENCY"]
  ]

  test("exits 0 and lists every flag with its alias and env var name", async () => {
    const run = await cli(["--help"])
    expect(run.code).toBe(0)
    // eslint-disable-next-line no-control-regex
    const help = run.stdout.replace(/\u001b\[[0-9;]*m/g, "")
    // one block per option, starting at its heading line: "(-i, --images-file text)" or "--dry-run"
    const blocks = help.split(/\n(?=\(-|--)/)
    for (const [flag, alias, env] of flags) {
      const block = blocks.find((b) => new RegExp(`^\\(?(-\\w, )?${flag}\\b`).test(b))
      expect({ flag, found: block !== undefined }).toEqual({ flag, found: true })
      if (alias) expect(block!.split("\n")[0]).toContain(`${alias}, ${flag}`)
      expect({ flag, env: block!.includes(env) }).toEqual({ flag, env: true })
    }
    expect(`${run.stdout}\n${run.stderr}`).not.toMatch(/^ {4}at /m)
    expect(server.requests()).toEqual([])
  })
})
