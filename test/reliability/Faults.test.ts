/**
 * Faults on the source, survived: the seed example (five images: indexes, an amd64Only single
 * manifest, pinned digests) read through a docker.io mirror that is a FaultProxy in front of a
 * real docker-registry, synced by the CLI as a subprocess. Every image must land byte for byte;
 * a source that never recovers fails only its own image.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { buildImage, pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage, SampleImageSpec } from "../../demo/SampleImages.ts"
import { Credentials } from "../../src/transport/Credentials.ts"
import { RegistryClient } from "../../src/oci/RegistryClient.ts"
import { copyOneBlob } from "../../src/transport/CopyTree.ts"
import { defaultRegistryHttpSettings, RegistryHttp } from "../../src/oci/RegistryHttp.ts"
import type { RetrySettings } from "../../src/oci/http/RetryPolicy.ts"
import { paths, startFaultProxy, verifyTree } from "../support/FaultProxy.ts"
import type { FaultKind, FaultProxy, FaultRule, ProxiedRequest } from "../support/FaultProxy.ts"
import {
  AMD64,
  describeRun,
  headManifest,
  lineFor,
  makeTempDir,
  readReport,
  removeDir,
  reportFor,
  runCli,
  SMALL,
  TWO_PLATFORMS,
  writeDefinition
} from "../integration/helpers.ts"
import type { CliRun, Report } from "../integration/helpers.ts"
import { endpointFor } from "../../src/model/Location.ts"
import type { ImageLocation } from "../../src/model/Location.ts"

/** One seed entry (as in test/integration/SeedExample.test.ts). */
interface SeedImage {
  readonly repository: string
  readonly spec: SampleImageSpec
  /** undefined → pushed by digest only and pinned in the definition */
  readonly sourceTag: string | undefined
  readonly tag?: string
  readonly amd64Only?: boolean
  readonly targetTag: string
}

const SEED: ReadonlyArray<SeedImage> = [
  {
    repository: "bitnami/keycloak-gatekeeper",
    spec: { platforms: TWO_PLATFORMS, seed: "keycloak-gatekeeper", ...SMALL, sharedBaseLayer: { seed: "debian-10", size: 2048 } },
    sourceTag: "9.0.3",
    targetTag: "9.0.3"
  },
  {
    repository: "bitnami/postgres-exporter",
    spec: { platforms: TWO_PLATFORMS, seed: "postgres-exporter-old", ...SMALL, sharedBaseLayer: { seed: "debian-10", size: 2048 } },
    sourceTag: "0.8.0-debian-10-r28",
    targetTag: "0.8.0-debian-10-r28"
  },
  {
    repository: "library/busybox",
    spec: { platforms: TWO_PLATFORMS, seed: "busybox", ...SMALL },
    sourceTag: undefined,
    tag: "1.32.0-v1",
    targetTag: "1.32.0-v1"
  },
  {
    repository: "bitnami/postgres-exporter",
    spec: { platforms: AMD64, index: false, seed: "postgres-exporter-new", ...SMALL },
    sourceTag: "0.11.1-debian-11-r69",
    amd64Only: true,
    targetTag: "0.11.1-debian-11-r69"
  },
  {
    repository: "library/postgres",
    spec: { platforms: AMD64, index: false, seed: "postgres-alpine", ...SMALL },
    sourceTag: undefined,
    tag: "v20230508-11.19-alpine3.17",
    amd64Only: true,
    targetTag: "v20230508-11.19-alpine3.17"
  }
]

interface Pushed {
  readonly image: SeedImage
  readonly pushed: PushedImage
  /** the entry's source as written */
  readonly source: string
}

/** What one CLI run through a fault proxy produced. */
interface FaultRun {
  readonly name: string
  readonly proxy: FaultProxy
  readonly run: CliRun
  readonly report: Report
  readonly images: ReadonlyArray<Pushed>
}

let src: LocalRegistry
let dst: LocalRegistry
let dir: string
let seed: Array<Pushed>
const proxies: Array<FaultProxy> = []
const runs = new Map<string, FaultRun>()

const sourceOf = (image: SeedImage, digest: string): string => {
  const short = image.repository.startsWith("library/") ? image.repository.slice("library/".length) : image.repository
  return image.sourceTag === undefined ? `${short}@${digest}` : `${short}:${image.sourceTag}`
}

