/**
 * Ping and challenge: each registry host's authentication challenge, learnt once from
 * `GET /v2/` (shared by every request that needs it, in a fiber of its own). A host whose ping
 * needs no auth skips the auth machinery — until one of its repositories answers 401 with a
 * challenge, which is then learnt and answered by every request to the host from there on.
 */
import { Clock, Effect } from "effect"
import { RegistryUnavailable } from "../../model/Errors.ts"
import type { ResponseTooLarge, TransportFailure, UnsupportedUrl } from "../../model/Errors.ts"
import type { Endpoint } from "../../model/Location.ts"
import { makeMemo } from "../../model/Memo.ts"
import { discard, readErrorText } from "./BodyReader.ts"
import { pickChallenge } from "./Challenge.ts"
import type { Challenge } from "./Challenge.ts"
import type { Exchange } from "./Exchange.ts"
import { parseRetryAfter, Retryable, retryableStatus } from "./RetryPolicy.ts"
import type { Scheme } from "./Scheme.ts"

/** What a ping can fail with, once its retries are over. */
export type PingError = RegistryUnavailable | TransportFailure | UnsupportedUrl | ResponseTooLarge

/** The challenges of a client's hosts. */
export interface Pings {
  /** the challenge of an endpoint's host (undefined: no auth needed), learnt once */
  readonly challengeFor: (endpoint: Endpoint) => Effect.Effect<Challenge | undefined, PingError>
  /** true when the ping said no auth is needed: requests go without the auth machinery */
  readonly isOpen: (endpoint: Endpoint) => boolean
  /** a 401 behind an open `/v2/`: answer this challenge from now on */
  readonly learn: (endpoint: Endpoint, challenge: Challenge) => void
}

/** The pings of one client. */
export const makePings = (
  exchange: Exchange,
  scheme: Scheme,
  retry: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>,
  stallMs: number
): Pings => {
  const pings = makeMemo<Challenge | undefined, PingError>()
  const open = new Set<string>()
  const learnt = new Map<string, Challenge>()

  const ping = (endpoint: Endpoint) =>
    Effect.gen(function*() {
      let res = yield* exchange(endpoint, "GET", `${scheme.baseUrl(endpoint)}/v2/`, {}, undefined)
      if (scheme.mayUpgrade(endpoint, res.status) && scheme.upgradeIfTls(endpoint, res.status, yield* readErrorText(res, stallMs))) {
        res = yield* exchange(endpoint, "GET", `${scheme.baseUrl(endpoint)}/v2/`, {}, undefined)
      }
      const challenge = res.status === 401 ? pickChallenge(res.headers.get("www-authenticate") ?? undefined) : undefined
      if (retryableStatus(res.status)) {
        discard(res)
        return yield* new Retryable({
          registry: endpoint.host,
          detail: `GET /v2/: HTTP ${res.status}`,
          retryAfter: parseRetryAfter(res.headers.get("retry-after") ?? undefined, yield* Clock.currentTimeMillis)
        })
      }
      discard(res)
      if (challenge === undefined) open.add(endpoint.host)
      return challenge
    })

  return {
    challengeFor: (endpoint) => {
      const known = learnt.get(endpoint.host)
      if (known !== undefined) return Effect.succeed(known)
      return pings.get(endpoint.host, () =>
        ping(endpoint).pipe(
          retry,
          Effect.catchTag("Retryable", (e) => Effect.fail(new RegistryUnavailable({ registry: endpoint.host, detail: e.detail })))
        ))
    },
    isOpen: (endpoint) => open.has(endpoint.host),
    learn: (endpoint, challenge) => {
      open.delete(endpoint.host)
      learnt.set(endpoint.host, challenge)
    }
  }
}
