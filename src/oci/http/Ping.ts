/**
 * Ping and challenge: each endpoint's authentication challenge, learnt once from `GET /v2/`
 * (shared by every request that needs it, in a fiber of its own). An endpoint whose ping needs
 * no auth skips the auth machinery — until one of its repositories answers 401 with a
 * challenge, which is then learnt and answered from there on.
 */
import { Clock, Effect } from "effect"
import { RegistryUnavailable } from "../../model/Errors.ts"
import type { ResponseTooLarge, TransportFailure, UnsupportedUrl } from "../../model/Errors.ts"
import type { Endpoint } from "../../model/Location.ts"
import { shareOnce } from "../../model/shareOnce.ts"
import { readErrorText } from "./BodyReader.ts"
import { pickChallenge } from "./Challenge.ts"
import type { Challenge } from "./Challenge.ts"
import type { Exchange } from "./Exchange.ts"
import { parseRetryAfter, Retryable, retryableStatus } from "./RetryPolicy.ts"
import type { Scheme } from "./Scheme.ts"

/** What a ping can fail with, once its retries are over. */
export type PingError = RegistryUnavailable | TransportFailure | UnsupportedUrl | ResponseTooLarge

/** The challenges of a client's endpoints. */
export interface Pings {
  /** the challenge of an endpoint (undefined: no auth needed), learnt once */
  readonly challengeFor: (endpoint: Endpoint) => Effect.Effect<Challenge | undefined, PingError>
  /** true when the ping said no auth is needed: requests go without the auth machinery */
  readonly isOpen: (endpoint: Endpoint) => boolean
  /** a 401 behind an open `/v2/`: answer this challenge from now on */
  readonly learn: (endpoint: Endpoint, challenge: Challenge) => void
}

const keyOf = (e: Endpoint) => `${e.role} ${e.host}`

/** The pings of one client. */
export const makePings = (
  exchange: Exchange,
  scheme: Scheme,
  retry: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>,
  stallMs: number
): Pings => {
  const pings = new Map<string, Effect.Effect<Challenge | undefined, PingError>>()
  const open = new Set<string>()

  const ping = (endpoint: Endpoint) =>
    Effect.gen(function*() {
      let res = yield* exchange(endpoint, "GET", `${scheme.baseUrl(endpoint)}/v2/`, {}, undefined)
      if (scheme.mayUpgrade(endpoint, res.status) && scheme.upgradeIfTls(endpoint, res.status, yield* readErrorText(res, stallMs))) {
        res = yield* exchange(endpoint, "GET", `${scheme.baseUrl(endpoint)}/v2/`, {}, undefined)
      }
      if (res.status === 401) return pickChallenge(res.headers["www-authenticate"])
      if (retryableStatus(res.status)) {
        return yield* new Retryable({
          registry: endpoint.host,
          detail: `GET /v2/: HTTP ${res.status}`,
          retryAfter: parseRetryAfter(res.headers["retry-after"], yield* Clock.currentTimeMillis)
        })
      }
      return undefined
    })

  const challengeFor = (endpoint: Endpoint) => {
    const key = keyOf(endpoint)
    const cached = pings.get(key)
    if (cached) return cached
    const memo = shareOnce(
      ping(endpoint).pipe(
        retry,
        Effect.catchTag("Retryable", (e) => Effect.fail(new RegistryUnavailable({ registry: endpoint.host, detail: e.detail }))),
        // A failed ping is asked again next time.
        Effect.tapError(() => Effect.sync(() => pings.delete(key))),
        Effect.tap((challenge) => Effect.sync(() => void (challenge === undefined && open.add(key))))
      )
    )
    pings.set(key, memo)
    return memo
  }

  return {
    challengeFor,
    isOpen: (endpoint) => open.has(keyOf(endpoint)),
    learn: (endpoint, challenge) => {
      open.delete(keyOf(endpoint))
      pings.set(keyOf(endpoint), Effect.succeed(challenge))
    }
  }
}
