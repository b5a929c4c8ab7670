/**
 * Reading response bodies we keep in memory (manifests, tokens, configs, error messages) with
 * a size limit and a stall timeout: a registry may announce or send more than any real body
 * holds, or send headers and then nothing. The limit is checked against `Content-Length`
 * before the first byte and again while reading; a read that waits longer than the stall
 * timeout gives up. Blobs are streamed elsewhere and never read whole.
 */
import { Effect } from "effect"
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

const empty = () => new ReadableStream<Uint8Array>({ start: (c) => c.close() })

/** A reader over the response body. */
const readerOf = (res: Response): BodyReader => (res.body ?? empty()).getReader()

/** The response's web body (for streaming blobs elsewhere). */
export const webBody = (res: Response): ReadableStream<Uint8Array> => res.body ?? empty()

/** Lets a response's body go unread (its connection is freed). */
export const discard = (res: Response): void => {
  void res.body?.cancel().catch(() => {})
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

const announcedLength = (res: Response): number | undefined => {
  const value = res.headers.get("content-length") ?? undefined
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
  res: Response,
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
  res: Response,
  stallMs: number,
  limit: number = ERROR_BODY_LIMIT
): Effect.Effect<string> =>
  Effect.promise(() =>
    collect(readerOf(res), limit, stallMs, true).then(
      (bytes) => new TextDecoder().decode(bytes),
      () => ""
    )
  )
