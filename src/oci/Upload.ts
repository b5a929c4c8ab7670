/**
 * Blob uploads as every registry takes them. A session is opened with a POST (or was opened by
 * a mount the registry answered 202); the blob goes up whole in the closing `PUT ?digest=`
 * with its `Content-Length` — what distribution, ECR, Artifact Registry and GHCR take. A
 * registry that refuses that PUT (older Artifactory, proxies that want the body by PATCH) gets
 * the same blob again as PATCH chunks, at most 4 MiB each unless it asks for more
 * (`OCI-Chunk-Min-Length`), then an empty closing PUT; that registry gets chunks for the rest
 * of the run. A PATCH answered 201 or 202 goes on at the Location it gives.
 */
import { Data, Effect } from "effect"
import { DigestMismatch, RepositoryNotFound } from "../model/Errors.ts"
import type { RegistryError, TransportError } from "../model/Errors.ts"
import type { ImageLocation } from "../model/Location.ts"
import { unexpected, where } from "./ClientContext.ts"
import type { ClientContext } from "./ClientContext.ts"
import { discard } from "./http/BodyReader.ts"
import { Retryable } from "./http/RetryPolicy.ts"
import { allowedUrl } from "./http/UrlPolicy.ts"
import { hasCode, registryError } from "./RegistryError.ts"
import type { StaleCredentials } from "./RegistryHttp.ts"

/** Chunks are at most this large unless the registry asks for more: GHCR answers 416 above 4 MiB. */
export const MAX_CHUNK = 4 * 1024 * 1024

/** An upload session: where the next request goes, and the smallest chunk the registry takes. */
export interface Session {
  readonly location: URL
  readonly chunkMin: number
}

/** The registry refused the blob as one PUT (not its digest, not the repository): it wants chunks. */
class WholeRefused extends Data.TaggedError("WholeRefused")<{ readonly error: RegistryError }> {}

/** The body of an upload: bytes, or a stream of known length with the typed failure that ended it early, if any. */
export type UploadBody = Uint8Array | { readonly stream: ReadableStream<Uint8Array>; readonly failure: () => TransportError | undefined }

/** What an upload can fail with before the caller's retry decides. */
export type UploadError = TransportError | Retryable | StaleCredentials

const octet = { "content-type": "application/octet-stream" }
const EMPTY = new Uint8Array(0)

const openedKey = (image: ImageLocation, digest: string) => `${image.endpoint.host} ${image.repository} ${digest}`

/** A missing repository on a push is RepositoryNotFound; anything else stays what the registry said. */
const pushError = (image: ImageLocation, error: RegistryError): TransportError =>
  error.status === 404 && hasCode(error, "NAME_UNKNOWN")
    ? new RepositoryNotFound({ registry: image.endpoint.host, repository: image.repository })
    : error

/** The URL of the PUT that closes an upload session with the blob's digest. */
const closeUrl = (location: URL, digest: string) => {
  const url = new URL(location)
  url.searchParams.set("digest", digest)
  return url.toString()
}

/** The session a POST (`query`: a mount) opened: its status, where it goes on, and the chunk minimum. */
const openSession = (context: ClientContext, image: ImageLocation, query: string, scopes?: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const path = `/v2/${image.repository}/blobs/uploads/${query}`
    // An empty body with Content-Length 0: some front ends refuse a POST without a length (411).
    const res = yield* context.send(image, { method: "POST", path, body: EMPTY, ...(scopes ? { scopes } : {}) })
    const location = res.headers.get("location")
    if ((res.status === 201 || res.status === 202) && location) {
      discard(res)
      const base = `${image.endpoint.scheme}://${image.endpoint.host}/v2/${image.repository}/blobs/uploads/`
      const url = yield* allowedUrl(location, base, image.endpoint.host, "upload Location")
      const min = Number(res.headers.get("oci-chunk-min-length") ?? "0")
      return { status: res.status, session: { location: url, chunkMin: Number.isFinite(min) && min > 0 ? min : 0 } }
    }
    const error = yield* registryError(res, { registry: image.endpoint.host, method: "POST", path }, context.stallMs)
    return yield* Effect.fail(pushError(image, error))
  })

