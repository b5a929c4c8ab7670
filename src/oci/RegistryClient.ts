/**
 * Registry operations on top of RegistryHttp: manifests by HEAD/GET/PUT with exact bytes,
 * blobs by HEAD/GET, verified streaming uploads, and cross-repository mounts. In read-only
 * mode (dry run) every write is refused here, at the lowest level, so nothing can slip out.
 */
import { Cause, Context, Effect, Exit, Layer, Option, Runtime, Stream } from "effect"
import type { HttpClientResponse } from "@effect/platform"
import { createHash } from "node:crypto"
import { RegistryHttp } from "./RegistryHttp.ts"
import * as Progress from "../pipeline/Progress.ts"
import type { RegistryHttpError, RegistryRequest } from "./RegistryHttp.ts"
import { Retryable, withRetry, defaultRetrySettings } from "./RetryPolicy.ts"
import type { RetrySettings } from "./RetryPolicy.ts"
import { isSchema1, MANIFEST_ACCEPT } from "../domain/MediaTypes.ts"
import { isSha256Digest, isValidTag, shorten } from "../domain/Reference.ts"
import { MANIFEST_LIMIT, readBody, readErrorText, readWithin, SMALL_BLOB_LIMIT, webBody } from "./BodyReader.ts"
import type { BodyReader } from "./BodyReader.ts"
import { allowedUrl } from "./UrlPolicy.ts"
import {
  DigestMismatch,
  describeLocation,
  ImageNotFound,
  RegistryUnavailable,
  ResponseTooLarge,
  TagTaken,
  TransportFailure
} from "../pipeline/Transport.ts"
import type { Endpoint, ImageLocation, ManifestDescriptor, RawManifest, TransportError } from "../pipeline/Transport.ts"

/** Settings of the registry client. */
export interface RegistryClientSettings {
  /** refuse every write (dry run) and ask target tokens for pull only */
  readonly readOnly: boolean
  readonly retry: RetrySettings
  /** a blob body that sends nothing for this long is abandoned and resumed (default 30 s) */
  readonly stallTimeoutMs?: number
}

/** The RegistryClient service: registry operations with exact bytes and verified digests. */
export class RegistryClient extends Context.Tag("syncer/RegistryClient")<RegistryClient, {
  readonly headManifest: (image: ImageLocation) => Effect.Effect<Option.Option<ManifestDescriptor>, TransportError>
  readonly getManifest: (image: ImageLocation) => Effect.Effect<RawManifest, TransportError>
  readonly putManifest: (image: ImageLocation, bytes: Uint8Array, mediaType: string) => Effect.Effect<string, TransportError>
  readonly hasBlob: (image: ImageLocation, digest: string) => Effect.Effect<boolean, TransportError>
  readonly getBlob: (image: ImageLocation, digest: string) => Effect.Effect<Uint8Array, TransportError>
  /** mounts `digest` from repository `from` of the same registry; false when the registry started an upload instead */
  readonly mountBlob: (image: ImageLocation, digest: string, from: string) => Effect.Effect<boolean, TransportError>
  /** streams a blob from `source` into `target`, verifying digest and size on the way; retried as a whole */
  readonly copyBlob: (
    source: ImageLocation,
    target: ImageLocation,
    digest: string,
    size: number
  ) => Effect.Effect<number, TransportError>
  /** the OCI 1.1 referrers index of `digest`; None when the registry has no referrers API (404) */
  readonly referrers: (image: ImageLocation, digest: string) => Effect.Effect<Option.Option<RawManifest>, TransportError>
  /** a blob as a stream (resumed with Range if the body breaks); verify it yourself or via an upload */
  readonly blobStream: (image: ImageLocation, digest: string, size: number) => Stream.Stream<Uint8Array, TransportError>
  /** uploads a stream (e.g. a file from a layout) as `digest`, verified on the way; not retried (a stream cannot be replayed) */
  readonly uploadBlobStream: (
    image: ImageLocation,
    digest: string,
    size: number,
    body: Stream.Stream<Uint8Array, unknown>
  ) => Effect.Effect<number, TransportError>
  /** uploads bytes already in memory (signatures, configs) */
  readonly uploadBlob: (image: ImageLocation, digest: string, bytes: Uint8Array) => Effect.Effect<void, TransportError>
}>() {
  /** The live client on RegistryHttp. */
  static layer(settings: RegistryClientSettings = { readOnly: false, retry: defaultRetrySettings }) {
    return Layer.effect(RegistryClient, make(settings))
  }
}

