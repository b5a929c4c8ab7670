/**
 * The skopeo transport through the CLI (`--transport skopeo`) with the real skopeo on real
 * registries: same digests as the default transport, idempotent, conflicts kept, credentials
 * from docker config.json passed in a file (never on skopeo's command line), and a bearer
 * access token refused with a reason.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { randomBytes } from "node:crypto"
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../../demo/LocalRegistry.ts"
import { pushImage } from "../../../demo/SampleImages.ts"
import type { PushedImage } from "../../../demo/SampleImages.ts"
import { skopeoDigest } from "../../support/Skopeo.ts"
import { pushSeed, seedImages, writeSeedDefinition } from "../../support/SeedSet.ts"
import type { SeededImage } from "../../support/SeedSet.ts"
import {
  describeRun,
  headManifest,
  lineFor,
  makeTempDir,
  removeDir,
  resultLines,
  runCli,
  SMALL,
  TWO_PLATFORMS,
  writeDefinition,
  writeRequests
} from "../../integration/helpers.ts"
import type { CliRun } from "../../integration/helpers.ts"

/** Starting registries and running the CLI can take more than bun's default 5 s per test or hook. */
const TIMEOUT = 120_000

let src: LocalRegistry
let dstDefault: LocalRegistry
let dstSkopeo: LocalRegistry
let dir: string
let home: string
let seed: Array<SeededImage>
let skopeoFile: string
let defaultRun: CliRun
let skopeoRun: CliRun

/** The seed definition into `registry` under "external/", read through a docker.io mirror on `src`. */
const seedDefinition = (name: string, registry: LocalRegistry) => writeSeedDefinition(dir, name, registry.host, src.host, seed)

beforeAll(async () => {
  ;[src, dstDefault, dstSkopeo] = await Promise.all([startRegistry(), startRegistry(), startRegistry()])
  dir = await makeTempDir("skopeo")
  home = join(dir, "home")
  await mkdir(home)
  seed = await pushSeed(src.url, seedImages("skopeo"))
  const defaultFile = await seedDefinition("default.yaml", dstDefault)
  skopeoFile = await seedDefinition("skopeo.yaml", dstSkopeo)
  ;[defaultRun, skopeoRun] = await Promise.all([
    runCli(["-i", defaultFile], { home }),
    runCli(["-i", skopeoFile, "--transport", "skopeo"], { home })
  ])
}, TIMEOUT)

afterAll(async () => {
  await Promise.all([src?.stop(), dstDefault?.stop(), dstSkopeo?.stop()])
  await removeDir(dir)
}, TIMEOUT)

describe("seed-like set with --transport skopeo", () => {
  test("every image is synced, exit 0", () => {
    expect(skopeoRun.code, describeRun(skopeoRun)).toBe(0)
    expect(defaultRun.code, describeRun(defaultRun)).toBe(0)
    for (const { source, pushed } of seed) {
      const line = lineFor(skopeoRun, source)
      expect(line.status, line.line).toBe("synced")
      expect(line.digest).toBe(pushed.digest)
    }
  }, TIMEOUT)

  test("target digests equal those of the default transport into another target, index children included", async () => {
    for (const { targetPath, pushed } of seed) {
      const viaSkopeo = await skopeoDigest(`${dstSkopeo.host}/${targetPath}`)
      expect(viaSkopeo, targetPath).toBe(await skopeoDigest(`${dstDefault.host}/${targetPath}`))
      expect(viaSkopeo, targetPath).toBe(pushed.digest)
      const repository = targetPath.slice(0, targetPath.lastIndexOf(":"))
      for (const child of pushed.children) {
        expect((await headManifest(dstSkopeo.url, repository, child.digest)).status, `${repository}@${child.digest}`).toBe(200)
      }
    }
  }, TIMEOUT)

  test("a second run writes nothing to the target, every image present", async () => {
    await dstSkopeo.resetRequests()
    const second = await runCli(["-i", skopeoFile, "--transport", "skopeo"], { home })
    expect(second.code, describeRun(second)).toBe(0)
    for (const { source, pushed } of seed) {
      const line = lineFor(second, source)
      expect(line.status, line.line).toBe("present")
      expect(line.digest).toBe(pushed.digest)
    }
    expect(await writeRequests(dstSkopeo)).toEqual([])
  }, TIMEOUT)

  test("a conflict is still a conflict: exit 1, both digests named, target untouched", async () => {
    const dst = await startRegistry()
    try {
      const wanted = await pushImage(src.url, "team/contested", "3.0", { platforms: TWO_PLATFORMS, seed: "skopeo-contested-new", ...SMALL })
      const repository = `mirror/${src.host.replace(":", "-")}/team/contested`
      const taken = await pushImage(dst.url, repository, "3.0", { platforms: TWO_PLATFORMS, seed: "skopeo-contested-old", ...SMALL })
      await dst.resetRequests()
      const file = await writeDefinition(dir, "conflict.yaml", {
        targetRepoPrefix: `${dst.host}/mirror/`,
        images: [{ source: `${src.host}/team/contested:3.0` }]
      })
      const run = await runCli(["-i", file, "--transport", "skopeo"], { home })
      expect(run.code, describeRun(run)).toBe(1)
      const line = lineFor(run, `${src.host}/team/contested:3.0`)
      expect(line.status, line.line).toBe("conflict")
      expect(line.error).toContain(taken.digest)
      expect(line.error).toContain(wanted.digest)
      expect(await skopeoDigest(`${dst.host}/${repository}:3.0`)).toBe(taken.digest)
      expect(await writeRequests(dst)).toEqual([])
    } finally {
      await dst.stop()
    }
  }, TIMEOUT)
})

