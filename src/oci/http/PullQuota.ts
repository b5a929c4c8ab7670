/**
 * Pull quotas, as registries announce them (Docker Hub: `ratelimit-limit: 100;w=21600`,
 * `ratelimit-remaining: 92;w=21600` on manifest responses, HEADs included, which cost no
 * pull): what each registry says is left, how many manifest GETs this run made, and whether
 * the limit was hit — after a pull-limit 429 no manifest GET goes to that registry again this
 * run, its remaining images fail at once with RateLimited.
 */
import { Context, Layer } from "effect"

/** What a run knows of one registry's pull quota. */
export interface QuotaState {
  /** manifest GETs this run made (each one is a pull on Docker Hub) */
  manifestGets: number
  /** the registry's limit for its window, if it announced one */
  limit: number | undefined
  /** what it said was left at its last answer */
  remaining: number | undefined
  /** the window in seconds (`w=`) */
  windowSeconds: number | undefined
  /** set once a pull-limit 429 came: when it resets (ISO), or "" when it did not say */
  exhausted: string | undefined
}

/** `100;w=21600` → 100 and 21600. */
export const parseQuotaHeader = (value: string | undefined): { readonly count: number; readonly windowSeconds: number | undefined } | undefined => {
  if (value === undefined) return undefined
  const [count, ...params] = value.split(";").map((p) => p.trim())
  const n = Number(count)
  if (count === undefined || count === "" || !Number.isFinite(n) || n < 0) return undefined
  const w = params.find((p) => p.startsWith("w="))
  const seconds = w === undefined ? undefined : Number(w.slice(2))
  return { count: n, windowSeconds: seconds !== undefined && Number.isFinite(seconds) ? seconds : undefined }
}

/** The quota book of a run, keyed by registry identity ("docker.io"). */
export interface PullQuotaShape {
  /** notes the quota headers of an answer from `registry` */
  readonly observe: (registry: string, headers: Headers | Readonly<Record<string, string | undefined>>) => void
  /** counts one manifest GET to `registry` */
  readonly countGet: (registry: string) => void
  /** marks the pull limit of `registry` as reached, resetting at `resetAt` (ISO) if known */
  readonly exhaust: (registry: string, resetAt: string | undefined) => void
  /** when the limit of `registry` was reached this run: its reset time ("" if unknown); undefined while not */
  readonly exhausted: (registry: string) => string | undefined
  /** every registry that announced a quota, was pulled from, or hit its limit */
  readonly snapshot: () => ReadonlyMap<string, Readonly<QuotaState>>
}

/** A fresh book. */
export const makePullQuota = (): PullQuotaShape => {
  const book = new Map<string, QuotaState>()
  const entry = (registry: string): QuotaState => {
    let state = book.get(registry)
    if (state === undefined) {
      state = { manifestGets: 0, limit: undefined, remaining: undefined, windowSeconds: undefined, exhausted: undefined }
      book.set(registry, state)
    }
    return state
  }
  return {
    observe: (registry, headers) => {
      const header = (name: string) => (headers instanceof Headers ? headers.get(name) ?? undefined : headers[name])
      const limit = parseQuotaHeader(header("ratelimit-limit"))
      const remaining = parseQuotaHeader(header("ratelimit-remaining"))
      if (limit === undefined && remaining === undefined) return
      const state = entry(registry)
      if (limit !== undefined) {
        state.limit = limit.count
        state.windowSeconds = limit.windowSeconds ?? state.windowSeconds
      }
      if (remaining !== undefined) state.remaining = remaining.count
    },
    countGet: (registry) => void entry(registry).manifestGets++,
    exhaust: (registry, resetAt) => {
      const state = entry(registry)
      state.exhausted = resetAt ?? ""
      state.remaining = 0
    },
    exhausted: (registry) => book.get(registry)?.exhausted,
    snapshot: () => book
  }
}

/** The run's quota book, shared by the HTTP stack (which fills it) and the report (which shows it). */
export class PullQuota extends Context.Tag("syncer/PullQuota")<PullQuota, PullQuotaShape>() {
  /** A fresh book per run. */
  static layer = Layer.sync(PullQuota, makePullQuota)
}
