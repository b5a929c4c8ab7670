/**
 * Hostile registries: what a registry that wants to hurt us can send, and what must happen.
 * Each case runs the real CLI (`bun src/cli/launch.ts`) against a Bun.serve fake for what a
 * real registry cannot do on demand (file: redirects, endless or stalled bodies, digests with
 * "..", a 401 behind an open /v2/, an immutable-tag refusal), with a real `docker-registry`
 * wherever the other side can be real. Memory is the child's own peak RSS (getrusage).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { randomBytes } from "node:crypto"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import { digestOf, registryError, sampleIndex, startServer } from "../support/FakeRegistry.ts"
import type { FakeServer, Handler } from "../support/FakeRegistry.ts"
import { makeTempDir, readReport, removeDir, REPO_ROOT, SMALL, TWO_PLATFORMS, writeDefinition, writeRequests } from "../integration/helpers.ts"
import type { CliRun } from "../integration/helpers.ts"

const TIMEOUT = 120_000
const MiB = 1024 * 1024

let dir: string
let dst: LocalRegistry
let src: LocalRegistry
/** A local file a hostile registry would like us to read: its content must appear nowhere. */
let secretPath: string
const secret = `local-secret-${randomBytes(12).toString("hex")}`

beforeAll(async () => {
  dir = await makeTempDir("hostile")
  secretPath = join(dir, "secret.txt")
  await writeFile(secretPath, secret)
  ;[dst, src] = await Promise.all([startRegistry(), startRegistry()])
  await pushImage(src.url, "hostile/app", "1", { platforms: TWO_PLATFORMS, seed: "hostile", ...SMALL })
}, TIMEOUT)

afterAll(async () => {
  await Promise.all([dst?.stop(), src?.stop()])
  await removeDir(dir)
}, TIMEOUT)

/** A CLI run with the child's peak RSS and wall time. */
interface MeasuredRun extends CliRun {
  readonly maxRssBytes: number
  readonly ms: number
}

