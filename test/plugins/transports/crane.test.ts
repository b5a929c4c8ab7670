/**
 * The crane transport through the CLI (`--transport crane`) on real registries. crane cannot be
 * installed here, so PATH starts with test/fixtures/crane, whose `crane` stand-in checks the
 * arguments it gets and does the work with skopeo, printing what crane prints.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { FetchHttpClient } from "@effect/platform"
import { BunContext } from "@effect/platform-bun"
import { Effect, Either, Layer, Option } from "effect"
import { randomBytes } from "node:crypto"
import { existsSync, statSync, chmodSync } from "node:fs"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import * as Crane from "../../../plugins/transports/crane.ts"
import { startRegistry } from "../../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../../demo/LocalRegistry.ts"
import { pushImage } from "../../../demo/SampleImages.ts"
import type { PushedImage } from "../../../demo/SampleImages.ts"
import { transportContextLayer } from "../../../src/composition/Live.ts"
import { skopeoDigest } from "../../support/Skopeo.ts"
import { pushSeed, seedImages, writeSeedDefinition } from "../../support/SeedSet.ts"
import type { SeededImage } from "../../support/SeedSet.ts"
import { startTokenServer } from "../../support/TokenServer.ts"
import type { TokenServer } from "../../support/TokenServer.ts"
import {
  AMD64,
  describeRun,
  headManifest,
  lineFor,
  makeTempDir,
  removeDir,
  REPO_ROOT,
  resultLines,
  runCli,
  SMALL,
  TWO_PLATFORMS,
  writeDefinition,
  writeRequests
} from "../../integration/helpers.ts"
import type { CliRun } from "../../integration/helpers.ts"
import { sha256Digest } from "../../../src/model/Digest.ts"
import type { TransportError } from "../../../src/model/Errors.ts"
import type { ImageLocation } from "../../../src/model/Location.ts"
import { parseManifest } from "../../../src/model/Manifest.ts"
import type { TransportShape } from "../../../src/transport/Transport.ts"

/** The directory of the crane stand-in, put first on PATH. */
const STAND_IN_DIR = join(REPO_ROOT, "test", "fixtures", "crane")
const CRANE_PATH = `${STAND_IN_DIR}:${process.env["PATH"] ?? "/usr/bin:/bin"}`
/** Starting registries and running the CLI can take more than bun's default 5 s per test or hook. */
const TIMEOUT = 120_000

/** One call of the stand-in, as it logs it (CRANE_STANDIN_LOG). */
interface CraneCall {
  readonly argv: ReadonlyArray<string>
  readonly dockerConfig: string
  readonly dirMode: string
  readonly fileMode: string
}

const readCalls = async (path: string): Promise<Array<CraneCall>> =>
  (await readFile(path, "utf8").catch(() => "")).split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as CraneCall)

let src: LocalRegistry
let dstOci: LocalRegistry
let dstCrane: LocalRegistry
let dir: string
let home: string
let seed: Array<SeededImage>
let craneFile: string
let craneLog: string
let ociRun: CliRun
let craneRun: CliRun

/** The seed definition into `registry` under "external/", read through a docker.io mirror on `src`. */
const seedDefinition = (name: string, registry: LocalRegistry) => writeSeedDefinition(dir, name, registry.host, src.host, seed)

/** The CLI with the crane stand-in first on PATH and its call log at `log`. */
const runCrane = (args: ReadonlyArray<string>, log: string, options: { readonly home?: string; readonly env?: Record<string, string> } = {}) =>
  runCli([...args, "--transport", "crane"], {
    home: options.home ?? home,
    env: { PATH: CRANE_PATH, CRANE_STANDIN_LOG: log, ...options.env }
  })

beforeAll(async () => {
  // The executable bit may be lost by a checkout that does not keep modes.
  if ((statSync(join(STAND_IN_DIR, "crane")).mode & 0o111) === 0) chmodSync(join(STAND_IN_DIR, "crane"), 0o755)
  ;[src, dstOci, dstCrane] = await Promise.all([startRegistry(), startRegistry(), startRegistry()])
  dir = await makeTempDir("crane")
  home = join(dir, "home")
  await mkdir(home)
  seed = await pushSeed(src.url, seedImages("crane"))
  const ociFile = await seedDefinition("oci.yaml", dstOci)
  craneFile = await seedDefinition("crane.yaml", dstCrane)
  craneLog = join(dir, "crane-calls.jsonl")
  ;[ociRun, craneRun] = await Promise.all([
    runCli(["-i", ociFile, "--transport", "oci"], { home }),
    runCrane(["-i", craneFile], craneLog)
  ])
}, TIMEOUT)

afterAll(async () => {
  await Promise.all([src?.stop(), dstOci?.stop(), dstCrane?.stop()])
  await removeDir(dir)
}, TIMEOUT)