/** The upload machinery of one client. */
export const makeUploads = (context: ClientContext) => {
  const { send, stallMs } = context
  // Registries that refused a whole-blob PUT: they get chunks from then on.
  const chunkedHosts = new Set<string>()
  // Sessions a mount opened instead of mounting (202), by host, repository and digest: the upload that follows goes there.
  const opened = new Map<string, Session>()

  /** The session a POST (`query`: a mount) opened: its status, where it goes on, and the chunk minimum. */
  const start = (image: ImageLocation, query = "", scopes?: ReadonlyArray<string>) => openSession(context, image, query, scopes)

  /** The session for `digest` into `image`'s repository: one a mount left open, or a new one. */
  const session = (image: ImageLocation, digest: string): Effect.Effect<Session, TransportError> => {
    const key = openedKey(image, digest)
    const left = opened.get(key)
    if (left !== undefined) {
      opened.delete(key)
      return Effect.succeed(left)
    }
    return Effect.map(start(image), (s) => s.session)
  }

  /** Keeps the session a 202 mount opened, for the upload of that blob. */
  const keepOpened = (image: ImageLocation, digest: string, s: Session) => void opened.set(openedKey(image, digest), s)

  /** How the registry answered the PUT that closes an upload. */
  const closed = (image: ImageLocation, digest: string, res: Response, whole: boolean): Effect.Effect<void, TransportError | WholeRefused> =>
    Effect.gen(function*() {
      if (res.status === 201 || res.status === 204) {
        discard(res)
        return
      }
      const path = new URL(res.url || "http://registry.invalid/").pathname
      const error = yield* registryError(res, { registry: image.endpoint.host, method: "PUT", path }, stallMs)
      if (hasCode(error, "DIGEST_INVALID")) {
        return yield* new DigestMismatch({ what: `upload of ${digest} to ${where(image)}`, expected: digest, actual: "(registry computed another digest)" })
      }
      const failure = pushError(image, error)
      // A 4xx that is not about the blob or the repository: the registry wants it another way.
      if (whole && failure._tag === "RegistryError" && error.status >= 400 && error.status < 500 && error.status !== 429) {
        return yield* new WholeRefused({ error })
      }
      return yield* Effect.fail(failure)
    })

  /** The whole blob in the closing PUT, with its length. */
  const putWhole = (image: ImageLocation, s: Session, digest: string, body: UploadBody, size: number) =>
    Effect.gen(function*() {
      const path = closeUrl(s.location, digest)
      if (body instanceof Uint8Array) return yield* closed(image, digest, yield* send(image, { method: "PUT", path, headers: octet, body }), true)
      if (context.readOnly) return yield* Effect.die(new Error(`read-only mode: refused PUT (upload of ${digest})`))
      const res = yield* context.http.sendStreamed(image.endpoint, {
        method: "PUT",
        path,
        headers: octet,
        body: body.stream,
        length: size,
        scopes: [context.scope(image)]
      }).pipe(
        // The body's own failure explains it better than the transport error it caused.
        Effect.catchIf((e) => e._tag !== "StaleCredentials", (e) => Effect.fail(bodyFailure(e as TransportError, body)))
      )
      return yield* closed(image, digest, res, true)
    })

  /** The blob as PATCH chunks on the session, then an empty closing PUT. */
  const putChunks = (image: ImageLocation, s: Session, digest: string, body: UploadBody, size: number) =>
    Effect.gen(function*() {
      const chunk = Math.max(s.chunkMin, Math.min(MAX_CHUNK, Math.max(size, 1)))
      let location = s.location
      let offset = 0
      const next = chunks(body, chunk)
      for (let piece = yield* next(); piece !== undefined; piece = yield* next()) {
        const res = yield* send(image, {
          method: "PATCH",
          path: location.toString(),
          headers: { ...octet, "content-range": `${offset}-${offset + piece.length - 1}` },
          body: piece,
          once: true
        })
        if (res.status !== 202 && res.status !== 201 && res.status !== 204) return yield* unexpected(context, image, "PATCH", location.pathname, res)
        const moved = res.headers.get("location")
        discard(res)
        if (moved) location = yield* allowedUrl(moved, location, image.endpoint.host, "upload Location")
        offset += piece.length
      }
      const res = yield* send(image, { method: "PUT", path: closeUrl(location, digest), headers: octet, body: EMPTY })
      return yield* closed(image, digest, res, false).pipe(Effect.catchTag("WholeRefused", (e) => Effect.fail(pushError(image, e.error))))
    })

  /**
   * Uploads `digest` (`size` bytes) into `image`'s repository from `open()` (called again when
   * the registry wants the blob another way: a stream is read once per way).
   */
  const upload = (image: ImageLocation, digest: string, size: number, open: () => Effect.Effect<UploadBody, UploadError>) =>
    Effect.gen(function*() {
      const host = image.endpoint.host
      if (!chunkedHosts.has(host)) {
        const body = yield* open()
        const s = yield* session(image, digest).pipe(Effect.onError(() => cancel(body)))
        const whole = yield* putWhole(image, s, digest, body, size).pipe(
          Effect.as(true),
          Effect.catchTag("WholeRefused", () => Effect.sync(() => (chunkedHosts.add(host), false)))
        )
        if (whole) return
      }
      const body = yield* open()
      const s = yield* session(image, digest).pipe(Effect.onError(() => cancel(body)))
      yield* putChunks(image, s, digest, body, size)
    })

  return { start, upload, keepOpened }
}

