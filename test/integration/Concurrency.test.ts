/**
 * Twelve images with `-j 3`, all built on one shared base layer: every image is synced, and
 * the shared blob crosses the wire once — one upload (PUT) in the target's access log, every
 * other repository gets it by a cross-repository mount (POST …?mount= answered 201). Checked on
 * a plain registry and on a GCR-style token registry, where a mount needs pull on the `from`
 * repository in the token.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { randomBytes } from "node:crypto"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry, LoggedRequest } from "../../demo/LocalRegistry.ts"
import { buildImage, pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage, SampleImageSpec } from "../../demo/SampleImages.ts"
import { startTokenServer } from "../support/TokenServer.ts"
import type { TokenServer } from "../support/TokenServer.ts"
import {
  AMD64,
  bearer,
  decodedPath,
  describeRun,
  headManifest,
  lineFor,
  makeTempDir,
  removeDir,
  resultLines,
  runCli,
  settledRequests,
  SMALL,
  TWO_PLATFORMS,
  writeDefinition
} from "./helpers.ts"
import type { CliRun } from "./helpers.ts"

const BASE = { seed: "shared-base", size: 16384 } as const
const COUNT = 12

/** The platforms of the indexes: three children per index copy the base layer side by side. */
const THREE_PLATFORMS = [...TWO_PLATFORMS, { os: "linux", architecture: "s390x" }] as const

/** Six indexes and six single amd64 manifests, all with the same base layer. */
const specs: ReadonlyArray<SampleImageSpec> = Array.from({ length: COUNT }, (_, i) =>
  i % 2 === 0
    ? { platforms: THREE_PLATFORMS, seed: `many-${i}`, ...SMALL, sharedBaseLayer: BASE }
    : { platforms: AMD64, index: false, seed: `many-${i}`, ...SMALL, sharedBaseLayer: BASE })

/** The digest of the base layer: the one blob every image has. */
const baseDigest = (): string => {
  const sets = specs.map((s) => new Set(buildImage(s).blobs.keys()))
  const shared = [...sets[0]!].filter((d) => sets.every((set) => set.has(d)))
  if (shared.length !== 1) throw new Error(`expected exactly one shared blob, found ${shared.length}`)
  return shared[0]!
}

const KEY = `${JSON.stringify({ type: "service_account", private_key: `concurrency-key-${randomBytes(8).toString("hex")}` }, null, 2)}\n`

let src: LocalRegistry
let dir: string
let shared: string
const pushed: Array<PushedImage> = []

const sourceOf = (i: number): string => `${src.host}/many/image-${i}:1`
const targetRepo = (prefixPath: string, i: number): string => `${prefixPath}/${src.host.replace(":", "-")}/many/image-${i}`

beforeAll(async () => {
  src = await startRegistry()
  dir = await makeTempDir("concurrency")
  shared = baseDigest()
  for (const [i, spec] of specs.entries()) pushed.push(await pushImage(src.url, `many/image-${i}`, "1", spec))
  await writeFile(join(dir, "key.json"), KEY, { mode: 0o600 })
}, 60_000)

afterAll(async () => {
  await src?.stop()
  await removeDir(dir)
}, 60_000)