/** Syncs `images` with the CLI through a new fault proxy with `rules`, into `<dst>/<name>/…`. */
const syncThrough = async (
  name: string,
  rules: ReadonlyArray<FaultRule>,
  images: ReadonlyArray<Pushed>,
  seedValue = name,
  side: "source" | "target" = "source"
): Promise<FaultRun> => {
  const proxy = await startFaultProxy({ upstream: side === "source" ? src.url : dst.url, rules, seed: seedValue })
  proxies.push(proxy)
  const file = await writeDefinition(dir, `${name}.yaml`, {
    targetRepoPrefix: `${side === "target" ? proxy.host : dst.host}/${name}/`,
    registries: { "docker.io": { mirror: side === "source" ? proxy.host : src.host } },
    images: images.map(({ image, source }) => ({
      source,
      ...(image.tag === undefined ? {} : { tag: image.tag }),
      ...(image.amd64Only === undefined ? {} : { amd64Only: image.amd64Only })
    }))
  })
  const reportPath = join(dir, `${name}.report.json`)
  const run = await runCli(["-i", file, "--report", reportPath], { home: dir })
  const result = { name, proxy, run, report: await readReport(reportPath), images }
  runs.set(name, result)
  return result
}

const runOf = (name: string): FaultRun => {
  const r = runs.get(name)
  if (r === undefined) throw new Error(`no run ${name}`)
  return r
}

/** The first upload PUT of each target repository (each session has its own path, so attempts cannot tell). */
const firstUploadPutPerRepository = () => {
  const seen = new Set<string>()
  return (method: string, path: string) => {
    const at = path.indexOf("/blobs/uploads/")
    if (method !== "PUT" || at < 0 || seen.has(path.slice(0, at))) return false
    seen.add(path.slice(0, at))
    return true
  }
}

/** The image is synced and the target holds it byte for byte: manifest, children, every blob. */
const expectLanded = async (r: FaultRun, p: Pushed) => {
  const line = lineFor(r.run, p.source)
  expect(line.status, `${r.name}: ${line.line}\n${describeRun(r.run)}`).toBe("synced")
  expect(line.digest).toBe(p.pushed.digest)
  const tree = await verifyTree(dst.url, `${r.name}/${p.image.repository}`, p.image.targetTag)
  expect(tree.status).toBe(200)
  expect(tree.digest).toBe(p.pushed.digest)
  expect(Buffer.from(tree.bytes!).equals(Buffer.from(p.pushed.manifestBytes))).toBe(true)
  expect(tree.problems).toEqual([])
  for (const digest of [...p.pushed.children.map((c) => c.digest), ...p.pushed.blobs]) expect(tree.checked).toContain(digest)
}

/** Every (method, path) that was faulted got a later try without a fault. */
const retriedAfterEveryFault = (requests: ReadonlyArray<ProxiedRequest>): Array<string> => {
  const missing: Array<string> = []
  for (const f of requests.filter((r) => r.fault !== undefined)) {
    const later = requests.some((r) => r.method === f.method && r.pathname === f.pathname && r.attempt > f.attempt && r.fault === undefined)
    if (!later) missing.push(`${f.method} ${f.pathname} (attempt ${f.attempt}, ${f.fault})`)
  }
  return missing
}

const KEYCLOAK = () => seed[0]!
const OLD_EXPORTER = () => seed[1]!

/** Manifests and blobs: the paths whose bodies matter (the ping's `{}` is never read). */
const contentPath = (path: string) => paths.manifest()(path) || paths.blob()(path)

/** Each fault kind on its own, on every path of one index image's first tries (all GETs for body faults). */
const ALONE: ReadonlyArray<{ readonly fault: FaultKind; readonly rule: Omit<FaultRule, "fault"> }> = [
  { fault: "503", rule: { match: () => true, firstTries: 2 } },
  { fault: "429", rule: { match: () => true, firstTries: 2 } },
  { fault: "reset-mid-body", rule: { match: (m, path) => m === "GET" && contentPath(path), firstTries: 2 } },
  { fault: "truncate", rule: { match: (m, path) => m === "GET" && contentPath(path), firstTries: 2 } },
  { fault: "redirect-cross-origin", rule: { match: (m, path) => m === "GET" && paths.blob()(path) } }
]

/** Retry-After: 1 on the first GET of every manifest and blob (kept to GETs so the run stays short). */
const RETRY_AFTER_SECONDS = 1