const run = async (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<MeasuredRun> => {
  const started = performance.now()
  const proc = Bun.spawn([process.execPath, "src/cli/launch.ts", ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, DOCKER_CONFIG: join(dir, ".docker"), NO_PROXY: "*", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr, maxRssBytes: proc.resourceUsage()?.maxRSS ?? 0, ms: performance.now() - started }
}

let counter = 0
/** Syncs `source` into the real target registry with a report; returns the run and its one report entry. */
const syncOne = async (source: string, extraArgs: ReadonlyArray<string> = [], env: Record<string, string> = {}) => {
  const n = ++counter
  const file = await writeDefinition(dir, `hostile-${n}.yaml`, { targetRepoPrefix: `${dst.host}/hostile-${n}/`, images: [{ source }] })
  const report = join(dir, `hostile-${n}.json`)
  const result = await run(["-i", file, "--report", report, ...extraArgs], { SYNCER_STALL_TIMEOUT_MS: "400", ...env })
  const doc = await readReport(report)
  return { result, entry: doc.images[0]!, report: doc }
}

/** A fake registry serving `/v2/` open and the rest from `handler`. */
const hostile = (handler: Handler): FakeServer =>
  startServer((request, url, seen) => (url.pathname === "/v2/" ? new Response("{}", { status: 200 }) : handler(request, url, seen)))

/** Nothing we send, print or write carries the secret file's content. */
const expectSecretNowhere = async (fake: FakeServer, outcome: { readonly result: CliRun; readonly report: unknown }) => {
  for (const r of fake.requests()) expect(JSON.stringify(r)).not.toContain(secret)
  expect(outcome.result.stdout).not.toContain(secret)
  expect(outcome.result.stderr).not.toContain(secret)
  expect(JSON.stringify(outcome.report)).not.toContain(secret)
  expect(await writeRequests(dst)).toEqual([])
}

const INDEX = sampleIndex("hostile-fake")

describe("only http: and https: URLs are fetched", () => {
  test("a manifest GET redirected to file:// is refused, the file never read, nothing pushed", async () => {
    // no Docker-Content-Digest on the HEAD, so the tag is read with a GET, which redirects
    const fake = hostile((req, url) => {
      if (url.pathname !== "/v2/evil/app/manifests/1") return undefined
      if (req.method === "HEAD") return new Response(null, { status: 200, headers: { "content-type": INDEX.mediaType } })
      return new Response(null, { status: 302, headers: { location: `file://${secretPath}` } })
    })
    try {
      await dst.resetRequests()
      const outcome = await syncOne(`${fake.host}/evil/app:1`, ["--debug"])
      expect(outcome.result.code).toBe(1)
      expect(outcome.entry).toMatchObject({ status: "failed", errorType: "UnsupportedUrl" })
      expect(outcome.entry.error).toContain("redirect of GET /v2/evil/app/manifests/1")
      expect(outcome.entry.error).toContain("not file:")
      await expectSecretNowhere(fake, outcome)
    } finally {
      await fake.stop()
    }
  }, TIMEOUT)

  test("a token endpoint redirected to file:// is refused: the file is never sent back as a token", async () => {
    let fake: FakeServer
    fake = startServer((req, url) => {
      if (url.pathname === "/token") return new Response(null, { status: 302, headers: { location: `file://${secretPath}` } })
      if (req.headers.get("authorization")) return registryError(403, "DENIED", "no")
      return new Response(null, {
        status: 401,
        headers: { "www-authenticate": `Bearer realm="${fake.url}/token",service="evil"` }
      })
    })
    try {
      await dst.resetRequests()
      const outcome = await syncOne(`${fake.host}/evil/app:1`)
      expect(outcome.result.code).toBe(1)
      expect(outcome.entry).toMatchObject({ status: "failed", errorType: "UnsupportedUrl" })
      expect(outcome.entry.error).toContain("redirect of GET /token")
      // the only Authorization the fake ever saw would have been the file's content
      expect(fake.requests().filter((r) => r.headers["authorization"] !== undefined)).toEqual([])
      await expectSecretNowhere(fake, outcome)
    } finally {
      await fake.stop()
    }
  }, TIMEOUT)

  test("a token realm of file:// is a typed error naming the scheme, not an internal error", async () => {
    const fake = startServer(() => new Response(null, { status: 401, headers: { "www-authenticate": `Bearer realm="file://${secretPath}",service="evil"` } }))
    try {
      await dst.resetRequests()
      const outcome = await syncOne(`${fake.host}/evil/app:1`)
      expect(outcome.result.code).toBe(1)
      expect(outcome.entry).toMatchObject({ status: "failed", errorType: "UnsupportedUrl" })
      expect(outcome.entry.error).toContain("token realm")
      expect(outcome.entry.error).toContain("not file:")
      expect(outcome.entry.error).not.toContain("internal error")
      await expectSecretNowhere(fake, outcome)
    } finally {
      await fake.stop()
    }
  }, TIMEOUT)
})

describe("bodies have limits and a stall timeout", () => {
  /** A body of `total` bytes made on the fly (never held in memory), in 64 KiB chunks. */
  const endless = (total = Number.POSITIVE_INFINITY) => {
    let sent = 0
    const chunk = new Uint8Array(64 * 1024).fill(0x7b)
    return new ReadableStream<Uint8Array>({
      pull: (controller) => {
        if (sent >= total) return controller.close()
        const n = Math.min(chunk.length, total - sent)
        sent += n
        controller.enqueue(n === chunk.length ? chunk : chunk.subarray(0, n))
      }
    })
  }
  /** A manifest source whose HEAD is fine and whose GET answers `get`. */
  const manifestSource = (get: () => Response) =>
    hostile((req, url) => {
      if (url.pathname !== "/v2/big/app/manifests/1") return undefined
      if (req.method === "HEAD") return new Response(null, { status: 200, headers: { "content-type": INDEX.mediaType } })
      return get()
    })

  const expectBounded = (r: MeasuredRun) => {
    expect(r.maxRssBytes).toBeGreaterThan(0)
    expect(r.maxRssBytes).toBeLessThan(300 * MiB)
  }

  test("a 50 MB manifest (announced by Content-Length) is refused before it is read", async () => {
    const fake = manifestSource(() =>
      new Response(endless(50 * MiB), { status: 200, headers: { "content-type": INDEX.mediaType, "content-length": String(50 * MiB) } })
    )
    try {
      const outcome = await syncOne(`${fake.host}/big/app:1`)
      expect(outcome.entry).toMatchObject({ status: "failed", errorType: "ResponseTooLarge" })
      expect(outcome.entry.error).toContain(`${fake.host}: the manifest of GET /v2/big/app/manifests/1 is larger than the 4 MiB limit`)
      expectBounded(outcome.result)
      expect(outcome.result.ms).toBeLessThan(20_000)
    } finally {
      await fake.stop()
    }
  }, TIMEOUT)

  test("a 1 GiB manifest without Content-Length is cut off at 4 MiB and never pushed", async () => {
    const fake = manifestSource(() => new Response(endless(1024 * MiB), { status: 200, headers: { "content-type": INDEX.mediaType } }))
    try {
      await dst.resetRequests()
      const outcome = await syncOne(`${fake.host}/big/app:1`)
      expect(outcome.entry).toMatchObject({ status: "failed", errorType: "ResponseTooLarge" })
      expectBounded(outcome.result)
      expect(outcome.result.ms).toBeLessThan(20_000)
      expect(await writeRequests(dst)).toEqual([])
    } finally {
      await fake.stop()
    }
  }, TIMEOUT)

  test("a manifest GET that sends headers and then nothing gives up after the stall timeout (each try)", async () => {
    const fake = manifestSource(() =>
      // the first bytes go out (with the headers), then nothing more
      new Response(
        new ReadableStream<Uint8Array>({
          start: (c) => c.enqueue(new TextEncoder().encode("{\"schemaVersion\":2,")),
          pull: () => new Promise<void>(() => {})
        }),
        {
          status: 200,
          headers: { "content-type": INDEX.mediaType }
        }
      )
    )
    try {
      const outcome = await syncOne(`${fake.host}/big/app:1`)
      expect(outcome.entry).toMatchObject({ status: "failed", errorType: "RegistryUnavailable" })
      expect(outcome.entry.error).toContain("stalled for 400 ms")
      // five tries of 400 ms plus the backoff between them
      expect(outcome.result.ms).toBeLessThan(30_000)
      expect(fake.requests().filter((r) => r.method === "GET" && r.path === "/v2/big/app/manifests/1")).toHaveLength(5)
    } finally {
      await fake.stop()
    }
  }, TIMEOUT)

  test("a 500 with an endless body: only the start is read for the message, memory stays flat", async () => {
    const fake = hostile(() => new Response(endless(), { status: 500, headers: { "content-type": "text/plain" } }))
    try {
      const outcome = await syncOne(`${fake.host}/big/app:1`)
      expect(outcome.entry).toMatchObject({ status: "failed", errorType: "RegistryUnavailable" })
      expect(outcome.entry.error).toContain("HTTP 500")
      expect(outcome.entry.error!.length).toBeLessThan(1000)
      expectBounded(outcome.result)
      expect(outcome.result.ms).toBeLessThan(30_000)
    } finally {
      await fake.stop()
    }
  }, TIMEOUT)

  test("a 200 MB token response is refused at 1 MiB", async () => {
    let fake: FakeServer
    fake = startServer((req, url) => {
      if (url.pathname === "/token") return new Response(endless(200 * MiB), { status: 200, headers: { "content-type": "application/json" } })
      return new Response(null, { status: 401, headers: { "www-authenticate": `Bearer realm="${fake.url}/token",service="evil"` } })
    })
    try {
      const outcome = await syncOne(`${fake.host}/big/app:1`)
      expect(outcome.entry).toMatchObject({ status: "failed", errorType: "ResponseTooLarge" })
      expect(outcome.entry.error).toContain("token response")
      expect(outcome.entry.error).toContain("1 MiB limit")
      expectBounded(outcome.result)
    } finally {
      await fake.stop()
    }
  }, TIMEOUT)
})

describe("digests from a registry are checked before they enter a request path", () => {
  test("an index child digest of sha256:../../… fails the image; no request leaves the repository", async () => {
    const evilChild = "sha256:../../../../v2/other/manifests/x"
    const bytes = new TextEncoder().encode(JSON.stringify({
      schemaVersion: 2,
      mediaType: INDEX.mediaType,
      manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: evilChild, size: 10 }]
    }))
    const digest = digestOf(bytes)
    const fake = hostile((req, url) => {
      if (url.pathname === "/v2/evil/app/manifests/1" || url.pathname === `/v2/evil/app/manifests/${digest}`) {
        return new Response(req.method === "HEAD" ? null : bytes, {
          status: 200,
          headers: { "content-type": INDEX.mediaType, "docker-content-digest": digest, "content-length": String(bytes.length) }
        })
      }
      return undefined
    })
    try {
      await dst.resetRequests()
      const outcome = await syncOne(`${fake.host}/evil/app:1`)
      expect(outcome.entry).toMatchObject({ status: "failed", errorType: "TransportFailure" })
      expect(outcome.entry.error).toContain("not a tag or a sha256 digest")
      expect(fake.requests().every((r) => r.path.startsWith("/v2/evil/app/") || r.path === "/v2/")).toBe(true)
      expect((await dst.settle(), dst.requests()).some((r) => r.path.includes(".."))).toBe(false)
      expect(await writeRequests(dst)).toEqual([])
    } finally {
      await fake.stop()
    }
  }, TIMEOUT)
})

