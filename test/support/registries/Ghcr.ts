/**
 * GitHub Container Registry (ghcr.io) as a stand-in in front of a real docker-registry:
 * - no referrers API: `GET /v2/<name>/referrers/<digest>` is answered 404, so clients fall back
 *   to the `sha256-<hex>` referrers tag (actions/attest-build-provenance#71 and #91: "GHCR does
 *   NOT yet support the referrers API"; rtvkiz/minimal#7, 2026: "GHCR simply returns 404");
 * - a PATCH chunk over 4 MiB is refused with `416` and
 *   `REQUESTED_RANGE_NOT_SATISFIABLE` "the request body is too large and exceeds the maximum
 *   permissible limit of 4.00MiB" (oras-project/rust-oci-client#35, wasmCloud/wash#268,
 *   ocx-sh/ocx#237); chunks of at most 4 MiB, and monolithic PUTs, go through.
 */
import { registryError, startStandIn } from "./StandIn.ts"
import type { Answer, Personality, StandIn, StandInOptions, StandInRequest } from "./StandIn.ts"

/** GHCR's per-request PATCH limit: 4.00 MiB. */
export const GHCR_MAX_CHUNK_BYTES = 4 * 1024 * 1024

/** Options of startGhcr. */
export interface GhcrOptions extends StandInOptions {
  /** the largest PATCH body accepted (default GHCR_MAX_CHUNK_BYTES) */
  readonly maxChunkBytes?: number
}

const tooLarge = (limit: number): Answer =>
  registryError(
    416,
    "REQUESTED_RANGE_NOT_SATISFIABLE",
    `the request body is too large and exceeds the maximum permissible limit of ${(limit / (1024 * 1024)).toFixed(2)}MiB`
  )

/** GHCR's quirks as a personality. */
export const ghcr = (options: GhcrOptions = {}): Personality => {
  const limit = options.maxChunkBytes ?? GHCR_MAX_CHUNK_BYTES
  return {
    answer: async (request: StandInRequest) => {
      const { route, method } = request
      if (route.kind === "referrers") {
        // the status is what clients go by (404 = no referrers API); GHCR's body is not published
        return { status: 404, headers: { "content-type": "text/plain; charset=utf-8" }, body: "404 page not found\n" }
      }
      if (route.kind === "upload" && method === "PATCH") {
        const declared = Number(request.headers.get("content-length") ?? "NaN")
        if (declared > limit) return tooLarge(limit)
        // without a Content-Length the size shows only while the body arrives
        const { complete, bytes } = await request.readBody(limit)
        if (!complete || bytes.byteLength > limit) return tooLarge(limit)
      }
      return undefined
    }
  }
}

/** Starts a GHCR stand-in. */
export const startGhcr = (options: GhcrOptions = {}): Promise<StandIn> => startStandIn(ghcr(options), options)