describe("credentials with --transport skopeo", () => {
  const USER = "syncer"
  const PASSWORD = `PLANTED-SECRET-PASSWORD-${randomBytes(8).toString("hex")}`
  let ht: LocalRegistry
  let app: PushedImage
  let wrapperDir: string
  let argvLog: string

  beforeAll(async () => {
    ht = await startRegistry({ htpasswd: { username: USER, password: PASSWORD } })
    app = await pushImage(src.url, "team/app", "1", { platforms: TWO_PLATFORMS, seed: "skopeo-app", ...SMALL })
    // A `skopeo` first on PATH that logs its argv (one call per line, NUL-separated) and runs the real one.
    const real = Bun.which("skopeo")
    if (real === null) throw new Error("skopeo not found: apt-get install skopeo")
    wrapperDir = join(dir, "skopeo-wrapper")
    argvLog = join(dir, "skopeo-argv.log")
    await mkdir(wrapperDir)
    await writeFile(
      join(wrapperDir, "skopeo"),
      `#!/usr/bin/env bash\nprintf '%s\\0' "$@" >> ${JSON.stringify(argvLog)}\nprintf '\\n' >> ${JSON.stringify(argvLog)}\nexec ${JSON.stringify(real)} "$@"\n`
    )
    await chmod(join(wrapperDir, "skopeo"), 0o755)
  }, TIMEOUT)

  afterAll(async () => {
    await ht?.stop()
  }, TIMEOUT)

  test("htpasswd target with credentials from docker config.json: synced; the password is in no output and not on skopeo's command line", async () => {
    const credHome = join(dir, "home-ht")
    await mkdir(join(credHome, ".docker"), { recursive: true })
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString("base64")
    await writeFile(join(credHome, ".docker", "config.json"), JSON.stringify({ auths: { [ht.host]: { auth } } }))
    const file = await writeDefinition(dir, "ht.yaml", { targetRepoPrefix: `${ht.host}/mirror/`, images: [{ source: `${src.host}/team/app:1` }] })
    const report = join(dir, "ht-report.json")
    const r = await runCli(["-i", file, "--transport", "skopeo", "--debug", "--report", report], {
      home: credHome,
      env: { PATH: `${wrapperDir}:${process.env["PATH"] ?? "/usr/bin:/bin"}` }
    })
    expect(r.code, describeRun(r)).toBe(0)
    expect(resultLines(r).map((l) => l.status)).toEqual(["synced"])
    expect(await skopeoDigest(`${ht.host}/mirror/${src.host.replace(":", "-")}/team/app:1`, { creds: `${USER}:${PASSWORD}` })).toBe(app.digest)
    const calls = (await readFile(argvLog, "utf8")).split("\n").filter((l) => l !== "").map((l) => l.split("\0"))
    // the wrapper saw the run's skopeo calls, and the target credentials went in a file
    const copies = calls.filter((argv) => argv[0] === "copy")
    expect(copies).toHaveLength(1)
    expect(copies[0]).toContain("--dest-authfile")
    const reportText = await readFile(report, "utf8")
    for (const secret of [PASSWORD, auth]) {
      for (const argv of calls) expect(argv.join(" ").includes(secret), "skopeo argv").toBe(false)
      expect(r.stdout.includes(secret), "stdout").toBe(false)
      expect(r.stderr.includes(secret), "stderr").toBe(false)
      expect(reportText.includes(secret), "report").toBe(false)
    }
  }, TIMEOUT)

  test("--access-token: the image fails with a message saying skopeo cannot take a bearer token", async () => {
    const file = await writeDefinition(dir, "token.yaml", { targetRepoPrefix: `${ht.host}/tok/`, images: [{ source: `${src.host}/team/app:1` }] })
    const token = `PLANTED-SECRET-TOKEN-${randomBytes(8).toString("hex")}`
    const r = await runCli(["-i", file, "--transport", "skopeo", "--access-token", token], { home })
    expect(r.code, describeRun(r)).toBe(1)
    const line = lineFor(r, `${src.host}/team/app:1`)
    expect(line.status, line.line).toBe("failed")
    expect(line.error).toContain("skopeo")
    expect(line.error).toMatch(/bearer access token/i)
    expect(line.error).toMatch(/oci transport/i)
    expect(r.stdout.includes(token) || r.stderr.includes(token)).toBe(false)
    expect(r.stderr).not.toMatch(/^\s+at /m)
  }, TIMEOUT)
})
