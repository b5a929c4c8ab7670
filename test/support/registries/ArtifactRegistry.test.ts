/**
 * The Artifact Registry stand-in in front of a real docker-registry: every PATCH refused (405
 * UNSUPPORTED) before it reaches the registry, monolithic POST + PUT pushes go through, and the
 * optional per-project quota answers 429 TOOMANYREQUESTS (with Retry-After) once a window's
 * requests are spent, project by project, also when many requests arrive at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { connect } from "node:net"
import { pushImage, sha256Digest } from "../../../demo/SampleImages.ts"
import { headManifest, SMALL, TWO_PLATFORMS } from "../../integration/helpers.ts"
import { skopeoCopy, skopeoDigest } from "../Skopeo.ts"
import { startArtifactRegistry } from "./ArtifactRegistry.ts"
import type { ArtifactRegistryStandIn } from "./ArtifactRegistry.ts"
import { blobOf, closeUpload, patchChunk, readBlob, send, startUpload } from "./Uploads.ts"

let ar: ArtifactRegistryStandIn

beforeAll(async () => {
  ar = await startArtifactRegistry()
}, 60_000)

afterAll(async () => {
  await ar?.stop()
}, 30_000)

describe("no chunked uploads", () => {
  test("a PATCH to an upload session is answered 405 UNSUPPORTED and never reaches the registry behind", async () => {
    const started = await startUpload(ar.url, "proj/repo/app")
    expect(started.response.status).toBe(202)
    await ar.upstream.resetRequests()
    const patched = await patchChunk(started.location!, blobOf(1000, "ar"), { "content-range": "0-999" })
    expect(patched.response.status).toBe(405)
    expect(JSON.parse(patched.body)).toEqual({ errors: [{ code: "UNSUPPORTED", message: "The operation is unsupported." }] })
    expect(ar.requests.at(-1)).toMatchObject({ method: "PATCH", status: 405, answeredBy: "quirk", bodyBytes: 1000 })
    await ar.upstream.settle()
    expect(ar.upstream.requests().filter((r) => r.method === "PATCH")).toEqual([])
  })

  test("the same blob as one monolithic PUT on a fresh session is stored", async () => {
    const blob = blobOf(5000, "ar-monolithic")
    const started = await startUpload(ar.url, "proj/repo/app")
    const closed = await closeUpload(started.location!, sha256Digest(blob), blob)
    expect(closed.response.status).toBe(201)
    expect(await readBlob(ar.upstream.url, "proj/repo/app", sha256Digest(blob))).toEqual({ status: 200, digest: sha256Digest(blob) })
  })

  test("an image pushed monolithically (POST + PUT) is read back by skopeo; a skopeo push, which PATCHes, is refused", async () => {
    const image = await pushImage(ar.url, "proj/repo/img", "1", { platforms: TWO_PLATFORMS, seed: "ar-image", ...SMALL })
    expect(await skopeoDigest(`${ar.host}/proj/repo/img:1`)).toBe(image.digest)
    ar.clearRequests()
    await expect(skopeoCopy(`${ar.host}/proj/repo/img:1`, `${ar.host}/proj/repo/copy:1`, { all: true })).rejects.toThrow()
    expect(ar.requests.filter((r) => r.method === "PATCH").map((r) => r.status)).toContain(405)
    expect((await headManifest(ar.upstream.url, "proj/repo/copy", "1")).status).toBe(404)
  })
})

describe("Content-Length on every POST", () => {
  test("a POST without Content-Length is answered 411 Length Required; with `Content-Length: 0` it opens a session", async () => {
    const status = await new Promise<string>((resolve, reject) => {
      let answer = ""
      const socket = connect(Number(ar.host.split(":")[1]), "127.0.0.1", () => {
        socket.write(`POST /v2/proj/repo/app/blobs/uploads/ HTTP/1.1\r\nHost: ${ar.host}\r\nConnection: close\r\n\r\n`)
      })
      socket.on("data", (chunk) => {
        answer += chunk.toString("latin1")
      })
      socket.on("error", reject)
      socket.on("close", () => resolve(answer.split("\r\n")[0] ?? ""))
    })
    expect(status).toBe("HTTP/1.1 411 Length Required")
    expect(ar.requests.at(-1)).toMatchObject({ method: "POST", contentLength: undefined, status: 411, answeredBy: "quirk" })
    const started = await send(`${ar.url}/v2/proj/repo/app/blobs/uploads/`, { method: "POST", headers: { "content-length": "0" } })
    expect(started.status).toBe(202)
    await started.arrayBuffer()
  })
})

describe("per-project quota", () => {
  let quota: ArtifactRegistryStandIn
  let clock = 0

  beforeAll(async () => {
    quota = await startArtifactRegistry({ upstream: ar.upstream, quota: { requests: 3, windowMs: 60_000, retryAfterSeconds: 7, now: () => clock } })
  })

  afterAll(async () => {
    await quota?.stop()
  })

  const head = (project: string) => send(`${quota.url}/v2/${project}/repo/app/manifests/1`, { method: "HEAD" })
  const get = async (project: string) => {
    const response = await send(`${quota.url}/v2/${project}/repo/app/manifests/1`, { method: "GET" })
    return { status: response.status, retryAfter: response.headers.get("retry-after"), body: await response.text() }
  }

  test("N requests of a project per window go through; the next ones get 429 TOOMANYREQUESTS with Retry-After; other projects and /v2/ are not charged", async () => {
    expect((await Promise.all([head("p1"), head("p1"), head("p1")])).map((r) => r.status)).toEqual([404, 404, 404])
    const refused = await get("p1")
    expect(refused.status).toBe(429)
    expect(refused.retryAfter).toBe("7")
    expect(JSON.parse(refused.body).errors[0]).toEqual({
      code: "TOOMANYREQUESTS",
      message:
        "Quota exceeded for quota metric 'Requests per project per region' and limit 'Requests per project per region per minute per region' of service 'artifactregistry.googleapis.com'"
    })
    expect((await head("p2")).status).toBe(404)
    expect((await send(`${quota.url}/v2/`, { method: "GET" })).status).toBe(200)
    expect(quota.quotaUsed("p1")).toBe(3)
    expect(quota.quotaUsed("p2")).toBe(1)
    // refused requests are not charged and never reach the registry behind
    expect(quota.requests.filter((r) => r.status === 429).every((r) => r.answeredBy === "quirk")).toBe(true)
  })

  test("a new window (the clock a minute on) admits the project again", async () => {
    expect((await head("p1")).status).toBe(429)
    clock += 60_000
    expect((await head("p1")).status).toBe(404)
    expect(quota.quotaUsed("p1")).toBe(1)
    quota.openNextWindow()
    expect(quota.quotaUsed("p1")).toBe(0)
  })

  test("16 requests at once against a quota of 3: exactly 3 admitted, 13 answered 429", async () => {
    quota.openNextWindow()
    const statuses = (await Promise.all(Array.from({ length: 16 }, () => head("p3")))).map((r) => r.status)
    expect(statuses.filter((s) => s === 404)).toHaveLength(3)
    expect(statuses.filter((s) => s === 429)).toHaveLength(13)
  })
})
