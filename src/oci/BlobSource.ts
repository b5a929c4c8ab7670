/**
 * A blob body as a verified web stream: hashed and counted on the way, its end checked against
 * digest and size, a body that breaks or stalls mid-way resumed from the byte it stopped at
 * (bounded by a budget shared by every try of one copy). Plain web streams, not Effect
 * streams: a 1 GiB layer is ~16k chunks, and this path is the copy's hot loop.
 *
 * Three small parts: the bodies (the first request sent at once, later ones opened at the byte
 * reached), the check (hash and count), and the reader that turns them into steps — a chunk,
 * the end, or the failure that ended it. The stream only hands those steps on; the failure it
 * ended with stays typed for the caller (`BlobBody.failure`), since a fetch that reads the
 * stream reports its own error instead.
 */
import { Cause, Effect, Exit, Option, Runtime } from "effect"
import { createHash } from "node:crypto"
import { DigestMismatch, RegistryUnavailable, TransportFailure } from "../model/Errors.ts"
import type { TransportError } from "../model/Errors.ts"
import type { BlobBody, ResumeBudget } from "../model/ImageStore.ts"
import { readWithin } from "./http/BodyReader.ts"
import type { BodyReader } from "./http/BodyReader.ts"
import { describeCause } from "./http/NetworkErrors.ts"
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

/** A retryable failure as the error callers see once retries are over. */
export const unavailable = (e: Retryable) => new RegistryUnavailable({ registry: e.registry, detail: e.detail })

type Failure = TransportError | Retryable

/** What reading the blob gives next. */
type Step = { readonly _tag: "Chunk"; readonly chunk: Uint8Array } | { readonly _tag: "End" } | { readonly _tag: "Failed"; readonly error: Failure }

/** The innermost cause of a thrown error (fetch wraps what the socket said). */
const innermost = (e: unknown): unknown =>
  e && typeof e === "object" && "cause" in e && (e as { cause?: unknown }).cause ? innermost((e as { cause: unknown }).cause) : e

/** The bodies of one blob: the first requested at once (its round trip overlaps the consumer's first step), the others when a break asks. */
const bodies = (
  run: <A, E>(effect: Effect.Effect<A, E>) => Promise<Exit.Exit<A, E>>,
  open: (from: number) => Effect.Effect<OpenedAt, Failure>,
  digest: string
) => {
  let first: Promise<Exit.Exit<OpenedAt, Failure>> | undefined = run(open(0))
  return {
    /** The body from byte `from`, or why there is none. */
    at: async (from: number): Promise<OpenedAt | Failure> => {
      const exit = await (first ?? run(open(from)))
      first = undefined
      if (Exit.isSuccess(exit)) return exit.value
      const failure = Cause.failureOption(exit.cause)
      return Option.isSome(failure)
        ? failure.value
        : new TransportFailure({ transport: "oci", detail: `GET blob ${digest}: ${Cause.pretty(exit.cause).split("\n")[0]}` })
    },
    /** A body that was never read: its response, once there, is let go too. */
    cancel: (reason: unknown) => {
      void first?.then((exit) => Exit.isSuccess(exit) ? exit.value.body.cancel(reason).catch(() => {}) : undefined)
      first = undefined
    }
  }
}

/** The blob's steps: bodies read with a stall limit, the skipped start dropped, every byte checked, a break resumed within the budget. */
const steps = (
  blob: BlobIdentity,
  source: ReturnType<typeof bodies>,
  options: { readonly stallMs: number; readonly maxResumes: number; readonly budget: ResumeBudget }
) => {
  const hash = createHash("sha256")
  let offset = 0
  let current: { readonly reader: BodyReader; skip: number } | undefined
  const broken = (detail: string) => new Retryable({ registry: blob.registry, detail, retryAfter: undefined })
  const end = (): Step => {
    const actual = `sha256:${hash.digest("hex")}`
    if (actual === blob.digest && offset === blob.size) return { _tag: "End" }
    return {
      _tag: "Failed",
      error: new DigestMismatch({
        what: `blob ${blob.where}${offset !== blob.size ? ` (${offset} of ${blob.size} bytes)` : ""}`,
        expected: blob.digest,
        actual
      })
    }
  }
  const accept = (chunk: Uint8Array): Step => {
    if (offset + chunk.length > blob.size) {
      return {
        _tag: "Failed",
        error: new DigestMismatch({ what: `blob ${blob.where} (more than ${blob.size} bytes)`, expected: blob.digest, actual: "(longer content)" })
      }
    }
    hash.update(chunk)
    offset += chunk.length
    return { _tag: "Chunk", chunk }
  }
  /** A break mid-way: resumed (undefined) while the budget lasts, else the failure. */
  const onBreak = (e: unknown): Failure | undefined => {
    void current?.reader.cancel().catch(() => {})
    current = undefined
    if (offset > 0 && offset < blob.size && options.budget.count < options.maxResumes) {
      options.budget.count++
      return undefined
    }
    return e instanceof Retryable ? e : broken(`reading blob ${blob.digest}: ${describeCause(innermost(e))}`)
  }
  const next = async (): Promise<Step> => {
    for (;;) {
      try {
        if (current === undefined) {
          const opened = await source.at(offset)
          if (!("body" in opened)) return { _tag: "Failed", error: opened }
          current = { reader: opened.body.getReader(), skip: opened.skip }
        }
        const reading = current
        const { done, value } = await readWithin(reading.reader, options.stallMs, () => broken(`blob ${blob.digest} stalled for ${options.stallMs} ms`))
        if (done) return end()
        const cut = Math.min(reading.skip, value.length)
        reading.skip -= cut
        if (cut < value.length) return accept(cut === 0 ? value : value.subarray(cut))
      } catch (e) {
        const failure = onBreak(e)
        if (failure !== undefined) return { _tag: "Failed", error: failure }
      }
    }
  }
  return { next, cancel: (reason: unknown) => void current?.reader.cancel(reason).catch(() => {}) }
}

/**
 * The stream of `blob`, opened with `open` (again at the byte reached, after a break). The
 * first request goes out at once, not at the first read. The failure that ended it is kept
 * typed: a Retryable one shows as RegistryUnavailable.
 */
export const verifiedStream = (
  runtime: Runtime.Runtime<never>,
  open: (from: number) => Effect.Effect<OpenedAt, Failure>,
  blob: BlobIdentity,
  options: { readonly stallMs: number; readonly maxResumes: number; readonly budget: ResumeBudget }
): BlobBody => {
  const source = bodies(Runtime.runPromiseExit(runtime), open, blob.digest)
  const reader = steps(blob, source, options)
  const ended: { failure?: Failure } = {}
  const stream = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      const step = await reader.next()
      if (step._tag === "Chunk") return controller.enqueue(step.chunk)
      if (step._tag === "End") return controller.close()
      ended.failure = step.error
      controller.error(step.error)
    },
    cancel: (reason) => {
      source.cancel(reason)
      reader.cancel(reason)
    }
  }, { highWaterMark: 0 })
  return {
    stream,
    failure: () => (ended.failure === undefined ? undefined : ended.failure._tag === "Retryable" ? unavailable(ended.failure) : ended.failure)
  }
}
