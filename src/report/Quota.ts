/**
 * Pull quotas in the report and the summary: per registry, the manifest GETs this run made
 * (pulls, on Docker Hub) and what the registry said is left of its limit.
 */
import type { QuotaState } from "../oci/http/PullQuota.ts"
import { formatDuration } from "./Units.ts"

/** One registry in the report's `registries`. */
export interface RegistryQuotaReport {
  readonly manifestGets: number
  readonly limit?: number
  readonly remaining?: number
  readonly windowSeconds?: number
  /** set when the pull limit was reached this run */
  readonly rateLimited?: true
  readonly resetAt?: string
}

/** The report's `registries`: every registry pulled from or announcing a quota. */
export const quotaReport = (book: ReadonlyMap<string, Readonly<QuotaState>>): Record<string, RegistryQuotaReport> => {
  const out: Record<string, RegistryQuotaReport> = {}
  for (const [registry, q] of [...book].sort(([a], [b]) => a.localeCompare(b))) {
    if (q.manifestGets === 0 && q.limit === undefined && q.exhausted === undefined) continue
    out[registry] = {
      manifestGets: q.manifestGets,
      ...(q.limit !== undefined ? { limit: q.limit } : {}),
      ...(q.remaining !== undefined ? { remaining: q.remaining } : {}),
      ...(q.windowSeconds !== undefined ? { windowSeconds: q.windowSeconds } : {}),
      ...(q.exhausted !== undefined ? { rateLimited: true as const } : {}),
      ...(q.exhausted ? { resetAt: q.exhausted } : {})
    }
  }
  return out
}

/** Summary lines for the registries that announce a pull limit (or hit one): pulls this run and what is left. */
export const quotaLines = (book: ReadonlyMap<string, Readonly<QuotaState>>): Array<string> => {
  const shown = [...book].filter(([, q]) => q.limit !== undefined || q.exhausted !== undefined).sort(([a], [b]) => a.localeCompare(b))
  if (shown.length === 0) return []
  const width = Math.max(...shown.map(([r]) => r.length))
  return [
    "Pull quota",
    ...shown.map(([registry, q]) => {
      const pulls = `${q.manifestGets} pull${q.manifestGets === 1 ? "" : "s"} this run`
      const left = q.exhausted !== undefined
        ? `limit reached${q.exhausted ? `, resets ${q.exhausted}` : ""}`
        : `${q.remaining ?? "?"} of ${q.limit} left${q.windowSeconds !== undefined ? ` per ${formatDuration(q.windowSeconds * 1000)}` : ""}`
      return `  ${registry.padEnd(width)}  ${pulls}; ${left}`
    })
  ]
}