beforeAll(async () => {
  ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
  dir = await makeTempDir("faults")
  seed = []
  for (const image of SEED) {
    const reference = image.sourceTag ?? buildImage(image.spec).top.digest
    const pushed = await pushImage(src.url, image.repository, reference, image.spec)
    seed.push({ image, pushed, source: sourceOf(image, pushed.digest) })
  }
  // Independent runs, each through its own proxy into its own target prefix, side by side.
  await Promise.all([
    // must-hold 1: 15 % 503, 10 % 429, 10 % resets mid-body, on the first two tries of any path
    syncThrough(
      "storm",
      [
        { match: () => true, fault: "503", probability: 0.15, firstTries: 2 },
        { match: () => true, fault: "429", probability: 0.1, firstTries: 2 },
        { match: (m, path) => m === "GET" && contentPath(path), fault: "reset-mid-body", probability: 0.1, firstTries: 2 }
      ],
      seed,
      "storm-7"
    ),
    ...ALONE.map((k) => syncThrough(`alone-${k.fault}`, [{ ...k.rule, fault: k.fault }], [KEYCLOAK()])),
    syncThrough("retry-after", [
      {
        match: (m, path) => m === "GET" && (paths.blob()(path) || paths.manifest()(path)),
        fault: "429-retry-after",
        retryAfterSeconds: RETRY_AFTER_SECONDS,
        firstTries: 1
      }
    ], [KEYCLOAK()]),
    // the target fails too: the first try of every request, and the first upload of every repository
    syncThrough(
      "target",
      [
        { match: firstUploadPutPerRepository(), fault: "503" },
        { match: (m, path) => !(m === "PUT" && path.includes("/blobs/uploads/")), fault: "503", firstTries: 1 }
      ],
      [KEYCLOAK(), seed[3]!],
      "target",
      "target"
    ),
    // one image's source never recovers
    syncThrough("forever", [
      {
        match: (_m, path) => path === `/v2/${OLD_EXPORTER().image.repository}/manifests/${OLD_EXPORTER().image.sourceTag}`,
        fault: "503"
      }
    ], seed)
  ])
}, 120_000)

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.stop()))
  await Promise.all([src?.stop(), dst?.stop()])
  await removeDir(dir)
}, 60_000)

describe("must-hold 1: 15 % 503, 10 % 429, 10 % mid-body resets on the source's first two tries", () => {
  test("the seed example still syncs: exit 0, all five synced", () => {
    const r = runOf("storm")
    expect(r.run.code, describeRun(r.run)).toBe(0)
    for (const p of seed) expect(lineFor(r.run, p.source).status).toBe("synced")
    expect(r.report.summary).toMatchObject({ total: 5, synced: 5, failed: 0 })
  })

  test("every image landed byte for byte: top-level bytes, index children and every blob verified by digest", async () => {
    const r = runOf("storm")
    for (const p of seed) await expectLanded(r, p)
  })

  test("all three faults were injected, each path at most on its first two tries, and each faulted request was retried", () => {
    const r = runOf("storm")
    const faults = r.proxy.faults()
    const count = (k: FaultKind) => faults.filter((f) => f.fault === k).length
    expect({ "503": count("503") > 0, "429": count("429") > 0, reset: count("reset-mid-body") > 0 }).toEqual({ "503": true, "429": true, reset: true })
    expect(faults.every((f) => f.attempt <= 2)).toBe(true)
    expect(retriedAfterEveryFault(r.proxy.requests())).toEqual([])
  })
})

describe("each fault kind alone on the source: the image still syncs", () => {
  for (const { fault } of ALONE) {
    test(`${fault}: synced byte for byte after the fault was injected`, async () => {
      const r = runOf(`alone-${fault}`)
      expect(r.run.code, describeRun(r.run)).toBe(0)
      await expectLanded(r, KEYCLOAK())
      expect(r.proxy.faults().filter((f) => f.fault === fault).length).toBeGreaterThan(0)
      if (fault !== "redirect-cross-origin") expect(retriedAfterEveryFault(r.proxy.requests())).toEqual([])
    })
  }

  test("reset-mid-body and truncate: a broken blob body is resumed with Range from where it broke", () => {
    for (const fault of ["reset-mid-body", "truncate"] as const) {
      const requests = runOf(`alone-${fault}`).proxy.requests()
      const broken = requests.filter((r) => r.fault === fault && paths.blob()(r.pathname))
      expect(broken.length).toBeGreaterThan(0)
      let exactResumes = 0
      for (const b of broken) {
        const next = requests.find((r) => r.method === "GET" && r.pathname === b.pathname && r.attempt === b.attempt + 1)
        expect(next, `${fault} ${b.pathname}`).toBeDefined()
        const start = (r: ProxiedRequest) => Number(/^bytes=(\d+)-$/.exec(r.headers["range"] ?? "bytes=0-")?.[1] ?? "0")
        // the next try starts where the client's bytes ended: at most where the proxy cut (a client may lose
        // the bytes that arrived with the break, and then reads them again)
        expect(start(next!)).toBeGreaterThanOrEqual(start(b))
        expect(start(next!)).toBeLessThanOrEqual(start(b) + b.faultOffset!)
        if (start(next!) > 0) expect(next!.status).toBe(206)
        if (start(next!) === start(b) + b.faultOffset!) exactResumes++
      }
      // resuming is not theoretical: bodies were picked up exactly where they broke
      expect(exactResumes, fault).toBeGreaterThan(0)
    }
  })

  test("redirect-cross-origin: every blob was served by the other origin, and none of those requests carried Authorization", () => {
    const r = runOf("alone-redirect-cross-origin")
    const redirected = r.proxy.redirected()
    expect(new Set(redirected.map((x) => x.path))).toEqual(new Set(KEYCLOAK().pushed.blobs.map((d) => `/v2/${KEYCLOAK().image.repository}/blobs/${d}`)))
    expect(redirected.every((x) => !x.authorization && x.status === 200)).toBe(true)
  })
})

