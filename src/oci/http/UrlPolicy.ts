/**
 * Which URLs the client fetches: http: and https: only. Every URL a registry hands us — a
 * redirect, a token realm, an upload Location — passes here before it is fetched; a `file:`
 * URL would otherwise be read from the local disk by fetch and its content sent on.
 */
import { Either } from "effect"
import { UnsupportedUrl } from "../../model/Errors.ts"

/** For messages: scheme, host and path, no query or credentials, at most 160 characters. */
export const displayUrl = (url: URL): string => {
  const text = `${url.protocol}//${url.host}${url.pathname}`
  return text.length > 160 ? `${text.slice(0, 100)}…${text.slice(-40)}` : text
}

/** The URL `raw` (resolved against `base`) when it is http: or https:; UnsupportedUrl otherwise. */
export const allowedUrl = (
  raw: string | URL,
  base: string | URL | undefined,
  registry: string,
  context: string
): Either.Either<URL, UnsupportedUrl> => {
  let url: URL
  try {
    url = new URL(raw, base)
  } catch {
    const text = String(raw)
    return Either.left(
      new UnsupportedUrl({ registry, context, scheme: "(not a URL)", url: JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text) })
    )
  }
  if (url.protocol === "http:" || url.protocol === "https:") return Either.right(url)
  return Either.left(new UnsupportedUrl({ registry, context, scheme: url.protocol, url: displayUrl(url) }))
}
