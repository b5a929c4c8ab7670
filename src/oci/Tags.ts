/**
 * Tag listing: `tags/list` page after page, following `Link: <…>; rel="next"` (relative to the
 * request, http(s) only) until there is none — registries cap pages (ECR at 1000) or ignore `n`
 * and send everything (distribution 2.8).
 */
import { Effect } from "effect"
import { TransportFailure } from "../model/Errors.ts"
import type { TransportError } from "../model/Errors.ts"
import type { ImageLocation } from "../model/Location.ts"
import { unexpected } from "./ClientContext.ts"
import type { ClientContext } from "./ClientContext.ts"
import { discard, readBody, SMALL_BLOB_LIMIT } from "./http/BodyReader.ts"
import { allowedUrl } from "./http/UrlPolicy.ts"

/** Tags asked for per page (registries may send fewer, or all). */
const TAGS_PAGE = 1000

/** A repository with more pages than this is refused (a registry that links to itself forever). */
const MAX_TAG_PAGES = 10_000

/** Stands for the registry's own origin while a relative link is resolved. */
const SAME_REGISTRY = "http://registry.invalid"

/** The URL of `Link: <url>; rel="next"`, if the header has one. */
export const nextLink = (header: string | undefined): string | undefined => {
  if (!header) return undefined
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part)
    if (match && /(^|;)\s*rel="?next"?\s*(;|$)/i.test(match[2]!)) return match[1]
  }
  return undefined
}

/** The tag operations of a client. */
export const makeTags = (context: ClientContext) => ({
  /** every tag of the repository of `image` (its reference is ignored); empty when the repository does not exist */
  listTags: (image: ImageLocation): Effect.Effect<ReadonlyArray<string>, TransportError> =>
    context.retried(Effect.gen(function*() {
      const tags: Array<string> = []
      let next: string | undefined = `/v2/${image.repository}/tags/list?n=${TAGS_PAGE}`
      for (let page = 0; next !== undefined; page++) {
        if (page >= MAX_TAG_PAGES) {
          return yield* new TransportFailure({
            transport: "registry",
            detail: `${image.endpoint.host}/${image.repository}: more than ${MAX_TAG_PAGES} pages of tags`
          })
        }
        const path: string = next
        const res = yield* context.send(image, { method: "GET", path })
        if (res.status === 404) {
          discard(res)
          return tags
        }
        if (res.status !== 200) return yield* unexpected(context, image, "GET", path, res)
        const bytes = yield* readBody(res, {
          registry: image.endpoint.host,
          request: `GET ${path}`,
          what: "tag list",
          limit: SMALL_BLOB_LIMIT,
          stallMs: context.stallMs
        })
        const body = yield* Effect.try({
          try: () => JSON.parse(new TextDecoder().decode(bytes)) as { tags?: unknown },
          catch: () => new TransportFailure({ transport: "registry", detail: `GET tags of ${image.endpoint.host}/${image.repository}: not JSON` })
        })
        if (Array.isArray(body.tags)) { for (const t of body.tags) if (typeof t === "string") tags.push(t) }
        const link = nextLink(res.headers.get("link") ?? undefined)
        if (link === undefined) return tags
        // A link on the registry itself stays a path (the client knows the host's scheme); another origin is a URL.
        const resolved = yield* allowedUrl(link, path.startsWith("http") ? path : `${SAME_REGISTRY}${path}`, image.endpoint.host, "next page of tags")
        next = resolved.origin === SAME_REGISTRY ? `${resolved.pathname}${resolved.search}` : resolved.href
      }
      return tags
    }))
})