describe("faults on the target", () => {
  test("503 on the first try of every request (checks, mounts, manifest PUTs): retried, both images synced byte for byte", async () => {
    const r = runOf("target")
    expect(r.run.code, describeRun(r.run)).toBe(0)
    for (const p of r.images) await expectLanded(r, p)
    const faulted = r.proxy.faults()
    expect(faulted.some((f) => f.method === "PUT" && paths.manifest()(f.pathname))).toBe(true)
    expect(faulted.some((f) => f.method === "HEAD")).toBe(true)
    expect(retriedAfterEveryFault(r.proxy.requests().filter((x) => !(x.method === "PUT" && x.pathname.includes("/blobs/uploads/"))))).toEqual([])
  })

  test("an upload that fails restarts cleanly: a new session (POST), then a PUT to the new session's own URL succeeds", () => {
    const requests = runOf("target").proxy.requests()
    const failed = requests.filter((x) => x.method === "PUT" && x.pathname.includes("/blobs/uploads/") && x.fault === "503")
    expect(failed.length).toBeGreaterThan(0)
    for (const f of failed) {
      const repository = f.pathname.slice(0, f.pathname.indexOf("/blobs/uploads/"))
      const digest = new URLSearchParams(f.path.split("?")[1] ?? "").get("digest")
      const retry = requests.find((x) =>
        x.id > f.id && x.method === "PUT" && x.pathname.startsWith(`${repository}/blobs/uploads/`) &&
        new URLSearchParams(x.path.split("?")[1] ?? "").get("digest") === digest
      )
      expect(retry, `${f.pathname} ${digest}`).toBeDefined()
      expect(retry!.pathname).not.toBe(f.pathname)
      expect(retry!.status).toBe(201)
      expect(requests.some((x) => x.id > f.id && x.id < retry!.id && x.method === "POST" && x.pathname === `${repository}/blobs/uploads/`)).toBe(true)
    }
  })
})

describe("Retry-After", () => {
  test("429 with Retry-After: the next try of the same request comes no sooner than the header says (proxy timestamps)", async () => {
    const r = runOf("retry-after")
    expect(r.run.code, describeRun(r.run)).toBe(0)
    await expectLanded(r, KEYCLOAK())
    const requests = r.proxy.requests()
    const faulted = requests.filter((x) => x.fault === "429-retry-after")
    expect(faulted.length).toBeGreaterThanOrEqual(3)
    for (const f of faulted) {
      const next = requests.find((x) => x.method === f.method && x.pathname === f.pathname && x.attempt === f.attempt + 1)
      expect(next, f.pathname).toBeDefined()
      expect(next!.at - f.at, f.pathname).toBeGreaterThanOrEqual(RETRY_AFTER_SECONDS * 1000)
    }
  })
})

describe("a source that never recovers", () => {
  test("503 on every try: that image failed with \"unavailable after retries\" after 5 tries; the others synced; exit 1", async () => {
    const r = runOf("forever")
    expect(r.run.code, describeRun(r.run)).toBe(1)
    const failing = OLD_EXPORTER()
    const line = lineFor(r.run, failing.source)
    expect(line.status).toBe("failed")
    expect(line.error).toContain("unavailable after retries")
    expect(reportFor(r.report, failing.source)).toMatchObject({ status: "failed", errorType: "RegistryUnavailable" })
    // the policy's five tries, no more
    const tries = r.proxy.requests().filter((x) => x.pathname === `/v2/${failing.image.repository}/manifests/${failing.image.sourceTag}`)
    expect(tries.map((x) => x.attempt)).toEqual([1, 2, 3, 4, 5])
    expect(tries.every((x) => x.fault === "503")).toBe(true)
    expect((await headManifest(dst.url, `forever/${failing.image.repository}`, failing.image.targetTag)).status).toBe(404)
    for (const p of seed.filter((x) => x !== failing)) await expectLanded(r, p)
  })
})

