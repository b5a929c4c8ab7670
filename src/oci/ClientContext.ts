/**
 * What every registry operation (Fetch, Push, Mount, Tags, Referrers) works with: the HTTP
 * stack, the access its requests ask for, whether writes are refused, the retry policy, and
 * the small rules they share — request paths, the check that a reference is safe to put in a
 * path, and what an answer the operation does not go on from becomes.
 */
import { Effect } from "effect"
import { isSha256Digest } from "../model/Digest.ts"
import { TransportFailure } from "../model/Errors.ts"
import type { RegistryError, TransportError } from "../model/Errors.ts"
import { describeLocation } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import { isValidTag } from "../model/Reference.ts"
import { shorten } from "../model/Text.ts"
import { unavailable } from "./BlobSource.ts"
import { Retryable, withRetry } from "./http/RetryPolicy.ts"
import type { RetrySettings } from "./http/RetryPolicy.ts"
import { registryError } from "./RegistryError.ts"
import type { RegistryHttp, RegistryHttpError, RegistryRequest } from "./RegistryHttp.ts"

/** What a client's token requests ask for: `pull` (reads), or `push` (reads and writes, one token for both). */
export type Access = "pull" | "push"

/** The state every operation of one client shares. */
export interface ClientContext {
  readonly http: RegistryHttp["Type"]
  readonly access: Access
  /** every write refused (a dry run), at the lowest level */
  readonly readOnly: boolean
  readonly retry: RetrySettings
  readonly stallMs: number
  /** a request to `image`'s registry, with the scope of the client's access unless given */
  readonly send: (
    image: ImageLocation,
    request: Omit<RegistryRequest, "scopes"> & { readonly scopes?: ReadonlyArray<string> }
  ) => Effect.Effect<Response, RegistryHttpError>
  /** the client's scope on `image`'s repository */
  readonly scope: (image: ImageLocation) => string
  /** `self` under the retry policy, its last Retryable shown as RegistryUnavailable */
  readonly retried: <A, E extends TransportError>(self: Effect.Effect<A, E | Retryable>) => Effect.Effect<A, E | TransportError>
}

/** The context of a client over `http`. */
export const makeClientContext = (
  http: RegistryHttp["Type"],
  options: { readonly access: Access; readonly readOnly: boolean; readonly retry: RetrySettings }
): ClientContext => {
  const retry = withRetry(options.retry)
  const scope = (image: ImageLocation) => `repository:${image.repository}:${options.access === "push" ? "pull,push" : "pull"}`
  return {
    http,
    access: options.access,
    readOnly: options.readOnly,
    retry: options.retry,
    stallMs: http.stallMs,
    scope,
    send: (image, request) => {
      if (options.readOnly && request.method !== "GET" && request.method !== "HEAD") {
        return Effect.die(new Error(`read-only mode: refused ${request.method} ${request.path}`))
      }
      return http.send(image.endpoint, { ...request, scopes: request.scopes ?? [scope(image)] })
    },
    retried: (self) => self.pipe(retry, Effect.catchTag("Retryable", (e) => Effect.fail(unavailable(e as Retryable))))
  }
}

/** `/v2/<repository>/manifests/<reference>` */
export const manifestPath = (image: ImageLocation, reference = image.reference) => `/v2/${image.repository}/manifests/${reference}`

/** `/v2/<repository>/blobs/<digest>` */
export const blobPath = (image: ImageLocation, digest: string) => `/v2/${image.repository}/blobs/${digest}`

/** The media type of an answer, without parameters. */
export const contentType = (res: Response) => (res.headers.get("content-type") ?? "").split(";")[0]!.trim()

/**
 * A tag or digest goes into a request path only when well-formed: digests come from
 * registries (manifest descriptors, headers), and "sha256:../../x" would leave the repository.
 */
export const checkReference = (image: ImageLocation, reference: string, what: string): Effect.Effect<void, TransportFailure> => {
  const problem = referenceProblem(image, reference, what)
  return problem === undefined ? Effect.void : Effect.fail(problem)
}

/** `checkReference` without an Effect: the refusal, or undefined when the reference is safe. */
export const referenceProblem = (image: ImageLocation, reference: string, what: string): TransportFailure | undefined =>
  isValidTag(reference) || isSha256Digest(reference)
    ? undefined
    : new TransportFailure({
      transport: "registry",
      detail: `${image.endpoint.host}/${image.repository}: refusing ${what} ${JSON.stringify(shorten(reference, 100))}: not a tag or a sha256 digest`
    })

/** An answer the operation does not go on from, as the RegistryError it is. */
export const unexpected = (context: ClientContext, image: ImageLocation, method: string, path: string, res: Response): Effect.Effect<never, RegistryError> =>
  Effect.flatMap(registryError(res, { registry: image.endpoint.host, method, path }, context.stallMs), Effect.fail)

/** "host/repository:tag" for messages (re-exported for the operations). */
export const where = describeLocation