describe("seed-like set with --transport crane", () => {
  test("every image is synced, exit 0 (crane stand-in)", () => {
    expect(craneRun.code, describeRun(craneRun)).toBe(0)
    expect(ociRun.code, describeRun(ociRun)).toBe(0)
    for (const { source, pushed } of seed) {
      const line = lineFor(craneRun, source)
      expect(line.status, line.line).toBe("synced")
      expect(line.digest).toBe(pushed.digest)
    }
  }, TIMEOUT)

  test("target digests equal those of --transport oci into another target, index children included (crane stand-in)", async () => {
    for (const { targetPath, pushed } of seed) {
      const viaCrane = await skopeoDigest(`${dstCrane.host}/${targetPath}`)
      expect(viaCrane, targetPath).toBe(await skopeoDigest(`${dstOci.host}/${targetPath}`))
      expect(viaCrane, targetPath).toBe(pushed.digest)
      const repository = targetPath.slice(0, targetPath.lastIndexOf(":"))
      for (const child of pushed.children) {
        expect((await headManifest(dstCrane.url, repository, child.digest)).status, `${repository}@${child.digest}`).toBe(200)
      }
    }
  }, TIMEOUT)

  test("crane got only digest/manifest/copy with --insecure and a private DOCKER_CONFIG, removed afterwards (crane stand-in)", async () => {
    const calls = await readCalls(craneLog)
    const subcommands = new Set(calls.map((c) => c.argv[0]))
    // (the amd64Only image's config is read through the registry client, not crane)
    expect([...subcommands].sort()).toEqual(["copy", "digest", "manifest"])
    expect(calls.filter((c) => c.argv[0] === "copy")).toHaveLength(seed.length)
    for (const call of calls) {
      // every registry here is plain-HTTP loopback
      expect(call.argv, JSON.stringify(call)).toContain("--insecure")
      expect(call.dockerConfig).not.toBe("")
      expect(call.dockerConfig).not.toBe(join(home, ".docker"))
      expect(call.dirMode, JSON.stringify(call)).toBe("700")
      expect(call.fileMode, JSON.stringify(call)).toBe("600")
      expect(existsSync(call.dockerConfig), call.dockerConfig).toBe(false)
    }
    // one private directory per crane run
    expect(new Set(calls.map((c) => c.dockerConfig)).size).toBe(calls.length)
  }, TIMEOUT)

  test("a second run writes nothing to the target, every image present (crane stand-in)", async () => {
    await dstCrane.resetRequests()
    const second = await runCrane(["-i", craneFile], join(dir, "crane-calls-second.jsonl"))
    expect(second.code, describeRun(second)).toBe(0)
    for (const { source, pushed } of seed) {
      const line = lineFor(second, source)
      expect(line.status, line.line).toBe("present")
      expect(line.digest).toBe(pushed.digest)
    }
    expect(await writeRequests(dstCrane)).toEqual([])
    const calls = await readCalls(join(dir, "crane-calls-second.jsonl"))
    expect(calls.some((c) => c.argv[0] === "copy")).toBe(false)
  }, TIMEOUT)
})

describe("conflicts and errors with --transport crane", () => {
  let dst: LocalRegistry
  let taken: PushedImage
  let wanted: PushedImage
  let run: CliRun
  let contested: string

  beforeAll(async () => {
    dst = await startRegistry()
    wanted = await pushImage(src.url, "team/contested", "3.0", { platforms: TWO_PLATFORMS, seed: "crane-contested-new", ...SMALL })
    const repository = `mirror/${src.host.replace(":", "-")}/team/contested`
    taken = await pushImage(dst.url, repository, "3.0", { platforms: TWO_PLATFORMS, seed: "crane-contested-old", ...SMALL })
    contested = `${dst.host}/${repository}:3.0`
    await dst.resetRequests()
    const file = await writeDefinition(dir, "conflict.yaml", {
      targetRepoPrefix: `${dst.host}/mirror/`,
      images: [{ source: `${src.host}/team/contested:3.0` }]
    })
    run = await runCrane(["-i", file], join(dir, "crane-calls-conflict.jsonl"))
  }, TIMEOUT)

  afterAll(async () => {
    await dst?.stop()
  }, TIMEOUT)

  test("a conflict is still a conflict: exit 1, both digests named, target untouched (crane stand-in)", async () => {
    expect(run.code, describeRun(run)).toBe(1)
    const line = lineFor(run, `${src.host}/team/contested:3.0`)
    expect(line.status, line.line).toBe("conflict")
    expect(line.error).toContain(taken.digest)
    expect(line.error).toContain(wanted.digest)
    expect(await skopeoDigest(contested)).toBe(taken.digest)
    expect(await writeRequests(dst)).toEqual([])
    const calls = await readCalls(join(dir, "crane-calls-conflict.jsonl"))
    expect(calls.some((c) => c.argv[0] === "copy")).toBe(false)
  }, TIMEOUT)

  test("a missing source is 'not found' and a refused target is 'access denied' saying no credentials were sent, no stack trace (crane stand-in)", async () => {
    const ht = await startRegistry({ htpasswd: { username: "u", password: `pw-${randomBytes(8).toString("hex")}` } })
    try {
      const file = await writeDefinition(dir, "errors.yaml", {
        targetRepoPrefix: `${ht.host}/mirror/`,
        images: [{ source: `${src.host}/team/absent:1` }, { source: `${src.host}/team/contested:3.0` }]
      })
      const r = await runCrane(["-i", file], join(dir, "crane-calls-errors.jsonl"))
      expect(r.code, describeRun(r)).toBe(1)
      const absent = lineFor(r, `${src.host}/team/absent:1`)
      expect(absent.status, absent.line).toBe("failed")
      expect(absent.error).toContain("not found")
      const refused = lineFor(r, `${src.host}/team/contested:3.0`)
      expect(refused.status, refused.line).toBe("failed")
      expect(refused.error).toContain(`${ht.host}: access denied`)
      expect(refused.error).toContain("crane")
      expect(refused.error).toContain(`no credentials found for ${ht.host}`)
      expect(r.stderr).not.toMatch(/^\s+at /m)
    } finally {
      await ht.stop()
    }
  }, TIMEOUT)
})

