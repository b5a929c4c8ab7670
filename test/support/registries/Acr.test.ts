/**
 * The ACR stand-in in front of a real docker-registry: a PATCH with `Content-Range: bytes 0-N/*`
 * is answered 416 with ACR's detail and never reaches the registry behind; the same chunk with
 * `0-N`, and PATCHes without Content-Range (skopeo), go through.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { pushImage, sha256Digest } from "../../../demo/SampleImages.ts"
import { SMALL, TWO_PLATFORMS } from "../../integration/helpers.ts"
import { skopeoCopy, skopeoDigest } from "../Skopeo.ts"
import { startAcr } from "./Acr.ts"
import type { StandIn } from "./StandIn.ts"
import { blobOf, closeUpload, locationOf, patchChunk, readBlob, startUpload } from "./Uploads.ts"

let acr: StandIn

beforeAll(async () => {
  acr = await startAcr()
}, 60_000)

afterAll(async () => {
  await acr?.stop()
}, 30_000)

describe("Content-Range in the distribution-spec form only", () => {
  test("`bytes 0-N/*`: 416 RANGE_INVALID with ACR's detail; the registry behind sees no PATCH", async () => {
    const blob = blobOf(84522, "acr")
    const started = await startUpload(acr.url, "team/app")
    await acr.upstream.resetRequests()
    const patched = await patchChunk(started.location!, blob, { "content-range": "bytes 0-84521/*" })
    expect(patched.response.status).toBe(416)
    expect(JSON.parse(patched.body)).toEqual({
      errors: [{
        code: "RANGE_INVALID",
        message: "invalid content range",
        detail: { Range: "bytes 0-84521/*", Reason: "the Content-Range header format is invalid" }
      }]
    })
    expect(acr.requests.at(-1)).toMatchObject({ contentRange: "bytes 0-84521/*", bodyBytes: blob.length, status: 416, answeredBy: "quirk" })
    await acr.upstream.settle()
    expect(acr.upstream.requests().filter((r) => r.method === "PATCH")).toEqual([])
  })

  test("the same chunk with `0-N`: 202, and the blob is stored", async () => {
    const blob = blobOf(84522, "acr")
    const started = await startUpload(acr.url, "team/app")
    const patched = await patchChunk(started.location!, blob, { "content-range": "0-84521" })
    expect(patched.response.status).toBe(202)
    const closed = await closeUpload(locationOf(patched.response, started.location!), sha256Digest(blob))
    expect(closed.response.status).toBe(201)
    expect(await readBlob(acr.upstream.url, "team/app", sha256Digest(blob))).toEqual({ status: 200, digest: sha256Digest(blob) })
  })

  test("skopeo (PATCH without Content-Range) pushes through it", async () => {
    const image = await pushImage(acr.upstream.url, "src/app", "1", { platforms: TWO_PLATFORMS, seed: "acr", ...SMALL })
    acr.clearRequests()
    await skopeoCopy(`${acr.upstream.host}/src/app:1`, `${acr.host}/copy/app:1`, { all: true })
    expect(await skopeoDigest(`${acr.host}/copy/app:1`)).toBe(image.digest)
    const patches = acr.requests.filter((r) => r.method === "PATCH")
    expect(patches.length).toBeGreaterThan(0)
    expect(patches.every((r) => r.contentRange === undefined && r.status === 202)).toBe(true)
  })
})
