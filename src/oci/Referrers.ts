/**
 * OCI 1.1 referrers: `GET /v2/<name>/referrers/<digest>`, the index of manifests whose
 * `subject` is that digest. A registry that has the API never answers 404 there
 * (distribution-spec v1.1), so a 404 means it has none (GHCR, Docker Hub, distribution 2.8):
 * it is not asked again this run, and callers use the `sha256-<hex>` fallback tag.
 */
import { Effect, Option } from "effect"
import { sha256Digest } from "../model/Digest.ts"
import type { TransportError } from "../model/Errors.ts"
import type { ImageLocation } from "../model/Location.ts"
import type { RawManifest } from "../model/Manifest.ts"
import { OCI_INDEX } from "../model/MediaTypes.ts"
import { checkReference } from "./ClientContext.ts"
import type { ClientContext } from "./ClientContext.ts"
import { discard, MANIFEST_LIMIT, readBody } from "./http/BodyReader.ts"

/** The referrers operation of a client. */
export const makeReferrers = (context: ClientContext) => {
  // Hosts that answered 404: they have no referrers API.
  const without = new Set<string>()
  return {
    /** the referrers index of `digest`; None when the registry has no referrers API (or no answer to give) */
    referrers: (image: ImageLocation, digest: string): Effect.Effect<Option.Option<RawManifest>, TransportError> =>
      context.retried(Effect.gen(function*() {
        yield* checkReference(image, digest, "referrers digest")
        if (without.has(image.endpoint.host)) return Option.none<RawManifest>()
        const path = `/v2/${image.repository}/referrers/${digest}`
        const res = yield* context.send(image, { method: "GET", path, headers: { accept: OCI_INDEX } })
        if (res.status === 404) without.add(image.endpoint.host)
        if (res.status !== 200) {
          discard(res)
          return Option.none<RawManifest>()
        }
        const bytes = yield* readBody(res, {
          registry: image.endpoint.host,
          request: `GET ${path}`,
          what: "referrers index",
          limit: MANIFEST_LIMIT,
          stallMs: context.stallMs
        })
        return Option.some({ digest: sha256Digest(bytes), mediaType: OCI_INDEX, size: bytes.length, bytes })
      }))
  }
}
