/**
 * A blob body as a verified web stream: hashed and counted on the way, its end checked against
 * digest and size, a body that breaks or stalls mid-way resumed from the byte it stopped at
 * (bounded by a budget shared by every try of one copy). Plain web streams, not Effect
 * streams: a 1 GiB layer is ~16k chunks, and this path is the copy's hot loop.
 */
import { Cause, Effect, Exit, Option, Runtime } from "effect"
import { createHash } from "node:crypto"
import { DigestMismatch, RegistryUnavailable, TransportFailure } from "../model/Errors.ts"
import type { TransportError } from "../model/Errors.ts"
import type { BlobBody, ResumeBudget } from "../model/ImageStore.ts"
import { readWithin } from "./http/BodyReader.ts"
import type { BodyReader } from "./http/BodyReader.ts"
import { Retryable } from "./http/RetryPolicy.ts"

/** A body opened at byte `from`; `skip` bytes of its start are dropped (a registry without Range support sends everything). */
export interface OpenedAt {
  readonly body: ReadableStream<Uint8Array>
  readonly skip: number
}

/** What the stream is of, for checks and messages. */
export interface BlobIdentity {
  readonly registry: string
  /** "host/repository@…" for messages */
  readonly where: string
  readonly digest: string
  readonly size: number
}

/** A short, secret-free description of a thrown network error. */
export const describeError = (e: unknown): string => {
  if (e && typeof e === "object" && "cause" in e && (e as { cause?: unknown }).cause) return describeError((e as { cause: unknown }).cause)
  if (e instanceof Error) return (e as { code?: string }).code ? `${(e as { code?: string }).code}: ${e.message}` : e.message
  return String(e)
}

/** A retryable failure as the error callers see once retries are over. */
export const unavailable = (e: Retryable) => new RegistryUnavailable({ registry: e.registry, detail: e.detail })

/**
 * The stream of `blob`, opened with `open` (again at the byte reached, after a break). The
 * first request goes out at once, not at the first read: over a network the GET's round trip
 * then overlaps whatever the consumer does first (an upload's POST). The failure that ended
 * it is kept typed: a Retryable one shows as RegistryUnavailable.
 */
export const verifiedStream = (
  runtime: Runtime.Runtime<never>,
  open: (from: number) => Effect.Effect<OpenedAt, TransportError | Retryable>,
  blob: BlobIdentity,
  options: { readonly stallMs: number; readonly maxResumes: number; readonly budget: ResumeBudget }
): BlobBody => {
  const hash = createHash("sha256")
  const run = Runtime.runPromiseExit(runtime)
  let offset = 0
  let current: { reader: BodyReader; skip: number } | undefined
  let failure: TransportError | Retryable | undefined
  const broken = (detail: string) => new Retryable({ registry: blob.registry, detail, retryAfter: undefined })
  const read = (reader: BodyReader) => readWithin(reader, options.stallMs, () => broken(`blob ${blob.digest} stalled for ${options.stallMs} ms`))
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, e: TransportError | Retryable) => {
    failure = e
    controller.error(e)
  }
  let first: Promise<Exit.Exit<OpenedAt, TransportError | Retryable>> | undefined = run(open(0))
  const stream = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      for (;;) {
        try {
          if (!current) {
            const exit = await (first ?? run(open(offset)))
            first = undefined
            if (Exit.isFailure(exit)) {
              const f = Cause.failureOption(exit.cause)
              return fail(controller, Option.isSome(f) ? f.value : new TransportFailure({ transport: "oci", detail: `GET blob ${blob.digest}: ${Cause.pretty(exit.cause).split("\n")[0]}` }))
            }
            current = { reader: exit.value.body.getReader(), skip: exit.value.skip }
          }
          const opened: { reader: BodyReader; skip: number } = current
          const { done, value } = await read(opened.reader)
          if (done) {
            const actual = `sha256:${hash.digest("hex")}`
            if (actual !== blob.digest || offset !== blob.size) {
              return fail(controller, new DigestMismatch({ what: `blob ${blob.where}${offset !== blob.size ? ` (${offset} of ${blob.size} bytes)` : ""}`, expected: blob.digest, actual }))
            }
            return controller.close()
          }
          let chunk = value
          if (opened.skip > 0) {
            const cut = Math.min(opened.skip, chunk.length)
            opened.skip -= cut
            chunk = chunk.subarray(cut)
            if (chunk.length === 0) continue
          }
          if (offset + chunk.length > blob.size) {
            return fail(controller, new DigestMismatch({ what: `blob ${blob.where} (more than ${blob.size} bytes)`, expected: blob.digest, actual: "(longer content)" }))
          }
          hash.update(chunk)
          offset += chunk.length
          return controller.enqueue(chunk)
        } catch (e) {
          void current?.reader.cancel().catch(() => {})
          current = undefined
          const retryable = e instanceof Retryable ? e : broken(`reading blob ${blob.digest}: ${describeError(e)}`)
          if (offset > 0 && offset < blob.size && options.budget.count < options.maxResumes) {
            options.budget.count++
            continue
          }
          return fail(controller, retryable)
        }
      }
    },
    cancel: (reason) => {
      // A body that was never read: its response, once there, is let go too.
      void first?.then((exit) => Exit.isSuccess(exit) ? exit.value.body.cancel(reason).catch(() => {}) : undefined)
      first = undefined
      void current?.reader.cancel(reason).catch(() => {})
      current = undefined
    }
  }, { highWaterMark: 0 })
  return {
    stream,
    failure: () => (failure === undefined ? undefined : failure._tag === "Retryable" ? unavailable(failure) : failure)
  }
}
