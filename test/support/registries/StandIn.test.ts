/**
 * The common stand-in without a personality, in front of a real docker-registry: requests and
 * bodies go through both ways, upstream Locations come back with the stand-in's origin, and
 * every request is recorded with the headers that matter, the body size that arrived and the
 * status answered.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { pushImage, sha256Digest } from "../../../demo/SampleImages.ts"
import type { PushedImage } from "../../../demo/SampleImages.ts"
import { headManifest, SMALL, TWO_PLATFORMS } from "../../integration/helpers.ts"
import { skopeoCopy, skopeoDigest } from "../Skopeo.ts"
import { bodiesWithoutLength, routeOf, startStandIn } from "./StandIn.ts"
import type { StandIn } from "./StandIn.ts"
import { blobOf, chunkedUpload, closeUpload, locationOf, patchChunk, readBlob, send, startUpload, streamOf } from "./Uploads.ts"

let standIn: StandIn
let image: PushedImage

beforeAll(async () => {
  standIn = await startStandIn({})
  image = await pushImage(standIn.url, "team/app", "1", { platforms: TWO_PLATFORMS, seed: "stand-in", ...SMALL })
}, 60_000)

afterAll(async () => {
  await standIn?.stop()
}, 30_000)

describe("routeOf", () => {
  test("names the endpoint and the repository of distribution-spec paths", () => {
    expect(routeOf("/v2/")).toEqual({ kind: "ping" })
    expect(routeOf("/v2/_catalog")).toEqual({ kind: "catalog" })
    expect(routeOf("/v2/a/b/tags/list")).toEqual({ kind: "tags", repository: "a/b" })
    expect(routeOf("/v2/a/b/manifests/v1")).toEqual({ kind: "manifest", repository: "a/b", reference: "v1" })
    expect(routeOf("/v2/a/blobs/uploads/")).toEqual({ kind: "upload-start", repository: "a" })
    expect(routeOf("/v2/a/b/c/blobs/uploads/7f1e-2")).toEqual({ kind: "upload", repository: "a/b/c", session: "7f1e-2" })
    expect(routeOf("/v2/a/blobs/sha256:00")).toEqual({ kind: "blob", repository: "a", digest: "sha256:00" })
    expect(routeOf("/v2/a/referrers/sha256:00")).toEqual({ kind: "referrers", repository: "a", digest: "sha256:00" })
    expect(routeOf("/token")).toEqual({ kind: "other" })
  })
})

describe("a stand-in without quirks", () => {
  test("a push through it lands in the registry behind, and skopeo reads it back through it", async () => {
    expect((await headManifest(standIn.upstream.url, "team/app", "1")).digest).toBe(image.digest)
    expect(await skopeoDigest(`${standIn.host}/team/app:1`)).toBe(image.digest)
    const puts = standIn.requests.filter((r) => r.method === "PUT" && r.route.kind === "manifest")
    expect(puts.map((r) => [r.status, r.answeredBy])).toEqual([[201, "upstream"], [201, "upstream"], [201, "upstream"]])
  })

  test("upload Locations point at the stand-in, not at the registry behind", async () => {
    const started = await startUpload(standIn.url, "loc/app")
    expect(started.response.status).toBe(202)
    expect(started.response.headers.get("location")?.startsWith(`${standIn.url}/v2/loc/app/blobs/uploads/`)).toBe(true)
  })

  test("records method, path, query, the headers that matter, the body size that arrived and the status; Authorization only as present", async () => {
    standIn.clearRequests()
    const blob = blobOf(3000, "recorded")
    const started = await startUpload(standIn.url, "rec/app")
    const patched = await patchChunk(started.location!, blob.subarray(0, 1000), {
      authorization: "Basic c2VjcmV0LXZhbHVl",
      "content-range": "0-999"
    })
    expect(patched.response.status).toBe(202)
    const streamed = await patchChunk(locationOf(patched.response, started.location!), streamOf(blob.subarray(1000), 512))
    expect(streamed.response.status).toBe(202)
    const closed = await closeUpload(locationOf(streamed.response, started.location!), sha256Digest(blob))
    expect(closed.response.status).toBe(201)

    const [post, first, second, put] = standIn.requests
    expect(standIn.requests).toHaveLength(4)
    expect(post).toMatchObject({ method: "POST", path: "/v2/rec/app/blobs/uploads/", query: "", bodyBytes: 0, status: 202, authorization: false })
    expect(first).toMatchObject({
      method: "PATCH",
      contentLength: 1000,
      contentRange: "0-999",
      contentType: "application/octet-stream",
      transferEncoding: undefined,
      authorization: true,
      bodyBytes: 1000,
      status: 202,
      answeredBy: "upstream"
    })
    expect(second).toMatchObject({ method: "PATCH", contentLength: undefined, transferEncoding: "chunked", bodyBytes: 2000, status: 202 })
    expect(put).toMatchObject({ method: "PUT", contentLength: 0, bodyBytes: 0, status: 201 })
    expect(put!.query).toContain(`digest=${encodeURIComponent(sha256Digest(blob))}`)
    expect(first!.route).toEqual({ kind: "upload", repository: "rec/app", session: expect.any(String) })
    // the value of a credential is never kept
    expect(JSON.stringify(standIn.requests)).not.toContain("c2VjcmV0LXZhbHVl")
    expect(bodiesWithoutLength(standIn.requests)).toEqual([second!])
    expect(await readBlob(standIn.upstream.url, "rec/app", sha256Digest(blob))).toEqual({ status: 200, digest: sha256Digest(blob) })
  })

  test("a 6 MiB blob streams up without Content-Length and back down byte for byte", async () => {
    standIn.clearRequests()
    const blob = blobOf(6 * 1024 * 1024, "big")
    const started = await startUpload(standIn.url, "big/app")
    const closed = await closeUpload(started.location!, sha256Digest(blob), streamOf(blob))
    expect(closed.response.status).toBe(201)
    expect(standIn.requests.find((r) => r.method === "PUT")).toMatchObject({ bodyBytes: blob.length, transferEncoding: "chunked", contentLength: undefined })
    const get = await send(`${standIn.url}/v2/big/app/blobs/${sha256Digest(blob)}`, { method: "GET" })
    expect(get.headers.get("content-length")).toBe(String(blob.length))
    expect(sha256Digest(new Uint8Array(await get.arrayBuffer()))).toBe(sha256Digest(blob))
  })

  test("skopeo copies into the registry behind through the stand-in: one PATCH per blob, with its Content-Length", async () => {
    standIn.clearRequests()
    await skopeoCopy(`${standIn.upstream.host}/team/app:1`, `${standIn.host}/copied/app:1`, { all: true })
    expect((await headManifest(standIn.upstream.url, "copied/app", "1")).digest).toBe(image.digest)
    const patches = standIn.requests.filter((r) => r.method === "PATCH")
    expect(patches).toHaveLength(image.blobs.length)
    for (const patch of patches) expect(patch).toMatchObject({ status: 202, contentLength: patch.bodyBytes })
    expect(bodiesWithoutLength(standIn.requests)).toEqual([])
  })

  test("16 uploads at once: each stored byte for byte, each request recorded once with its own body size", async () => {
    standIn.clearRequests()
    const blobs = Array.from({ length: 16 }, (_, i) => blobOf(100_000 + i * 1000, `parallel-${i}`))
    const statuses = await Promise.all(blobs.map((blob) => chunkedUpload(standIn.url, "par/app", blob, 64 * 1024)))
    expect(statuses.every((s) => s[0] === 202 && s.at(-1) === 201 && s.slice(1, -1).every((p) => p === 202))).toBe(true)
    for (const blob of blobs) expect(await readBlob(standIn.upstream.url, "par/app", sha256Digest(blob))).toEqual({ status: 200, digest: sha256Digest(blob) })
    const patches = standIn.requests.filter((r) => r.method === "PATCH")
    expect(patches.reduce((sum, r) => sum + r.bodyBytes, 0)).toBe(blobs.reduce((sum, b) => sum + b.length, 0))
    expect(patches.every((r) => r.bodyBytes === r.contentLength)).toBe(true)
    expect(new Set(standIn.requests.map((r) => r.id)).size).toBe(standIn.requests.length)
  })

  test("a personality can change what the registry behind is asked and the status and headers of its answer", async () => {
    const upstreams: Array<string> = []
    const reshaping = await startStandIn({
      rewrite: (request) => {
        upstreams.push(request.upstream)
        if (request.route.kind !== "upload-start" || !request.url.searchParams.has("mount")) return undefined
        return request.url.pathname
      },
      adjust: (request, answer) =>
        request.method === "PATCH" && answer.status === 202 ? { status: 201, headers: { ...answer.headers, "x-adjusted": "yes" } } : answer
    }, { upstream: standIn.upstream })
    try {
      const layer = image.blobs[0]!
      // the registry behind would mount this blob (201); without `mount` it opens a session (202)
      const mounted = await startUpload(reshaping.url, "reshape/app", `mount=${encodeURIComponent(layer)}&from=team%2Fapp`)
      expect(mounted.response.status).toBe(202)
      await reshaping.upstream.settle()
      expect(reshaping.upstream.requests().at(-1)).toMatchObject({ method: "POST", path: "/v2/reshape/app/blobs/uploads/", status: 202 })
      const blob = blobOf(1000, "reshaped")
      const patched = await patchChunk(mounted.location!, blob, { "content-range": "0-999" })
      expect([patched.response.status, patched.response.headers.get("x-adjusted")]).toEqual([201, "yes"])
      expect(reshaping.requests.at(-1)).toMatchObject({ method: "PATCH", status: 201, answeredBy: "upstream" })
      const closed = await closeUpload(locationOf(patched.response, mounted.location!), sha256Digest(blob))
      expect(closed.response.status).toBe(201)
      expect(new Set(upstreams)).toEqual(new Set([standIn.upstream.url]))
    } finally {
      await reshaping.stop()
    }
  })

  test("stop() stops the registry it started, and leaves alone one it was given", async () => {
    const owning = await startStandIn({})
    const borrowing = await startStandIn({}, { upstream: standIn.upstream })
    await Promise.all([owning.stop(), borrowing.stop()])
    await expect(fetch(`${owning.upstream.url}/v2/`, { proxy: false })).rejects.toThrow()
    await expect(fetch(`${borrowing.url}/v2/`, { proxy: false })).rejects.toThrow()
    expect((await send(`${standIn.upstream.url}/v2/`, { method: "GET" })).status).toBe(200)
  })
})
