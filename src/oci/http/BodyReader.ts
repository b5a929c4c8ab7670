/**
 * Reading response bodies we keep in memory (manifests, tokens, configs, error messages) with
 * a size limit and a stall timeout: a registry may announce or send more than any real body
 * holds, or send headers and then nothing. The limit is checked against `Content-Length`
 * before the first byte and again while reading; a read that waits longer than the stall
 * timeout gives up. Blobs are streamed elsewhere and never read whole.
 */
import type { HttpClientResponse } from "@effect/platform"
import { Effect, Stream } from "effect"
import { Retryable } from "./RetryPolicy.ts"
import { ResponseTooLarge } from "../../model/Errors.ts"

/** Manifests and indexes: distribution's own limit for a manifest PUT. */
export const MANIFEST_LIMIT = 4 * 1024 * 1024
/** Token responses: a JWT is a few KiB. */
export const TOKEN_LIMIT = 1024 * 1024
/** Blobs read into memory (image configs, signature payloads). */
export const SMALL_BLOB_LIMIT = 16 * 1024 * 1024
/** Error bodies: enough for the registry's message. */
export const ERROR_BODY_LIMIT = 4 * 1024

/** What a read needs to know to say what went wrong. */
export interface BodyRead {
  readonly registry: string
  /** "GET /v2/app/manifests/1" */
  readonly request: string
  readonly what: string
  readonly limit: number
  /** a read silent for this long gives up */
  readonly stallMs: number
}

/** What we use of a body's reader. */
export interface BodyReader {
  read(): Promise<{ done: true; value?: Uint8Array | undefined } | { done: false; value: Uint8Array }>
  cancel(reason?: unknown): Promise<void>
}

/** A reader over the response body, the fetch body itself when there is one. */
const readerOf = (res: HttpClientResponse.HttpClientResponse): BodyReader => {
  const raw = (res as unknown as { readonly source?: unknown }).source
  const body = raw instanceof Response ? raw.body : Stream.toReadableStream(res.stream)
  return (body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() })).getReader()
}

/** The response's web body (for streaming blobs elsewhere). */
export const webBody = (res: HttpClientResponse.HttpClientResponse): ReadableStream<Uint8Array> => {
  const raw = (res as unknown as { readonly source?: unknown }).source
  if (raw instanceof Response && raw.body) return raw.body
  return Stream.toReadableStream(res.stream)
}

/** One read of `reader` that rejects after `stallMs` without data. */
export const readWithin = (reader: BodyReader, stallMs: number, onStall: () => Error) => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onStall()), stallMs)
  })
  return Promise.race([reader.read(), stalled]).finally(() => clearTimeout(timer))
}

class Stalled extends Error {}
class TooLarge extends Error {}

const announcedLength = (res: HttpClientResponse.HttpClientResponse): number | undefined => {
  const value = res.headers["content-length"]
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined
  return Number(value.trim())
}

/** Reads up to `limit` bytes; stops (and says so) once more arrive. */
const collect = async (
  reader: BodyReader,
  limit: number,
  stallMs: number,
  truncate: boolean
): Promise<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  let length = 0
  try {
    for (;;) {
      const { done, value } = await readWithin(reader, stallMs, () => new Stalled())
      if (done) break
      if (length + value.length > limit) {
        if (!truncate) throw new TooLarge()
        chunks.push(value.subarray(0, limit - length))
        length = limit
        break
      }
      chunks.push(value)
      length += value.length
    }
  } finally {
    // The rest of an oversized or stalled body is not wanted; let the connection go.
    void reader.cancel().catch(() => {})
  }
  const out = new Uint8Array(length)
  let offset = 0
  for (const c of chunks) {
    out.set(c, offset)
    offset += c.length
  }
  return out
}

/**
 * The whole body, at most `read.limit` bytes. Too large: ResponseTooLarge (before reading,
 * when `Content-Length` says so). Stalled or broken: Retryable, so the request is tried again.
 */
export const readBody = (
  res: HttpClientResponse.HttpClientResponse,
  read: BodyRead
): Effect.Effect<Uint8Array, ResponseTooLarge | Retryable> =>
  Effect.suspend(() => {
    const announced = announcedLength(res)
    const tooLarge = new ResponseTooLarge({ registry: read.registry, request: read.request, what: read.what, limit: read.limit, announced })
    const reader = readerOf(res)
    if (announced !== undefined && announced > read.limit) {
      void reader.cancel().catch(() => {})
      return Effect.fail(tooLarge)
    }
    return Effect.tryPromise({
      try: () => collect(reader, read.limit, read.stallMs, false),
      catch: (e) =>
        e instanceof TooLarge
          ? tooLarge
          : new Retryable({
            registry: read.registry,
            detail: e instanceof Stalled
              ? `${read.request}: the ${read.what} stalled for ${read.stallMs} ms`
              : `${read.request}: reading the ${read.what}: ${e instanceof Error ? e.message : String(e)}`,
            retryAfter: undefined
          })
    })
  })

/** The first `limit` bytes of an error body as text, for messages; never fails (a stalled or broken body gives what arrived, or ""). */
export const readErrorText = (
  res: HttpClientResponse.HttpClientResponse,
  stallMs: number,
  limit: number = ERROR_BODY_LIMIT
): Effect.Effect<string> =>
  Effect.promise(() =>
    collect(readerOf(res), limit, stallMs, true).then(
      (bytes) => new TextDecoder().decode(bytes),
      () => ""
    )
  )

/** The registry's own words from an error body (its `errors` codes and messages, or the text); never fails. */
export const errorDetail = (res: HttpClientResponse.HttpClientResponse, stallMs: number): Effect.Effect<string> =>
  Effect.map(readErrorText(res, stallMs), (t) => {
    try {
      const j = JSON.parse(t) as { errors?: Array<{ code?: string; message?: string }>; message?: string }
      if (j.errors?.length) return j.errors.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ")
      if (j.message) return j.message
    } catch {
      // plain-text bodies are common (route 404s, proxies)
    }
    return t.trim().slice(0, 200)
  })