/** Upload PUTs of `digest` (…/blobs/uploads/<id>?…digest=sha256:…). */
const uploadsOf = (log: ReadonlyArray<LoggedRequest>, digest: string): Array<LoggedRequest> =>
  log.filter((r) => r.method === "PUT" && /\/blobs\/uploads\//.test(r.path) && decodedPath(r).includes(`digest=${digest}`))

/** Mount POSTs of `digest` (…/blobs/uploads/?mount=sha256:…&from=…). */
const mountsOf = (log: ReadonlyArray<LoggedRequest>, digest: string): Array<LoggedRequest> =>
  log.filter((r) => r.method === "POST" && decodedPath(r).includes(`mount=${digest}`))

/** The repository a request went to: "/v2/<repo>/blobs/…" → "<repo>". */
const repoOf = (r: LoggedRequest): string => /^\/v2\/(.+?)\/(?:blobs|manifests)\//.exec(r.path)?.[1] ?? ""

/** The shared assertions of one 12-image run. */
const sharedBlobChecks = (
  name: string,
  context: () => {
    readonly run: CliRun
    readonly log: ReadonlyArray<LoggedRequest>
    readonly prefixPath: string
    readonly dst: LocalRegistry
    readonly read: Record<string, string>
  }
) => {
  test(`${name}: all 12 images synced with -j 3, exit 0, target digests equal the source digests`, async () => {
    const { run, prefixPath, dst, read } = context()
    expect(run.code, describeRun(run)).toBe(0)
    expect(resultLines(run)).toHaveLength(COUNT)
    for (const [i, image] of pushed.entries()) {
      expect(lineFor(run, sourceOf(i)).status, describeRun(run)).toBe("synced")
      expect((await headManifest(dst.url, targetRepo(prefixPath, i), "1", read)).digest).toBe(image.digest)
    }
  })

  test(`${name}: the shared base layer was uploaded once (one PUT for its digest)`, () => {
    const { log } = context()
    const puts = uploadsOf(log, shared)
    expect(puts, JSON.stringify(puts)).toHaveLength(1)
    expect(puts[0]!.status).toBe(201)
  })

  test(`${name}: every other repository got the shared layer by a mount (POST mount= answered 201)`, () => {
    const { log, prefixPath } = context()
    const uploadedTo = new Set(uploadsOf(log, shared).map(repoOf))
    const mounts = mountsOf(log, shared)
    const mountedTo = new Set(mounts.map(repoOf))
    const all = new Set(specs.map((_, i) => targetRepo(prefixPath, i)))
    // every mount attempt succeeded: none fell back to an upload session
    expect(mounts.map((r) => r.status).filter((s) => s !== 201)).toEqual([])
    // the uploading repository was never mounted into; each of the other eleven was
    expect(uploadedTo.size).toBe(1)
    expect([...uploadedTo].filter((r) => mountedTo.has(r))).toEqual([])
    expect(mountedTo.size).toBe(COUNT - 1)
    expect(new Set([...uploadedTo, ...mountedTo])).toEqual(all)
    // and every mount named the repository the layer was uploaded to
    const from = new Set(mounts.map((r) => new URL(r.path, "http://registry.invalid").searchParams.get("from")))
    expect([...from]).toEqual([...uploadedTo])
  })

  test(`${name}: each repository was asked to mount the shared layer once, not once per index child`, () => {
    const { log } = context()
    const perRepo = new Map<string, number>()
    for (const r of mountsOf(log, shared)) perRepo.set(repoOf(r), (perRepo.get(repoOf(r)) ?? 0) + 1)
    // concurrent mounts of one blob into one repository make distribution lose the link for a
    // moment, so a sibling's manifest PUT can fail with MANIFEST_BLOB_UNKNOWN
    const repeated = [...perRepo].filter(([, n]) => n > 1).map(([repo, n]) => `${repo}: ${n} mounts`)
    expect(repeated).toEqual([])
  })
}

describe("plain target registry", () => {
  let dst: LocalRegistry
  let run: CliRun
  let log: ReadonlyArray<LoggedRequest>

  beforeAll(async () => {
    dst = await startRegistry()
    const file = await writeDefinition(dir, "plain.yaml", {
      targetRepoPrefix: `${dst.host}/plain/`,
      images: specs.map((s, i) => ({ source: sourceOf(i), ...(s.platforms.length === 1 ? { amd64Only: true } : {}) }))
    })
    run = await runCli(["-i", file, "-j", "3"], { home: dir })
    log = await settledRequests(dst)
  }, 60_000)

  afterAll(async () => {
    await dst?.stop()
  }, 60_000)

  sharedBlobChecks("plain", () => ({ run, log, prefixPath: "plain", dst, read: {} }))
})

describe("GCR-style token target registry (-t keyfile)", () => {
  let tokens: TokenServer
  let dst: LocalRegistry
  let run: CliRun
  let log: ReadonlyArray<LoggedRequest>

  beforeAll(async () => {
    tokens = await startTokenServer({ users: { _json_key: KEY } })
    dst = await startRegistry({
      token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle }
    })
    const file = await writeDefinition(dir, "token.yaml", {
      targetRepoPrefix: `${dst.host}/gcr/`,
      images: specs.map((s, i) => ({ source: sourceOf(i), ...(s.platforms.length === 1 ? { amd64Only: true } : {}) }))
    })
    run = await runCli(["-i", file, "-j", "3", "-t", join(dir, "key.json")], { home: dir })
    log = await settledRequests(dst)
  }, 60_000)

  afterAll(async () => {
    await dst?.stop()
    await tokens?.stop()
  }, 60_000)

  sharedBlobChecks("token", () => ({
    run,
    log,
    prefixPath: "gcr",
    dst,
    read: bearer(tokens.mint(specs.map((_, i) => ({ type: "repository", name: targetRepo("gcr", i), actions: ["pull"] }))))
  }))

  test("token: mount tokens were asked with pull on the repository mounted from", () => {
    const uploadedTo = uploadsOf(log, shared).map(repoOf)
    expect(uploadedTo).toHaveLength(1)
    const withFrom = tokens.requests().filter((t) => t.scopes.includes(`repository:${uploadedTo[0]}:pull`) && t.scopes.length > 1)
    expect(withFrom.length).toBeGreaterThan(0)
    expect(withFrom.every((t) => t.username === "_json_key")).toBe(true)
  })
})