/** Tries fast enough for a unit-level test; the stall timeout is what is under test. */
const fastRetry: RetrySettings = { attempts: 5, baseDelay: "10 millis", maxDelay: "50 millis", maxRetryAfter: "5 seconds", maxTotal: "30 seconds" }

/** A RegistryClient with a short stall timeout (the CLI has no knob for it: see docs/reliability.md). */
const clientWithStallTimeout = (stallTimeoutMs: number) =>
  RegistryClient.layer({ readOnly: false, retry: fastRetry }).pipe(
    Layer.provide(RegistryHttp.layer({ ...defaultRegistryHttpSettings, retry: fastRetry, stallTimeoutMs })),
    Layer.provide(Credentials.anonymous),
    Layer.provide(FetchHttpClient.layer)
  )

const locate = (host: string, repository: string, role: "source" | "target"): ImageLocation => ({
  endpoint: endpointFor(host, new Map(), role),
  repository,
  reference: "unused"
})

/** Short, but long enough for the bytes before the stall to arrive on a busy machine (they set the Range). */
const STALL_TIMEOUT_MS = 1_000

/** The largest blob of the keycloak image: its first layer, gzip'd seeded bytes. */
const largestBlob = () => {
  const blobs = [...buildImage(KEYCLOAK().image.spec).blobs.entries()].sort((a, b) => b[1].length - a[1].length)
  const [digest, bytes] = blobs[0]!
  return { digest, size: bytes.length }
}

describe("a stalled body (RegistryClient with stallTimeoutMs; the CLI has no knob for it)", () => {
  test("a body that stops mid-way is abandoned after the stall timeout and resumed with Range; the blob lands", async () => {
    const blob = largestBlob()
    const proxy = await startFaultProxy({
      upstream: src.url,
      rules: [{ match: (m, path) => m === "GET" && paths.blob()(path), fault: "stall", firstTries: 1 }],
      seed: "stall"
    })
    proxies.push(proxy)
    const started = performance.now()
    const copied = await Effect.runPromise(
      Effect.flatMap(
        RegistryClient,
        (c) =>
          copyOneBlob(c, c, locate(proxy.host, KEYCLOAK().image.repository, "source"), locate(dst.host, "stall/blob", "target"), {
            digest: blob.digest,
            size: blob.size
          })
      ).pipe(
        Effect.provide(clientWithStallTimeout(STALL_TIMEOUT_MS))
      )
    )
    const elapsed = performance.now() - started
    expect(copied).toBe(blob.size)
    const [stalled, resumed, ...rest] = proxy.requests().filter((r) => r.method === "GET" && paths.blob()(r.pathname))
    expect(rest).toEqual([])
    expect(stalled!.fault).toBe("stall")
    expect(resumed!.headers["range"]).toBe(`bytes=${stalled!.faultOffset}-`)
    expect(resumed!.status).toBe(206)
    // abandoned after the timeout, not at once and not after the 30 s default
    expect(resumed!.at - stalled!.at).toBeGreaterThanOrEqual(STALL_TIMEOUT_MS)
    expect(elapsed).toBeLessThan(STALL_TIMEOUT_MS + 5_000)
    const head = await fetch(`${dst.url}/v2/stall/blob/blobs/${blob.digest}`, { method: "HEAD", proxy: false })
    expect(head.status).toBe(200)
  })

  test("a slow body that goes on before the stall timeout is not abandoned: one GET, the blob lands", async () => {
    const blob = largestBlob()
    const proxy = await startFaultProxy({
      upstream: src.url,
      rules: [{ match: (m, path) => m === "GET" && paths.blob()(path), fault: "stall", stallMs: 150, firstTries: 1 }],
      seed: "slow"
    })
    proxies.push(proxy)
    const copied = await Effect.runPromise(
      Effect.flatMap(
        RegistryClient,
        (c) =>
          copyOneBlob(c, c, locate(proxy.host, KEYCLOAK().image.repository, "source"), locate(dst.host, "slow/blob", "target"), {
            digest: blob.digest,
            size: blob.size
          })
      ).pipe(
        Effect.provide(clientWithStallTimeout(3_000))
      )
    )
    expect(copied).toBe(blob.size)
    const gets = proxy.requests().filter((r) => r.method === "GET" && paths.blob()(r.pathname))
    expect(gets.map((g) => g.fault)).toEqual(["stall"])
  })
})
