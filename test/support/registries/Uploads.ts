/**
 * Blob uploads spelled out with plain fetch (POST, PATCH, PUT), for tests that show what a
 * registry or a stand-in answers to each step. Nothing here is shared with the client under test.
 */
import { createHash } from "node:crypto"
import { sha256Digest } from "../../../demo/SampleImages.ts"

/** `size` deterministic, incompressible bytes from `seed`. */
export const blobOf = (size: number, seed: string): Uint8Array => {
  const out = new Uint8Array(size)
  let block = createHash("sha256").update(seed).digest()
  for (let offset = 0; offset < size; offset += block.length) {
    out.set(block.subarray(0, Math.min(block.length, size - offset)), offset)
    block = createHash("sha256").update(block).digest()
  }
  return out
}

/** A body stream of `bytes` in pieces of `piece` bytes: fetch sends it chunked, without Content-Length. */
export const streamOf = (bytes: Uint8Array, piece = 64 * 1024): ReadableStream<Uint8Array> => {
  let offset = 0
  return new ReadableStream<Uint8Array>({
    pull: (controller) => {
      if (offset >= bytes.length) {
        controller.close()
        return
      }
      controller.enqueue(bytes.slice(offset, offset + piece))
      offset += piece
    }
  })
}

/** A fetch that never goes through a proxy, with a streamed body allowed. */
export const send = (
  url: string | URL,
  init: { readonly method: string; readonly headers?: Record<string, string>; readonly body?: Uint8Array | ReadableStream<Uint8Array> }
): Promise<Response> =>
  fetch(url, { method: init.method, headers: init.headers ?? {}, body: init.body ?? null, duplex: "half", redirect: "manual", proxy: false })

/** The upload URL a POST/PATCH answer points at, resolved against the request. */
export const locationOf = (response: Response, requestUrl: string | URL): URL => {
  const location = response.headers.get("location")
  if (location === null) throw new Error(`${response.status} answer without Location`)
  return new URL(location, requestUrl)
}

/** `POST /v2/<repository>/blobs/uploads/` (with an optional query, e.g. mount=…&from=…); the answer, its body read. */
export const startUpload = async (
  registryUrl: string,
  repository: string,
  query = ""
): Promise<{ readonly response: Response; readonly body: string; readonly location: URL | undefined }> => {
  const url = `${registryUrl}/v2/${repository}/blobs/uploads/${query === "" ? "" : `?${query}`}`
  const response = await send(url, { method: "POST" })
  const body = await response.text()
  return { response, body, location: response.headers.has("location") ? locationOf(response, url) : undefined }
}

/** PATCH one chunk to an upload session; the answer, its body read. */
export const patchChunk = async (
  location: URL,
  body: Uint8Array | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {}
): Promise<{ readonly response: Response; readonly body: string }> => {
  const response = await send(location, { method: "PATCH", headers: { "content-type": "application/octet-stream", ...headers }, body })
  return { response, body: await response.text() }
}

/** PUT `?digest=` closing an upload session, with the blob (or its last chunk) or without a body; the answer, its body read. */
export const closeUpload = async (
  location: URL,
  digest: string,
  body?: Uint8Array | ReadableStream<Uint8Array>
): Promise<{ readonly response: Response; readonly body: string }> => {
  const url = new URL(location)
  url.searchParams.set("digest", digest)
  const response = await send(url, {
    method: "PUT",
    headers: body === undefined ? { "content-length": "0" } : { "content-type": "application/octet-stream" },
    ...(body === undefined ? {} : { body })
  })
  return { response, body: await response.text() }
}

/** Uploads `bytes` as PATCH chunks of at most `chunk` bytes (Content-Length and `<start>-<end>` Content-Range on each), then an empty PUT; the statuses in order. */
export const chunkedUpload = async (registryUrl: string, repository: string, bytes: Uint8Array, chunk: number): Promise<Array<number>> => {
  const start = await startUpload(registryUrl, repository)
  if (start.location === undefined) throw new Error(`POST upload: ${start.response.status} ${start.body}`)
  const statuses = [start.response.status]
  let location = start.location
  for (let offset = 0; offset < bytes.length; offset += chunk) {
    const piece = bytes.subarray(offset, Math.min(bytes.length, offset + chunk))
    const patched = await patchChunk(location, piece, { "content-range": `${offset}-${offset + piece.length - 1}` })
    statuses.push(patched.response.status)
    if (patched.response.status !== 202) return statuses
    location = locationOf(patched.response, location)
  }
  statuses.push((await closeUpload(location, sha256Digest(bytes))).response.status)
  return statuses
}

/** GET a blob; its status and, when served, the digest of what was served. */
export const readBlob = async (
  registryUrl: string,
  repository: string,
  digest: string
): Promise<{ readonly status: number; readonly digest: string | undefined }> => {
  const response = await send(`${registryUrl}/v2/${repository}/blobs/${digest}`, { method: "GET" })
  const bytes = new Uint8Array(await response.arrayBuffer())
  return { status: response.status, digest: response.status === 200 ? sha256Digest(bytes) : undefined }
}
