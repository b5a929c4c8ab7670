/**
 * The redirect policy: GET and HEAD redirects are followed by hand (at most 5 hops), only to
 * http(s) URLs, and `Authorization` never goes to another origin — pre-signed storage URLs
 * reject a second auth mechanism, and the token is not theirs.
 */
import { Either } from "effect"
import type { UnsupportedUrl } from "../../model/Errors.ts"
import { allowedUrl } from "./UrlPolicy.ts"

/** The most redirects one request follows. */
export const MAX_REDIRECTS = 5

const isRedirect = (s: number) => s === 301 || s === 302 || s === 303 || s === 307 || s === 308

/** The next hop of a response, if it is a redirect to follow: its URL and the headers to send there. */
export const nextHop = (
  response: { readonly status: number; readonly location: string | undefined },
  request: { readonly method: string; readonly url: URL; readonly headers: Readonly<Record<string, string>>; readonly home: string; readonly registry: string }
): Either.Either<{ readonly url: URL; readonly headers: Readonly<Record<string, string>> } | undefined, UnsupportedUrl> => {
  if (!isRedirect(response.status) || !response.location || (request.method !== "GET" && request.method !== "HEAD")) return Either.right(undefined)
  return Either.map(allowedUrl(response.location, request.url, request.registry, `redirect of ${request.method} ${request.url.pathname}`), (url) => {
    if (url.origin === request.home) return { url, headers: request.headers }
    const { authorization: _dropped, ...rest } = request.headers
    return { url, headers: rest }
  })
}
