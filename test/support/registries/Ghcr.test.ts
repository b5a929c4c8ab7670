/**
 * The GHCR stand-in in front of a real docker-registry: the referrers API answers 404, a PATCH
 * over 4 MiB is answered 416 with GHCR's body (whether its size is announced or only streamed)
 * and never reaches the registry behind, a blob over 4 MiB in chunks of at most 4 MiB is stored,
 * and skopeo pushes and reads ordinary images through it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { pushImage, sha256Digest } from "../../../demo/SampleImages.ts"
import type { PushedImage } from "../../../demo/SampleImages.ts"
import { SMALL, TWO_PLATFORMS } from "../../integration/helpers.ts"
import { skopeoCopy, skopeoDigest } from "../Skopeo.ts"
import { GHCR_MAX_CHUNK_BYTES, startGhcr } from "./Ghcr.ts"
import type { StandIn } from "./StandIn.ts"
import { blobOf, chunkedUpload, patchChunk, readBlob, send, startUpload, streamOf } from "./Uploads.ts"

const MiB = 1024 * 1024
const TOO_LARGE = {
  errors: [{ code: "REQUESTED_RANGE_NOT_SATISFIABLE", message: "the request body is too large and exceeds the maximum permissible limit of 4.00MiB" }]
}

let ghcr: StandIn
let image: PushedImage

beforeAll(async () => {
  ghcr = await startGhcr()
  image = await pushImage(ghcr.upstream.url, "src/app", "1", { platforms: TWO_PLATFORMS, seed: "ghcr", ...SMALL })
}, 60_000)

afterAll(async () => {
  await ghcr?.stop()
}, 30_000)

describe("no referrers API", () => {
  test("GET /v2/<name>/referrers/<digest> is answered 404 by the stand-in", async () => {
    const response = await send(`${ghcr.url}/v2/src/app/referrers/${image.digest}`, { method: "GET" })
    expect(response.status).toBe(404)
    await response.arrayBuffer()
    expect(ghcr.requests.at(-1)).toMatchObject({ route: { kind: "referrers", repository: "src/app", digest: image.digest }, status: 404, answeredBy: "quirk" })
  })
})

describe("PATCH chunks of at most 4 MiB", () => {
  test("a 4 MiB + 1 byte PATCH with Content-Length: 416 REQUESTED_RANGE_NOT_SATISFIABLE, and the registry behind sees no PATCH", async () => {
    const started = await startUpload(ghcr.url, "big/app")
    await ghcr.upstream.resetRequests()
    const patched = await patchChunk(started.location!, blobOf(GHCR_MAX_CHUNK_BYTES + 1, "over"), { "content-range": `0-${GHCR_MAX_CHUNK_BYTES}` })
    expect(patched.response.status).toBe(416)
    expect(JSON.parse(patched.body)).toEqual(TOO_LARGE)
    expect(ghcr.requests.at(-1)).toMatchObject({
      method: "PATCH",
      contentLength: GHCR_MAX_CHUNK_BYTES + 1,
      bodyBytes: GHCR_MAX_CHUNK_BYTES + 1,
      answeredBy: "quirk"
    })
    await ghcr.upstream.settle()
    expect(ghcr.upstream.requests().filter((r) => r.method === "PATCH")).toEqual([])
  })

  test("a 5 MiB PATCH streamed without Content-Length: the same 416", async () => {
    const started = await startUpload(ghcr.url, "big/app")
    const patched = await patchChunk(started.location!, streamOf(blobOf(5 * MiB, "streamed")))
    expect(patched.response.status).toBe(416)
    expect(JSON.parse(patched.body)).toEqual(TOO_LARGE)
    expect(ghcr.requests.at(-1)).toMatchObject({ transferEncoding: "chunked", contentLength: undefined, bodyBytes: 5 * MiB, answeredBy: "quirk" })
  })

  test("a 9 MiB blob as chunks of exactly 4 MiB (4 + 4 + 1): every PATCH 202, stored byte for byte", async () => {
    const blob = blobOf(9 * MiB, "chunked")
    ghcr.clearRequests()
    expect(await chunkedUpload(ghcr.url, "big/app", blob, GHCR_MAX_CHUNK_BYTES)).toEqual([202, 202, 202, 202, 201])
    expect(ghcr.requests.filter((r) => r.method === "PATCH").map((r) => r.bodyBytes)).toEqual([4 * MiB, 4 * MiB, MiB])
    expect(await readBlob(ghcr.upstream.url, "big/app", sha256Digest(blob))).toEqual({ status: 200, digest: sha256Digest(blob) })
  })

  test("a blob of exactly 4 MiB streamed in one PATCH goes through", async () => {
    const started = await startUpload(ghcr.url, "big/app")
    const patched = await patchChunk(started.location!, streamOf(blobOf(GHCR_MAX_CHUNK_BYTES, "exact")))
    expect(patched.response.status).toBe(202)
    expect(ghcr.requests.at(-1)).toMatchObject({ bodyBytes: GHCR_MAX_CHUNK_BYTES, answeredBy: "upstream" })
  })

  test("skopeo pushes an image of small blobs through it and reads it back", async () => {
    await skopeoCopy(`${ghcr.upstream.host}/src/app:1`, `${ghcr.host}/copy/app:1`, { all: true })
    expect(await skopeoDigest(`${ghcr.host}/copy/app:1`)).toBe(image.digest)
  })
})