describe("credentials with --transport crane", () => {
  const USER = "syncer"
  const PASSWORD = `PLANTED-SECRET-PASSWORD-${randomBytes(8).toString("hex")}`
  let ht: LocalRegistry
  let tokens: TokenServer
  let tokenRegistry: LocalRegistry
  let app: PushedImage

  beforeAll(async () => {
    tokens = await startTokenServer({ users: {} })
    ;[ht, tokenRegistry] = await Promise.all([
      startRegistry({ htpasswd: { username: USER, password: PASSWORD } }),
      startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle } })
    ])
    app = await pushImage(src.url, "team/app", "1", { platforms: TWO_PLATFORMS, seed: "crane-app", ...SMALL })
  }, TIMEOUT)

  afterAll(async () => {
    await Promise.all([ht?.stop(), tokenRegistry?.stop()])
    await tokens?.stop()
  }, TIMEOUT)

  test("docker config.json credentials reach crane only through DOCKER_CONFIG: synced, never on argv nor in output (crane stand-in)", async () => {
    const credHome = join(dir, "home-ht")
    await mkdir(join(credHome, ".docker"), { recursive: true })
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString("base64")
    await writeFile(join(credHome, ".docker", "config.json"), JSON.stringify({ auths: { [ht.host]: { auth } } }))
    const file = await writeDefinition(dir, "ht.yaml", { targetRepoPrefix: `${ht.host}/mirror/`, images: [{ source: `${src.host}/team/app:1` }] })
    const report = join(dir, "ht-report.json")
    const log = join(dir, "crane-calls-ht.jsonl")
    const r = await runCrane(["-i", file, "--debug", "--report", report], log, { home: credHome })
    expect(r.code, describeRun(r)).toBe(0)
    expect(resultLines(r).map((l) => l.status)).toEqual(["synced"])
    const target = `${ht.host}/mirror/${src.host.replace(":", "-")}/team/app:1`
    expect(await skopeoDigest(target, { creds: `${USER}:${PASSWORD}` })).toBe(app.digest)
    const calls = await readCalls(log)
    expect(calls.some((c) => c.argv[0] === "copy")).toBe(true)
    const reportText = await readFile(report, "utf8")
    for (const secret of [PASSWORD, auth]) {
      for (const call of calls) expect(call.argv.join(" ").includes(secret), "crane argv").toBe(false)
      expect(r.stdout.includes(secret), "stdout").toBe(false)
      expect(r.stderr.includes(secret), "stderr").toBe(false)
      expect(reportText.includes(secret), "report").toBe(false)
    }
  }, TIMEOUT)

  test("--access-token reaches crane as a registrytoken entry: synced, the token never on argv (crane stand-in)", async () => {
    const repository = `tok/${src.host.replace(":", "-")}/team/app`
    const token = tokens.mint([{ type: "repository", name: repository, actions: ["pull", "push"] }])
    const file = await writeDefinition(dir, "token.yaml", {
      targetRepoPrefix: `${tokenRegistry.host}/tok/`,
      images: [{ source: `${src.host}/team/app:1` }]
    })
    const log = join(dir, "crane-calls-token.jsonl")
    const r = await runCrane(["-i", file, "--access-token", token], log)
    expect(r.code, describeRun(r)).toBe(0)
    expect(resultLines(r).map((l) => l.status)).toEqual(["synced"])
    expect(await skopeoDigest(`${tokenRegistry.host}/${repository}:1`, { registryToken: token })).toBe(app.digest)
    const calls = await readCalls(log)
    expect(calls.some((c) => c.argv[0] === "copy")).toBe(true)
    for (const call of calls) expect(call.argv.join(" ").includes(token), "crane argv").toBe(false)
    expect(r.stdout.includes(token) || r.stderr.includes(token)).toBe(false)
  }, TIMEOUT)
})