describe("credentials", () => {
  test("/v2/ open but the repository behind a Bearer challenge: the -t key is sent to the token server", async () => {
    const key = "{\"type\":\"service_account\",\"private_key_id\":\"k1\"}"
    const keyPath = join(dir, "open-v2-key.json")
    await writeFile(keyPath, key)
    const expected = `Basic ${Buffer.from(`_json_key:${key}`).toString("base64")}`
    let target: FakeServer
    target = startServer((req, url) => {
      if (url.pathname === "/v2/") return new Response("{}", { status: 200 })
      if (url.pathname === "/token") {
        return req.headers.get("authorization") === expected
          ? Response.json({ token: "granted-token", expires_in: 300 })
          : registryError(401, "UNAUTHORIZED", "bad credentials")
      }
      if (req.headers.get("authorization") !== "Bearer granted-token") {
        return new Response(null, {
          status: 401,
          headers: { "www-authenticate": `Bearer realm="${target.url}/token",service="open-v2",scope="repository:x:pull"` }
        })
      }
      return registryError(404, "MANIFEST_UNKNOWN", "unknown")
    })
    try {
      const file = await writeDefinition(dir, "open-v2.yaml", { targetRepoPrefix: `${target.host}/mirror/`, images: [{ source: `${src.host}/hostile/app:1` }] })
      const r = await run(["-i", file, "-t", keyPath, "--dry-run"])
      expect({ code: r.code, out: r.stdout }).toMatchObject({ code: 0 })
      expect(r.stdout).toContain("planned")
      const tokenRequests = target.requests().filter((q) => q.path.startsWith("/token"))
      expect(tokenRequests.length).toBeGreaterThan(0)
      expect(tokenRequests.every((q) => q.headers["authorization"] === expected)).toBe(true)
      expect(r.stderr).not.toContain("private_key_id")
    } finally {
      await target.stop()
    }
  }, TIMEOUT)
})

