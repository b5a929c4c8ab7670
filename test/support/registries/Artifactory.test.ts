/**
 * The Artifactory stand-in in front of a real docker-registry: a PUT carrying the blob on a
 * session that got no PATCH (monolithic POST + PUT) is answered 404 BLOB_UNKNOWN and the blob is
 * not stored; the same blob sent by PATCH and closed by PUT (empty, or with the last chunk) is.
 * skopeo, which PATCHes, pushes through it; the monolithic sample pusher cannot.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { pushImage, sha256Digest } from "../../../demo/SampleImages.ts"
import type { PushedImage } from "../../../demo/SampleImages.ts"
import { headManifest, SMALL, TWO_PLATFORMS } from "../../integration/helpers.ts"
import { skopeoCopy, skopeoDigest } from "../Skopeo.ts"
import { startArtifactory } from "./Artifactory.ts"
import type { StandIn } from "./StandIn.ts"
import { blobOf, chunkedUpload, closeUpload, locationOf, patchChunk, readBlob, startUpload, streamOf } from "./Uploads.ts"

let artifactory: StandIn
let image: PushedImage

beforeAll(async () => {
  artifactory = await startArtifactory()
  // the source image, pushed straight into the registry behind
  image = await pushImage(artifactory.upstream.url, "src/app", "1", { platforms: TWO_PLATFORMS, seed: "artifactory", ...SMALL })
}, 60_000)

afterAll(async () => {
  await artifactory?.stop()
}, 30_000)

describe("the blob must come by PATCH", () => {
  test("monolithic POST + PUT with the blob: 404 BLOB_UNKNOWN, nothing reaches the registry behind, the blob is absent", async () => {
    const blob = blobOf(3000, "monolithic")
    const started = await startUpload(artifactory.url, "team/app")
    expect(started.response.status).toBe(202)
    await artifactory.upstream.resetRequests()
    const closed = await closeUpload(started.location!, sha256Digest(blob), blob)
    expect(closed.response.status).toBe(404)
    expect(JSON.parse(closed.body)).toEqual({ errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown to registry", detail: sha256Digest(blob) }] })
    expect(artifactory.requests.at(-1)).toMatchObject({ method: "PUT", status: 404, answeredBy: "quirk", bodyBytes: 3000, contentLength: 3000 })
    await artifactory.upstream.settle()
    expect(artifactory.upstream.requests().filter((r) => r.method === "PUT")).toEqual([])
    expect((await readBlob(artifactory.upstream.url, "team/app", sha256Digest(blob))).status).toBe(404)
  })

  test("the same refusal for a streamed PUT body without Content-Length", async () => {
    const blob = blobOf(3000, "monolithic-streamed")
    const started = await startUpload(artifactory.url, "team/app")
    const closed = await closeUpload(started.location!, sha256Digest(blob), streamOf(blob, 1000))
    expect(closed.response.status).toBe(404)
    expect(artifactory.requests.at(-1)).toMatchObject({ transferEncoding: "chunked", bodyBytes: 3000, answeredBy: "quirk" })
  })

  test("PATCH then an empty PUT: stored", async () => {
    const blob = blobOf(3000, "patched")
    const started = await startUpload(artifactory.url, "team/app")
    const patched = await patchChunk(started.location!, blob, { "content-range": "0-2999" })
    expect(patched.response.status).toBe(202)
    const closed = await closeUpload(locationOf(patched.response, started.location!), sha256Digest(blob))
    expect(closed.response.status).toBe(201)
    expect(await readBlob(artifactory.upstream.url, "team/app", sha256Digest(blob))).toEqual({ status: 200, digest: sha256Digest(blob) })
  })

  test("PATCH, then the last chunk on the closing PUT: stored", async () => {
    const blob = blobOf(3000, "patched-last-chunk")
    const started = await startUpload(artifactory.url, "team/app")
    const patched = await patchChunk(started.location!, blob.subarray(0, 2000), { "content-range": "0-1999" })
    const closed = await closeUpload(locationOf(patched.response, started.location!), sha256Digest(blob), blob.subarray(2000))
    expect(closed.response.status).toBe(201)
    expect(await readBlob(artifactory.upstream.url, "team/app", sha256Digest(blob))).toEqual({ status: 200, digest: sha256Digest(blob) })
  })

  test("8 sessions at once, every other one monolithic: each answered by its own session's history", async () => {
    const blobs = Array.from({ length: 8 }, (_, i) => blobOf(20_000 + i, `sessions-${i}`))
    const statuses = await Promise.all(blobs.map(async (blob, i) => {
      if (i % 2 === 1) return chunkedUpload(artifactory.url, "many/app", blob, 8192)
      const started = await startUpload(artifactory.url, "many/app")
      return [started.response.status, (await closeUpload(started.location!, sha256Digest(blob), blob)).response.status]
    }))
    statuses.forEach((s, i) => expect(s.at(-1)).toBe(i % 2 === 1 ? 201 : 404))
    for (const [i, blob] of blobs.entries()) {
      expect((await readBlob(artifactory.upstream.url, "many/app", sha256Digest(blob))).status).toBe(i % 2 === 1 ? 200 : 404)
    }
  })

  test("a push that PATCHes (skopeo) syncs through it; a monolithic push (the sample pusher) fails", async () => {
    artifactory.clearRequests()
    await skopeoCopy(`${artifactory.upstream.host}/src/app:1`, `${artifactory.host}/copy/app:1`, { all: true })
    expect(await skopeoDigest(`${artifactory.host}/copy/app:1`)).toBe(image.digest)
    // every blob came by PATCH; no closing PUT was refused
    expect(artifactory.requests.filter((r) => r.method === "PATCH" && r.status === 202)).toHaveLength(image.blobs.length)
    expect(artifactory.requests.filter((r) => r.answeredBy === "quirk")).toEqual([])
    await expect(pushImage(artifactory.url, "mono/app", "1", { platforms: TWO_PLATFORMS, seed: "artifactory", ...SMALL })).rejects.toThrow(
      /PUT blob .*unexpected status 404/
    )
    expect((await headManifest(artifactory.upstream.url, "mono/app", "1")).status).toBe(404)
  })
})