/** A registry's answer to a tag PUT that says the tag may not be overwritten. */
const refusesOverwrite = (body: string): boolean => /immutab|cannot be overwritten|already exists/i.test(body)

/** "sha256:<hex>" of some bytes. */
export const sha256Digest = (bytes: Uint8Array): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`

const isDigest = (reference: string) => reference.startsWith("sha256:")

const make = (settings: RegistryClientSettings) =>
  Effect.gen(function*() {
    const http = yield* RegistryHttp
    const stallTimeoutMs = settings.stallTimeoutMs ?? 30_000
    const retry = withRetry(settings.retry)

    // Target requests share one pull+push token per repository; sources (and dry runs) ask pull only.
    const scopeFor = (image: ImageLocation) =>
      `repository:${image.repository}:${image.endpoint.role === "target" && !settings.readOnly ? "pull,push" : "pull"}`

    const send = (image: ImageLocation, request: Omit<RegistryRequest, "scopes"> & { scopes?: ReadonlyArray<string> }) => {
      const write = request.method !== "GET" && request.method !== "HEAD"
      if (write && settings.readOnly) {
        return Effect.die(new Error(`read-only mode: refused ${request.method} ${request.path}`))
      }
      return http.send(image.endpoint, { ...request, scopes: request.scopes ?? [scopeFor(image)] })
    }

    const unexpected = (image: ImageLocation, what: string, res: HttpClientResponse.HttpClientResponse) =>
      readErrorText(res, stallTimeoutMs).pipe(
        Effect.flatMap((body) =>
          Effect.fail(
            new TransportFailure({
              transport: "oci",
              detail: `${what} ${describeLocation(image)}: HTTP ${res.status}${body ? ` ${body.trim().slice(0, 300)}` : ""}`
            })
          )
        )
      )

    const manifestPath = (image: ImageLocation, reference = image.reference) =>
      `/v2/${image.repository}/manifests/${reference}`

    /**
     * A tag or digest goes into a request path only when well-formed: digests come from
     * registries (manifest descriptors, headers), and "sha256:../../x" would leave the repository.
     */
    const checkReference = (image: ImageLocation, reference: string, what: string) =>
      isValidTag(reference) || isSha256Digest(reference)
        ? Effect.void
        : Effect.fail(
          new TransportFailure({
            transport: "oci",
            detail: `${image.endpoint.host}/${image.repository}: refusing ${what} ${JSON.stringify(shorten(reference, 100))}: not a tag or a sha256 digest`
          })
        )

    const contentType = (res: HttpClientResponse.HttpClientResponse) =>
      (res.headers["content-type"] ?? "").split(";")[0]!.trim()

    const refuseSchema1 = (image: ImageLocation, mediaType: string) =>
      isSchema1(mediaType)
        ? Effect.fail(
          new TransportFailure({
            transport: "oci",
            detail: `${describeLocation(image)} is a Docker schema 1 manifest, which is not supported`
          })
        )
        : Effect.void

    const getManifest = (image: ImageLocation): Effect.Effect<RawManifest, TransportError> =>
      Effect.gen(function*() {
        yield* checkReference(image, image.reference, "manifest reference")
        const res = yield* send(image, { method: "GET", path: manifestPath(image), headers: { accept: MANIFEST_ACCEPT } })
        if (res.status === 404) return yield* new ImageNotFound({ image: describeLocation(image) })
        if (res.status !== 200) return yield* unexpected(image, "GET manifest", res)
        const bytes = yield* readBody(res, {
          registry: image.endpoint.host,
          request: `GET ${manifestPath(image)}`,
          what: "manifest",
          limit: MANIFEST_LIMIT,
          stallMs: stallTimeoutMs
        })
        const digest = sha256Digest(bytes)
        if (isDigest(image.reference) && digest !== image.reference) {
          return yield* new DigestMismatch({ what: describeLocation(image), expected: image.reference, actual: digest })
        }
        let mediaType = contentType(res)
        try {
          const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: string }
          if (parsed.mediaType) mediaType = parsed.mediaType
        } catch {
          return yield* new TransportFailure({ transport: "oci", detail: `${describeLocation(image)}: manifest is not JSON` })
        }
        yield* refuseSchema1(image, mediaType)
        return { digest, mediaType, size: bytes.length, bytes }
      }).pipe(retry, Effect.catchTag("Retryable", (e) => Effect.fail(unavailable(e))))

    const headManifest = (image: ImageLocation): Effect.Effect<Option.Option<ManifestDescriptor>, TransportError> =>
      Effect.gen(function*() {
        yield* checkReference(image, image.reference, "manifest reference")
        const res = yield* send(image, { method: "HEAD", path: manifestPath(image), headers: { accept: MANIFEST_ACCEPT } })
        if (res.status === 404) return Option.none()
        if (res.status !== 200) return yield* unexpected(image, "HEAD manifest", res)
        const mediaType = contentType(res)
        yield* refuseSchema1(image, mediaType)
        const digest = res.headers["docker-content-digest"]
        const size = Number(res.headers["content-length"] ?? "0")
        if (digest !== undefined && isSha256Digest(digest)) {
          if (size > MANIFEST_LIMIT) {
            return yield* new ResponseTooLarge({ registry: image.endpoint.host, request: `HEAD ${manifestPath(image)}`, what: "manifest", limit: MANIFEST_LIMIT, announced: size })
          }
          return Option.some({ digest, mediaType, size })
        }
        // Without the header we must hash the body ourselves.
        const raw = yield* getManifest(image)
        return Option.some({ digest: raw.digest, mediaType: raw.mediaType, size: raw.size })
      })

    const putManifest = (image: ImageLocation, bytes: Uint8Array, mediaType: string) =>
      Effect.gen(function*() {
        yield* checkReference(image, image.reference, "manifest reference")
        const res = yield* send(image, {
          method: "PUT",
          path: manifestPath(image),
          headers: { "content-type": mediaType },
          body: bytes
        })
        if (res.status !== 201 && res.status !== 200) {
          if (!isDigest(image.reference) && res.status >= 400 && res.status < 500 && res.status !== 401 && res.status !== 404) {
            const body = yield* readErrorText(res, stallTimeoutMs)
            if (refusesOverwrite(body)) return yield* tagIsImmutable(image, bytes, body)
            return yield* new TransportFailure({
              transport: "oci",
              detail: `PUT manifest ${describeLocation(image)}: HTTP ${res.status}${body ? ` ${body.trim().slice(0, 300)}` : ""}`
            })
          }
          return yield* unexpected(image, "PUT manifest", res)
        }
        const expected = sha256Digest(bytes)
        const got = res.headers["docker-content-digest"]
        if (got && got !== expected) {
          return yield* new DigestMismatch({ what: `PUT ${describeLocation(image)}`, expected, actual: got })
        }
        return expected
      })

    /**
     * The registry refused a tag PUT because the tag is immutable (ECR IMMUTABLE, Artifact
     * Registry, Harbor rules): what does the tag hold? Ours → done; another → TagTaken.
     */
    const tagIsImmutable = (image: ImageLocation, bytes: Uint8Array, body: string) =>
      Effect.gen(function*() {
        const expected = sha256Digest(bytes)
        const now = yield* headManifest(image)
        if (Option.isSome(now) && now.value.digest === expected) return expected
        return yield* new TagTaken({
          target: describeLocation(image),
          expected,
          found: Option.isSome(now) ? now.value.digest : `(unreadable: ${body.trim().slice(0, 120)})`,
          when: "immutable"
        })
      })

    const blobPath = (image: ImageLocation, digest: string) => `/v2/${image.repository}/blobs/${digest}`

    const hasBlob = (image: ImageLocation, digest: string) =>
      Effect.gen(function*() {
        yield* checkReference(image, digest, "blob digest")
        const res = yield* send(image, { method: "HEAD", path: blobPath(image, digest) })
        if (res.status === 200) return true
        if (res.status === 404) return false
        return yield* unexpected(image, `HEAD blob ${digest}`, res)
      })

    const getBlob = (image: ImageLocation, digest: string) =>
      Effect.gen(function*() {
        yield* checkReference(image, digest, "blob digest")
        const res = yield* send(image, { method: "GET", path: blobPath(image, digest) })
        if (res.status === 404) return yield* new ImageNotFound({ image: `${describeLocation(image)} blob ${digest}` })
        if (res.status !== 200) return yield* unexpected(image, `GET blob ${digest}`, res)
        const bytes = yield* readBody(res, {
          registry: image.endpoint.host,
          request: `GET ${blobPath(image, digest)}`,
          what: "blob",
          limit: SMALL_BLOB_LIMIT,
          stallMs: stallTimeoutMs
        })
        const actual = sha256Digest(bytes)
        if (actual !== digest) return yield* new DigestMismatch({ what: `blob of ${describeLocation(image)}`, expected: digest, actual })
        return bytes
      }).pipe(retry, Effect.catchTag("Retryable", (e) => Effect.fail(unavailable(e))))

    /** Starts an upload session; returns its Location (absolute). */
    const startUpload = (image: ImageLocation, query: string, scopes?: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const res = yield* send(image, { method: "POST", path: `/v2/${image.repository}/blobs/uploads/${query}`, ...(scopes ? { scopes } : {}) })
        const location = res.headers["location"]
        if ((res.status === 201 || res.status === 202) && location) {
          const base = `${image.endpoint.scheme}://${image.endpoint.host}/v2/${image.repository}/blobs/uploads/`
          const url = yield* allowedUrl(location, base, image.endpoint.host, "upload Location")
          return { status: res.status, location: url }
        }
        return yield* unexpected(image, "POST upload", res)
      })

    const mountBlob = (image: ImageLocation, digest: string, from: string) =>
      Effect.gen(function*() {
        yield* checkReference(image, digest, "blob digest")
        const query = `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`
        const started = yield* startUpload(image, query, [scopeFor(image), `repository:${from}:pull`])
        if (started.status === 201) return true
        // 202: not mounted; the session that was opened is simply abandoned (registries expire it).
        return false
      })

    const finishUpload = (
      image: ImageLocation,
      location: URL,
      digest: string,
      body: RegistryRequest["body"]
    ) =>
      Effect.gen(function*() {
        const url = new URL(location)
        url.searchParams.set("digest", digest)
        const res = yield* send(image, {
          method: "PUT",
          path: url.toString(),
          headers: { "content-type": "application/octet-stream" },
          body
        })
        if (res.status === 201 || res.status === 204) return
        if (res.status === 400) {
          const text = yield* readErrorText(res, stallTimeoutMs)
          if (text.includes("DIGEST_INVALID")) {
            return yield* new DigestMismatch({ what: `upload of ${digest} to ${describeLocation(image)}`, expected: digest, actual: "(registry computed another digest)" })
          }
          return yield* new TransportFailure({ transport: "oci", detail: `PUT blob ${digest} to ${describeLocation(image)}: HTTP 400 ${text.slice(0, 300)}` })
        }
        return yield* unexpected(image, `PUT blob ${digest}`, res)
      })

    const uploadBlob = (image: ImageLocation, digest: string, bytes: Uint8Array) =>
      Effect.gen(function*() {
        const actual = sha256Digest(bytes)
        if (actual !== digest) return yield* new DigestMismatch({ what: "blob to upload", expected: digest, actual })
        const { location } = yield* startUpload(image, "")
        yield* finishUpload(image, location, digest, bytes)
      })

    /** Opens the source blob at `from` (Range); a registry without range support sends it all, and the caller skips. */
    const openBlob = (source: ImageLocation, digest: string, from: number) =>
      Effect.gen(function*() {
        const res = yield* send(source, {
          method: "GET",
          path: blobPath(source, digest),
          ...(from > 0 ? { headers: { range: `bytes=${from}-` } } : {})
        })
        if (res.status === 404) return yield* new ImageNotFound({ image: `${describeLocation(source)} blob ${digest}` })
        if (res.status === 206 && from > 0) return { body: webBody(res), skip: 0 }
        if (res.status !== 200) return yield* unexpected(source, `GET blob ${digest}`, res)
        return { body: webBody(res), skip: from }
      })

    /**
     * The source blob as a web stream, hashed and counted on the way: a body that breaks or
     * stalls mid-way is resumed with `Range` (bounded), and the end is checked against the
     * digest and size. Plain web streams, not Effect streams: a 1 GiB layer is ~16k chunks.
     * The failure that ended the stream is also handed to `onFailure`, typed.
     */
    const verifiedSource = (
      runtime: Runtime.Runtime<never>,
      source: ImageLocation,
      digest: string,
      size: number,
      onFailure: (e: TransportError | Retryable) => void,
      // shared by the whole retries of one copy, so a source that always breaks gives up in bounded time
      resumes: { count: number } = { count: 0 }
    ): ReadableStream<Uint8Array> => {
      const hash = createHash("sha256")
      const run = Runtime.runPromiseExit(runtime)
      let offset = 0
      let current: { reader: BodyReader; skip: number } | undefined
      const broken = (detail: string) => new Retryable({ registry: source.endpoint.host, detail, retryAfter: undefined })
      /** One read that gives up after the stall timeout. */
      const read = (reader: BodyReader) => readWithin(reader, stallTimeoutMs, () => broken(`blob ${digest} stalled for ${stallTimeoutMs} ms`))
      const fail = (controller: ReadableStreamDefaultController<Uint8Array>, e: TransportError | Retryable) => {
        onFailure(e)
        controller.error(e)
      }
      return new ReadableStream<Uint8Array>({
        pull: async (controller) => {
          for (;;) {
            try {
              if (!current) {
                const exit = await run(openBlob(source, digest, offset))
                if (Exit.isFailure(exit)) {
                  const failure = Cause.failureOption(exit.cause)
                  return fail(controller, Option.isSome(failure) ? failure.value : new TransportFailure({ transport: "oci", detail: `GET blob ${digest}: ${Cause.pretty(exit.cause).split("\n")[0]}` }))
                }
                current = { reader: exit.value.body.getReader(), skip: exit.value.skip }
              }
              const open: { reader: BodyReader; skip: number } = current
              const { done, value } = await read(open.reader)
              if (done) {
                const actual = `sha256:${hash.digest("hex")}`
                if (actual !== digest || offset !== size) {
                  return fail(controller, new DigestMismatch({ what: `blob ${describeLocation(source)}${offset !== size ? ` (${offset} of ${size} bytes)` : ""}`, expected: digest, actual }))
                }
                return controller.close()
              }
              let chunk = value
              if (open.skip > 0) {
                const cut = Math.min(open.skip, chunk.length)
                open.skip -= cut
                chunk = chunk.subarray(cut)
                if (chunk.length === 0) continue
              }
              if (offset + chunk.length > size) {
                return fail(controller, new DigestMismatch({ what: `blob ${describeLocation(source)} (more than ${size} bytes)`, expected: digest, actual: "(longer content)" }))
              }
              hash.update(chunk)
              offset += chunk.length
              return controller.enqueue(chunk)
            } catch (e) {
              void current?.reader.cancel().catch(() => {})
              current = undefined
              const retryable = e instanceof Retryable ? e : broken(`reading blob ${digest}: ${describeError(e)}`)
              if (offset > 0 && offset < size && resumes.count < settings.retry.attempts) {
                resumes.count++
                continue
              }
              return fail(controller, retryable)
            }
          }
        },
        cancel: (reason) => {
          void current?.reader.cancel(reason).catch(() => {})
          current = undefined
        }
      }, { highWaterMark: 0 })
    }

    /** Copies one blob: the source streamed into one upload, verified on the way; not retried here. */
    const streamBlob = (source: ImageLocation, target: ImageLocation, digest: string, size: number, resumes: { count: number }) =>
      Effect.gen(function*() {
        const runtime = yield* Effect.runtime<never>()
        const progress = yield* Progress.reporterNow
        const { location } = yield* startUpload(target, "")
        let bodyError: TransportError | Retryable | undefined
        progress({ _tag: "BlobStarted", digest, size })
        const counted = verifiedSource(runtime, source, digest, size, (e) => void (bodyError = e), resumes).pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform: (chunk, controller) => {
              progress({ _tag: "BytesCopied", bytes: chunk.length })
              controller.enqueue(chunk)
            }
          })
        )
        yield* finishUpload(target, location, digest, counted).pipe(
          Effect.catchAll((e) => Effect.fail(uploadFailure(e, bodyError)))
        )
        return size
      })

    /** Uploads a stream as `digest`, verifying digest and size on the way; returns the byte count. */
    const uploadVerified = (target: ImageLocation, digest: string, size: number, body: Stream.Stream<Uint8Array, TransportError | Retryable>) =>
      Effect.gen(function*() {
        const { location } = yield* startUpload(target, "")
        const hash = createHash("sha256")
        let seen = 0
        let bodyError: TransportError | Retryable | undefined
        const progress = yield* Progress.reporterNow
        progress({ _tag: "BlobStarted", digest, size })
        const verified = body.pipe(
          Stream.tap((chunk) =>
            Effect.sync(() => {
              hash.update(chunk)
              seen += chunk.length
              progress({ _tag: "BytesCopied", bytes: chunk.length })
            })
          ),
          Stream.concat(
            Stream.suspend(() => {
              const actual = `sha256:${hash.digest("hex")}`
              if (actual === digest && seen === size) return Stream.empty
              return Stream.fail(
                new DigestMismatch({
                  what: `blob for ${describeLocation(target)}${seen !== size ? ` (${seen} of ${size} bytes)` : ""}`,
                  expected: digest,
                  actual
                })
              )
            })
          ),
          Stream.tapError((e) => Effect.sync(() => void (bodyError = e)))
        )
        return yield* finishUpload(target, location, digest, verified).pipe(
          Effect.catchAll((e) => Effect.fail(uploadFailure(e, bodyError))),
          // read when the stream has run, not when the pipe is built
          Effect.map(() => seen)
        )
      })

    const copyBlob = (source: ImageLocation, target: ImageLocation, digest: string, size: number) =>
      Effect.suspend(() => {
        const resumes = { count: 0 }
        return streamBlob(source, target, digest, size, resumes).pipe(
          retry,
          Effect.catchTag("Retryable", (e) => Effect.fail(unavailable(e)))
        )
      })

    const uploadBlobStream = (target: ImageLocation, digest: string, size: number, body: Stream.Stream<Uint8Array, unknown>) =>
      uploadVerified(
        target,
        digest,
        size,
        body.pipe(Stream.mapError((e) => new TransportFailure({ transport: "oci", detail: `reading blob ${digest}: ${describeError(e)}` })))
      ).pipe(Effect.catchTag("Retryable", (e) => Effect.fail(unavailable(e))))

    // Registries that answered 404 to a referrers request: they have no referrers API, so it is not asked again.
    const withoutReferrers = new Set<string>()
    const referrers = (image: ImageLocation, digest: string) =>
      Effect.gen(function*() {
        yield* checkReference(image, digest, "referrers digest")
        const registry = `${image.endpoint.role} ${image.endpoint.host}`
        if (withoutReferrers.has(registry)) return Option.none<RawManifest>()
        const res = yield* send(image, {
          method: "GET",
          path: `/v2/${image.repository}/referrers/${digest}`,
          headers: { accept: "application/vnd.oci.image.index.v1+json" }
        })
        // A registry that supports referrers never answers 404 here (distribution-spec v1.1).
        if (res.status === 404) withoutReferrers.add(registry)
        if (res.status !== 200) {
          yield* readErrorText(res, stallTimeoutMs)
          return Option.none<RawManifest>()
        }
        const bytes = yield* readBody(res, {
          registry: image.endpoint.host,
          request: `GET /v2/${image.repository}/referrers/${digest}`,
          what: "referrers index",
          limit: MANIFEST_LIMIT,
          stallMs: stallTimeoutMs
        }).pipe(Effect.catchTag("Retryable", (e) => Effect.fail(unavailable(e))))
        return Option.some({ digest: sha256Digest(bytes), mediaType: "application/vnd.oci.image.index.v1+json", size: bytes.length, bytes })
      })

    const blobStream = (image: ImageLocation, digest: string, size: number): Stream.Stream<Uint8Array, TransportError> =>
      Stream.unwrap(Effect.map(Effect.runtime<never>(), (runtime) => {
        let failure: TransportError | Retryable | undefined
        return Stream.fromReadableStream(
          () => verifiedSource(runtime, image, digest, size, (e) => void (failure = e)),
          (e): TransportError => {
            const f = failure ?? new TransportFailure({ transport: "oci", detail: `reading blob ${digest}: ${describeError(e)}` })
            return f._tag === "Retryable" ? unavailable(f) : f
          }
        )
      }))

    return { headManifest, getManifest, putManifest, hasBlob, getBlob, mountBlob, copyBlob, uploadBlob, uploadBlobStream, referrers, blobStream }
  })


const describeError = (e: unknown): string => {
  if (e && typeof e === "object" && "cause" in e && (e as { cause?: unknown }).cause) return describeError((e as { cause: unknown }).cause)
  if (e instanceof Error) return (e as { code?: string }).code ? `${(e as { code?: string }).code}: ${e.message}` : e.message
  return String(e)
}

/**
 * Why a streamed upload failed: the body's own failure explains it better than the transport
 * error it caused; an unavailable target is worth another whole try.
 */
const uploadFailure = (e: TransportError, bodyError: TransportError | Retryable | undefined): TransportError | Retryable => {
  if (bodyError) return bodyError
  if (e._tag === "RegistryUnavailable") return new Retryable({ registry: e.registry, detail: e.detail, retryAfter: undefined })
  return e
}

const unavailable = (e: Retryable) => new RegistryUnavailable({ registry: e.registry, detail: e.detail })

/** For type positions that want the union. */
export type RegistryClientError = TransportError | RegistryHttpError

/** A location for another reference in the same repository. */
export const withReference = (image: ImageLocation, reference: string): ImageLocation => ({ ...image, reference })

/** The endpoint of an image location. */
export const endpointOf = (image: ImageLocation): Endpoint => image.endpoint