describe("the report", () => {
  test("a report that cannot be written makes the exit status non-zero, with the results still on stdout", async () => {
    const file = await writeDefinition(dir, "report-full.yaml", {
      targetRepoPrefix: `${dst.host}/report-full/`,
      images: [{ source: `${src.host}/hostile/app:1` }]
    })
    // /dev/full accepts the open and refuses every write (ENOSPC)
    const r = await run(["-i", file, "--report", "/dev/full"])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^synced /m)
    expect(r.stderr).toContain("could not write report /dev/full: no space left on device")
  }, TIMEOUT)
})

describe("an immutable target tag", () => {
  test("a registry that refuses to overwrite the tag makes the image a conflict naming what the tag holds", async () => {
    const theirs = digestOf("someone else's manifest")
    let putTag = 0
    const target = startServer((req, url) => {
      if (url.pathname === "/v2/") return new Response("{}", { status: 200 })
      if (url.pathname.includes("/blobs/uploads/")) return new Response(null, { status: 201, headers: { location: url.pathname } })
      if (url.pathname.includes("/blobs/")) return new Response(null, { status: 200, headers: { "content-length": "1" } })
      const tagged = url.pathname.endsWith("/manifests/1")
      if (tagged && req.method === "HEAD") {
        return putTag === 0
          ? registryError(404, "MANIFEST_UNKNOWN", "unknown")
          : new Response(null, { status: 200, headers: { "docker-content-digest": theirs, "content-type": INDEX.mediaType } })
      }
      if (tagged && req.method === "PUT") {
        putTag++
        return registryError(400, "TAG_INVALID", "The image tag '1' already exists in the repository and cannot be overwritten because the tag is immutable.")
      }
      if (req.method === "HEAD") return registryError(404, "MANIFEST_UNKNOWN", "unknown")
      if (req.method === "PUT") return new Response(null, { status: 201 })
      return undefined
    })
    try {
      const file = await writeDefinition(dir, "immutable.yaml", {
        targetRepoPrefix: `${target.host}/mirror/`,
        images: [{ source: `${src.host}/hostile/app:1` }]
      })
      const report = join(dir, "immutable.json")
      const r = await run(["-i", file, "--report", report])
      const entry = (await readReport(report)).images[0]!
      expect({ code: r.code, entry }).toMatchObject({ code: 1, entry: { status: "conflict", errorType: "TagTaken" } })
      expect(entry.error).toContain("is immutable in the registry")
      expect(entry.error).toContain(theirs)
      expect(putTag).toBe(1)
    } finally {
      await target.stop()
    }
  }, TIMEOUT)
})