describe("the crane transport in-process", () => {
  let dst: LocalRegistry
  let index: PushedImage
  let single: PushedImage
  let taken: PushedImage

  /** Runs `use` on the crane transport (the stand-in by path, anonymous credentials); Left on a typed error. */
  const withCrane = <A>(use: (t: TransportShape) => Effect.Effect<A, TransportError>) =>
    Effect.runPromise(
      Crane.make(join(STAND_IN_DIR, "crane")).pipe(
        Effect.flatMap(use),
        Effect.either,
        Effect.provide(transportContextLayer({ dryRun: false, credentials: [] })),
        Effect.provide(Layer.merge(FetchHttpClient.layer, BunContext.layer))
      )
    )

  /** An image on a loopback registry (plain HTTP). */
  const at = (registry: LocalRegistry, repository: string, reference: string, role: "source" | "target"): ImageLocation => ({
    endpoint: { registry: registry.host, host: registry.host, scheme: "http", skipTlsVerify: false, role },
    repository,
    reference
  })

  beforeAll(async () => {
    dst = await startRegistry()
    index = await pushImage(src.url, "inproc/index", "1", { platforms: TWO_PLATFORMS, seed: "crane-inproc-index", ...SMALL })
    single = await pushImage(src.url, "inproc/single", "1", { platforms: AMD64, index: false, seed: "crane-inproc-single", ...SMALL })
    taken = await pushImage(dst.url, "inproc/index", "1", { platforms: TWO_PLATFORMS, seed: "crane-inproc-other", ...SMALL })
    await dst.resetRequests()
  }, TIMEOUT)

  afterAll(async () => {
    await dst?.stop()
  }, TIMEOUT)

  test("inspect gives the digest, media type and size of the manifest, and None when there is none (crane stand-in)", async () => {
    const found = await withCrane((t) => t.inspect(at(src, "inproc/index", "1", "source")))
    expect(found).toEqual(Either.right(Option.some({ digest: index.digest, mediaType: index.mediaType, size: index.manifestBytes.length })))
    const absent = await withCrane((t) => t.inspect(at(src, "inproc/index", "no-such-tag", "source")))
    expect(absent).toEqual(Either.right(Option.none()))
  }, TIMEOUT)

  test("manifest gives the exact bytes (crane stand-in); blob gives the config blob its manifest names (registry client)", async () => {
    const raw = await withCrane((t) => t.manifest(at(src, "inproc/single", single.digest, "source")))
    expect(Either.isRight(raw) && Buffer.from(raw.right.bytes).equals(Buffer.from(single.manifestBytes))).toBe(true)
    const configDigest = parseManifest(single.manifestBytes, single.mediaType).config!.digest
    const config = await withCrane((t) => t.blob(at(src, "inproc/single", single.digest, "source"), configDigest))
    if (Either.isLeft(config)) throw new Error(config.left.message)
    expect(sha256Digest(config.right)).toBe(parseManifest(single.manifestBytes, single.mediaType).config!.digest)
    expect(JSON.parse(new TextDecoder().decode(config.right))).toMatchObject({ os: "linux", architecture: "amd64" })
  }, TIMEOUT)

  test("copy onto a tag that was taken meanwhile fails with TagTaken and writes nothing (crane stand-in)", async () => {
    const result = await withCrane((t) =>
      t.copy(at(src, "inproc/index", "1", "source"), at(dst, "inproc/index", "1", "target"), {
        digest: index.digest,
        mediaType: index.mediaType,
        size: index.size
      })
    )
    expect(Either.isLeft(result) && result.left._tag).toBe("TagTaken")
    expect(Either.isLeft(result) && result.left.message).toContain(taken.digest)
    expect(await skopeoDigest(`${dst.host}/inproc/index:1`)).toBe(taken.digest)
    expect(await writeRequests(dst)).toEqual([])
  }, TIMEOUT)

  test("copy onto a tag that already holds the digest writes nothing (crane stand-in)", async () => {
    const result = await withCrane((t) =>
      t.copy(at(src, "inproc/index", "1", "source"), at(dst, "inproc/index", "1", "target"), {
        digest: taken.digest,
        mediaType: taken.mediaType,
        size: taken.size
      })
    )
    expect(Either.isRight(result) && result.right.manifestsPut).toBe(0)
    expect(await writeRequests(dst)).toEqual([])
  }, TIMEOUT)
})
