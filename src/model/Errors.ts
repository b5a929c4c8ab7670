/**
 * The errors several layers share: what a registry, a layout or a transport can answer, and
 * what Resolve and export report about a source. Each has a `_tag` and a human `message`.
 */
import { Data } from "effect"

/** The image or tag does not exist. */
export class ImageNotFound extends Data.TaggedError("ImageNotFound")<{ readonly image: string }> {
  override get message() {
    return `${this.image} not found`
  }
}

/** The registry refused our credentials (or we had none). */
export class Unauthorized extends Data.TaggedError("Unauthorized")<{
  readonly registry: string
  readonly status: number
  readonly detail: string
  /** no credentials were sent (none were found for the registry) */
  readonly anonymous?: boolean
  /** the distribution error codes of the registry's answer (`UNAUTHORIZED`, `DENIED`) */
  readonly codes?: ReadonlyArray<string>
  /** what to do about it, from the program that knows its own options (the CLI names its flags) */
  readonly hint?: string
}> {
  override get message() {
    return `${this.registry}: access denied (HTTP ${this.status})${this.detail ? `: ${this.detail}` : ""}${this.hint ? ` (${this.hint})` : ""}`
  }
}

/**
 * A registry answered a request with something the client does not go on from: the HTTP
 * status, the distribution error codes of its body (`NAME_UNKNOWN`, `DIGEST_INVALID`, …), its
 * own message, and the request. Callers decide on `codes`, never on the message text.
 */
export class RegistryError extends Data.TaggedError("RegistryError")<{
  readonly registry: string
  readonly status: number
  readonly codes: ReadonlyArray<string>
  /** the registry's own words (its error messages, or the text of a body that is not JSON), shortened */
  readonly detail: string
  /** "PUT /v2/app/manifests/1" */
  readonly request: string
}> {
  override get message() {
    const codes = this.codes.length > 0 ? ` ${this.codes.join(", ")}` : ""
    return `${this.registry}: ${this.request}: HTTP ${this.status}${codes}${this.detail ? `: ${this.detail}` : ""}`
  }
}

/** The registry kept failing (5xx, 429, connection errors) after every retry. */
export class RegistryUnavailable extends Data.TaggedError("RegistryUnavailable")<{
  readonly registry: string
  readonly detail: string
}> {
  override get message() {
    return `${this.registry} unavailable after retries: ${this.detail}`
  }
}

/** The registry's pull limit is used up (Docker Hub's 429 TOOMANYREQUESTS): no more manifest GETs go to it this run. */
export class RateLimited extends Data.TaggedError("RateLimited")<{
  readonly registry: string
  /** when the registry says the limit resets (ISO time), if it says */
  readonly resetAt: string | undefined
  readonly detail: string
}> {
  override get message() {
    return `${this.registry}: pull rate limit reached${
      this.resetAt ? `; it resets at ${this.resetAt}` : ""
    } (${this.detail}); no more manifests are pulled from it this run`
  }
}

/** Content did not match the digest it was fetched or pinned by. */
export class DigestMismatch extends Data.TaggedError("DigestMismatch")<{
  readonly what: string
  readonly expected: string
  readonly actual: string
}> {
  override get message() {
    return `digest mismatch for ${this.what}: expected ${this.expected}, got ${this.actual}`
  }
}

/** Anything else a transport could not do, with the registry's own words. */
export class TransportFailure extends Data.TaggedError("TransportFailure")<{
  readonly transport: string
  readonly detail: string
}> {
  override get message() {
    return `${this.transport}: ${this.detail}`
  }
}

/** The target tag was written by someone else while we copied (another syncer): a conflict, found late. */
export class TagTaken extends Data.TaggedError("TagTaken")<{
  readonly target: string
  readonly expected: string
  readonly found: string
  /**
   * when it was found: "copy" (before our write, the default), "replaced" (the end-of-run check
   * found our write replaced), "immutable" (the registry refused to overwrite the tag)
   */
  readonly when?: "copy" | "replaced" | "immutable"
}> {
  override get message() {
    switch (this.when) {
      case "replaced":
        return `${this.target} was replaced by another writer after this run wrote it: it now holds ${this.found}, not ${this.expected}`
      case "immutable":
        return `${this.target} is immutable in the registry and holds ${this.found}, not ${this.expected}; the registry refused to overwrite it`
      default:
        return `${this.target} was written by someone else during the copy: it holds ${this.found}, not ${this.expected}; not overwritten`
    }
  }
}

/** A push went to a repository (or Harbor project) that does not exist on the registry, which does not create it on push. */
export class RepositoryNotFound extends Data.TaggedError("RepositoryNotFound")<{
  readonly registry: string
  readonly repository: string
  /** Harbor: the project (first path segment) that is missing, when the registry says so */
  readonly project?: string
}> {
  override get message() {
    if (this.project !== undefined) {
      return `project ${this.project} does not exist on ${this.registry} (pushing ${this.repository}); create the project first`
    }
    return `repository ${this.repository} does not exist on ${this.registry}; create it first (ECR: set createRepositories: true, or enable create-on-push with a repository creation template)`
  }
}

/** A registry pointed us at a URL we never fetch (anything but http: and https:, e.g. a file: redirect). */
export class UnsupportedUrl extends Data.TaggedError("UnsupportedUrl")<{
  readonly registry: string
  /** what pointed there: "redirect of GET /v2/app/manifests/1", "token realm", "upload Location" */
  readonly context: string
  readonly scheme: string
  /** the URL without query or credentials, shortened */
  readonly url: string
}> {
  override get message() {
    return `${this.registry}: refused the ${this.context} to ${this.url}: only http: and https: URLs are fetched, not ${this.scheme}`
  }
}

/** A response body was larger than we accept for its kind (a manifest, a token, a config). */
export class ResponseTooLarge extends Data.TaggedError("ResponseTooLarge")<{
  readonly registry: string
  /** "GET /v2/app/manifests/1" */
  readonly request: string
  /** what the body is: "manifest", "token response", … */
  readonly what: string
  readonly limit: number
  /** the announced length, when the registry sent one */
  readonly announced: number | undefined
}> {
  override get message() {
    const announced = this.announced === undefined ? "" : ` (it announced ${this.announced} bytes)`
    return `${this.registry}: the ${this.what} of ${this.request} is larger than the ${formatLimit(this.limit)} limit${announced}; refused`
  }
}

/** "4 MiB", "1 MiB", "4 KiB". */
export const formatLimit = (bytes: number): string =>
  bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`

/** Every error a transport may return. */
export type TransportError =
  | ImageNotFound
  | Unauthorized
  | RegistryUnavailable
  | DigestMismatch
  | TransportFailure
  | TagTaken
  | UnsupportedUrl
  | ResponseTooLarge
  | RateLimited
  | RepositoryNotFound
  | RegistryError

/** The source image (tag or digest) does not exist. */
export class SourceNotFound extends Data.TaggedError("SourceNotFound")<{ readonly source: string; readonly location: string }> {
  override get message() {
    return `source image ${this.source} not found (looked up ${this.location})`
  }
}

/** The source is not something we may copy under the entry's settings. */
export class PlatformMismatch extends Data.TaggedError("PlatformMismatch")<{ readonly source: string; readonly detail: string }> {
  override get message() {
    return `${this.source}: ${this.detail}`
  }
}
