/**
 * JFrog Artifactory (older releases, and proxies in front of registries that behave alike) as a
 * stand-in in front of a real docker-registry: a blob has to arrive by PATCH before the
 * closing PUT. A PUT that carries the blob on an upload session that got no PATCH (the
 * monolithic POST + PUT of distribution-spec) is answered `404 BLOB_UNKNOWN`:
 * - "jFrog is known to require PATCH" (containerd/containerd#3533, moby/buildkit#1130,
 *   JFrog RTFACT-19344, Artifactory 6.11.3 in that thread);
 * - "docker push does a sequence of POST, PATCH, and PUT (with no body), while docker buildx
 *   build --push does a POST followed by a PUT (with body). The latter PUT results in a 404
 *   BLOB_UNKNOWN on Artifactory" (docker/buildx#196).
 * The error message is distribution's for BLOB_UNKNOWN; Artifactory's own wording is not quoted
 * in those threads. PATCH sessions, and a PUT with an empty body, go through unchanged.
 */
import { registryError, startStandIn } from "./StandIn.ts"
import type { Personality, StandIn, StandInOptions } from "./StandIn.ts"

/** Artifactory's quirk as a personality. */
export const artifactory = (): Personality => {
  // upload sessions (the <id> of /blobs/uploads/<id>, stable across PATCHes) that got a PATCH
  const patched = new Set<string>()
  return {
    answer: async (request) => {
      const { route, method } = request
      if (route.kind !== "upload" || method !== "PUT" || patched.has(route.session)) return undefined
      const { bytes } = await request.readBody(0)
      if (bytes.byteLength === 0) return undefined
      return registryError(404, "BLOB_UNKNOWN", "blob unknown to registry", { detail: request.url.searchParams.get("digest") ?? undefined })
    },
    observe: (request, status) => {
      if (request.route.kind === "upload" && request.method === "PATCH" && status === 202) patched.add(request.route.session)
    }
  }
}

/** Starts an Artifactory stand-in. */
export const startArtifactory = (options: StandInOptions = {}): Promise<StandIn> => startStandIn(artifactory(), options)