/** Lets a stream body go (an upload that will not happen). */
const cancel = (body: UploadBody) => Effect.promise(() => (body instanceof Uint8Array ? Promise.resolve() : body.stream.cancel().catch(() => {})))

/** Why a streamed upload failed: the body's own failure when it has one (a source that broke), an unavailable registry worth another whole try. */
const bodyFailure = (e: TransportError, body: Exclude<UploadBody, Uint8Array>): TransportError | Retryable => {
  const cause = body.failure() ?? e
  if (cause._tag === "RegistryUnavailable") return new Retryable({ registry: cause.registry, detail: cause.detail, retryAfter: undefined })
  return cause
}

/** The body in pieces of `size` bytes (the last may be shorter; none for an empty blob after one empty piece), a stream read as it goes. */
const chunks = (body: UploadBody, size: number): () => Effect.Effect<Uint8Array | undefined, TransportError | Retryable> => {
  if (body instanceof Uint8Array) {
    let at = 0
    let first = true
    return () =>
      Effect.sync(() => {
        if (at >= body.length && !first) return undefined
        first = false
        const piece = body.subarray(at, Math.min(body.length, at + size))
        at += size
        return piece
      })
  }
  const reader = body.stream.getReader()
  let held: Uint8Array | undefined
  let done = false
  return () =>
    Effect.tryPromise({
      try: async () => {
        if (done && held === undefined) return undefined
        const parts: Array<Uint8Array> = []
        let length = 0
        while (length < size) {
          let value = held
          held = undefined
          if (value === undefined) {
            if (done) break
            const read = await reader.read()
            if (read.done) {
              done = true
              break
            }
            value = read.value
          }
          const take = Math.min(value.length, size - length)
          parts.push(value.subarray(0, take))
          if (take < value.length) held = value.subarray(take)
          length += take
        }
        if (length === 0) return undefined
        const piece = new Uint8Array(length)
        let offset = 0
        for (const p of parts) {
          piece.set(p, offset)
          offset += p.length
        }
        return piece
      },
      catch: (e) =>
        body.failure() ??
          new Retryable({ registry: "source", detail: `reading the blob: ${e instanceof Error ? e.message : String(e)}`, retryAfter: undefined })
    })
}
