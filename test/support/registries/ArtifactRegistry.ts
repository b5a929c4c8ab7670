/**
 * Google Artifact Registry (and GCR, which it serves) as a stand-in in front of a real
 * docker-registry:
 * - no chunked uploads: "Artifact Registry does not support Docker chunked uploads ... You must
 *   use monolithic uploads" (cloud.google.com/artifact-registry/docs/reference/docker-api, quoted
 *   in dotnet/sdk-container-builds#287; podman-container-tools/skopeo#1101; kitops-ml/kitops#777).
 *   Every PATCH to an upload session is refused; monolithic POST + PUT goes through. No public
 *   source quotes AR's answer to a PATCH, so the stand-in gives distribution's answer for an
 *   operation the registry does not support: `405 UNSUPPORTED` "The operation is unsupported.".
 * - a POST without a Content-Length (a client that sends no body and no length) is refused by
 *   Google's front end with `411 Length Required` and an HTML page "Error 411 (Length
 *   Required)!!1" (oras-project/rust-oci-client#176: "their registry requires Content-Length to
 *   be set for acquiring a monolithic push session"); the stand-in keeps the page's first lines.
 * - optional per-project request quota: AR charges each HTTP request of a push or pull to a
 *   per-project, per-region quota per minute (cloud.google.com/artifact-registry/quotas, quoted
 *   in kubernetes/registry.k8s.io#153) and answers `429 Too Many Requests` once it is spent
 *   (kubernetes-sigs/promo-tools#637 and #1271: "TOOMANYREQUESTS: Quota exceeded for quota
 *   metric 'Requests per project per region' and limit 'Requests per project per region per
 *   minute per region' of service 'artifactregistry.googleapis.com' ..."). The project is the
 *   first path segment (`<loc>-docker.pkg.dev/<project>/<repo>/<image>`). Whether AR sends a
 *   Retry-After is not documented; the stand-in sends one when asked to.
 */
import { registryError, repositoryOf, startStandIn } from "./StandIn.ts"
import type { Answer, Personality, StandIn, StandInOptions } from "./StandIn.ts"

/** A per-project request quota. */
export interface ArtifactRegistryQuota {
  /** requests admitted per project per window; the next ones get 429 until the window ends */
  readonly requests: number
  /** the window (default 60 000 ms, AR's per-minute quota) */
  readonly windowMs?: number
  /** the Retry-After (seconds) sent with a 429; none when omitted */
  readonly retryAfterSeconds?: number
  /** the time in ms the windows are measured with (default Date.now); a test can move it on */
  readonly now?: () => number
}

/** Options of startArtifactRegistry. */
export interface ArtifactRegistryOptions extends StandInOptions {
  readonly quota?: ArtifactRegistryQuota
}

/** An Artifact Registry stand-in. */
export interface ArtifactRegistryStandIn extends StandIn {
  /** requests admitted to `project` in the current window */
  readonly quotaUsed: (project: string) => number
  /** ends the current quota window of every project now (a test's "a minute later") */
  readonly openNextWindow: () => void
}

const quotaMessage =
  "Quota exceeded for quota metric 'Requests per project per region' and limit 'Requests per project per region per minute per region' of service 'artifactregistry.googleapis.com'"

/** Google's front end's answer to a POST without Content-Length (the page's styling left out). */
const lengthRequired: Answer = {
  status: 411,
  headers: { "content-type": "text/html; charset=UTF-8" },
  body: "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 411 (Length Required)!!1</title>\n"
}

/** The per-project quota windows. */
const makeQuota = (quota: ArtifactRegistryQuota) => {
  const windowMs = quota.windowMs ?? 60_000
  const now = quota.now ?? Date.now
  const windows = new Map<string, { start: number; used: number }>()
  return {
    /** true when the request is admitted (and counted) */
    admit: (project: string): boolean => {
      const at = now()
      const current = windows.get(project)
      const window = current === undefined || at - current.start >= windowMs ? { start: at, used: 0 } : current
      windows.set(project, window)
      if (window.used >= quota.requests) return false
      window.used++
      return true
    },
    used: (project: string): number => windows.get(project)?.used ?? 0,
    reset: (): void => windows.clear()
  }
}

/** Artifact Registry's quirks as a personality, with its quota windows. */
export const artifactRegistry = (options: ArtifactRegistryOptions = {}): Personality & Pick<ArtifactRegistryStandIn, "quotaUsed" | "openNextWindow"> => {
  const quota = options.quota === undefined ? undefined : makeQuota(options.quota)
  return {
    answer: (request) => {
      const repository = repositoryOf(request.route)
      const project = repository?.split("/")[0]
      if (quota !== undefined && project !== undefined && !quota.admit(project)) {
        const retryAfter = options.quota?.retryAfterSeconds
        return registryError(429, "TOOMANYREQUESTS", quotaMessage, retryAfter === undefined ? {} : { headers: { "retry-after": String(retryAfter) } })
      }
      if (request.method === "POST" && !request.headers.has("content-length") && !request.headers.has("transfer-encoding")) {
        return lengthRequired
      }
      if (request.route.kind === "upload" && request.method === "PATCH") {
        return registryError(405, "UNSUPPORTED", "The operation is unsupported.")
      }
      return undefined
    },
    quotaUsed: (project) => quota?.used(project) ?? 0,
    openNextWindow: () => quota?.reset()
  }
}

/** Starts an Artifact Registry stand-in. */
export const startArtifactRegistry = async (options: ArtifactRegistryOptions = {}): Promise<ArtifactRegistryStandIn> => {
  const personality = artifactRegistry(options)
  const standIn = await startStandIn(personality, options)
  return { ...standIn, quotaUsed: personality.quotaUsed, openNextWindow: personality.openNextWindow }
}
