/**
 * Bearer tokens: fetched from the challenge's realm (GET with Basic credentials, or the OAuth2
 * refresh-token POST for identity tokens), cached per endpoint, realm, service and scope set
 * for the lifetime the token service gives (renewed a little before it ends; time from
 * Effect's Clock), fetched once however many requests want the same token at the same moment,
 * forgotten when a registry refuses it, and widened when a registry asks for more scopes than
 * we did (a mount needs pull on the repository it mounts from).
 */
import { Clock, Effect, Option, Redacted } from "effect"
import { TransportFailure, Unauthorized } from "../../model/Errors.ts"
import type { ResponseTooLarge, UnsupportedUrl } from "../../model/Errors.ts"
import type { Endpoint } from "../../model/Location.ts"
import { shareOnce } from "../../model/shareOnce.ts"
import type { Credential } from "../Keychain.ts"
import { parseErrorBody } from "../RegistryError.ts"
import { basicHeader } from "./Basic.ts"
import { discard, readBody, readErrorText, TOKEN_LIMIT } from "./BodyReader.ts"
import type { Challenge } from "./Challenge.ts"
import type { Exchange } from "./Exchange.ts"
import { parseRetryAfter, Retryable, retryableStatus } from "./RetryPolicy.ts"
import { allowedUrl, displayUrl } from "./UrlPolicy.ts"

/** What getting a token can fail with (Retryable: the caller's retry decides). */
export type TokenError = Unauthorized | TransportFailure | UnsupportedUrl | ResponseTooLarge | Retryable

/** A token handed to one request. */
export interface IssuedToken {
  readonly token: Redacted.Redacted<string>
  /** fetched for this request (alone or together with others that asked at the same moment), not taken from the cache */
  readonly fresh: boolean
  /** the cache entry it came from */
  readonly key: string
}

/** The tokens of one client. */
export interface Tokens {
  /** a token for `scopes` (plus any the registry asked for before), from the cache or the realm */
  readonly token: (
    endpoint: Endpoint,
    challenge: Challenge,
    scopes: ReadonlyArray<string>,
    credential: Option.Option<Credential>
  ) => Effect.Effect<IssuedToken, TokenError>
  /** the registry refused `issued`: it is not handed out again (the next request fetches a fresh one) */
  readonly reject: (issued: IssuedToken) => void
  /** remembers the scopes a 401 asked for, so the next request of this kind asks for them at once */
  readonly remember: (endpoint: Endpoint, requested: ReadonlyArray<string>, wanted: ReadonlyArray<string>) => void
}

/** Tokens are renewed this long before they expire at most (a fifth of their lifetime when that is shorter). */
const RENEW_BEFORE_MS = 10_000

/** The lifetime of a token whose response does not say (the token spec's default). */
const DEFAULT_EXPIRES_IN_SECONDS = 60

interface CachedToken {
  readonly token: Redacted.Redacted<string>
  /** from this moment on the token is fetched again */
  readonly renewAt: number
}

/** One cache entry: the token once there, and the fetch that brings it while one runs. */
interface Entry {
  value?: CachedToken
  fetching?: Effect.Effect<CachedToken, TokenError>
}

const scopeKey = (e: Endpoint, scopes: ReadonlyArray<string>) => `${e.host} ${[...scopes].sort().join(" ")}`

/** Which credentials a token is for: tokens are shared by requests with the same credentials only. */
const identities = new WeakMap<Credential, number>()
let nextIdentity = 1
const identityOf = (credential: Option.Option<Credential>): string => {
  if (Option.isNone(credential)) return "anonymous"
  let id = identities.get(credential.value)
  if (id === undefined) {
    id = nextIdentity++
    identities.set(credential.value, id)
  }
  return `c${id}`
}

/** When a token that lives `expiresInSeconds` from `now` is renewed. */
export const renewalTime = (now: number, expiresInSeconds: number): number => {
  const lifetime = Math.max(0, expiresInSeconds) * 1000
  return now + lifetime - Math.min(RENEW_BEFORE_MS, lifetime / 5)
}

/** The token state of one client over `exchange`. */
export const makeTokens = (exchange: Exchange, stallMs: number): Tokens => {
  const entries = new Map<string, Entry>()
  const extraScopes = new Map<string, Set<string>>()

  const fetchToken = (endpoint: Endpoint, url: URL, service: string | undefined, scopes: ReadonlyArray<string>, credential: Option.Option<Credential>) =>
    Effect.gen(function*() {
      const tokenEndpoint: Endpoint = { ...endpoint, host: url.host }
      if (Option.isSome(credential) && credential.value._tag === "IdentityToken") {
        const form = new URLSearchParams({
          grant_type: "refresh_token",
          refresh_token: Redacted.value(credential.value.token),
          client_id: "image-syncer",
          scope: scopes.join(" ")
        })
        if (service) form.set("service", service)
        return yield* exchange(
          tokenEndpoint,
          "POST",
          url.toString(),
          { "content-type": "application/x-www-form-urlencoded" },
          new TextEncoder().encode(form.toString())
        )
      }
      if (service) url.searchParams.set("service", service)
      for (const s of scopes) url.searchParams.append("scope", s)
      const headers: Record<string, string> = {}
      if (Option.isSome(credential) && credential.value._tag === "Basic") {
        headers["authorization"] = basicHeader(credential.value.username, credential.value.password)
      }
      return yield* exchange(tokenEndpoint, "GET", url.toString(), headers, undefined)
    })

  /** One token from the realm, with the time to renew it. */
  const obtain = (endpoint: Endpoint, realm: string, service: string | undefined, scopes: ReadonlyArray<string>, credential: Option.Option<Credential>) =>
    Effect.gen(function*() {
      const url = yield* allowedUrl(realm, undefined, endpoint.host, "token realm of the Bearer challenge")
      const res = yield* fetchToken(endpoint, url, service, scopes, credential)
      const now = yield* Clock.currentTimeMillis
      if (res.status === 401 || res.status === 403) {
        discard(res)
        return yield* new Unauthorized({ registry: endpoint.host, status: res.status, detail: `token server ${url.host} refused the credentials` })
      }
      if (retryableStatus(res.status)) {
        return yield* new Retryable({
          registry: url.host,
          detail: `token request: HTTP ${res.status}`,
          retryAfter: parseRetryAfter(res.headers.get("retry-after") ?? undefined, now)
        })
      }
      if (res.status !== 200) {
        const body = parseErrorBody(yield* readErrorText(res, stallMs))
        return yield* new TransportFailure({
          transport: "registry",
          detail: `token server ${url.host}: HTTP ${res.status}${body.codes.length ? ` ${body.codes.join(", ")}` : ""} ${body.detail}`
        })
      }
      const bytes = yield* readBody(res, { registry: url.host, request: `GET ${displayUrl(url)}`, what: "token response", limit: TOKEN_LIMIT, stallMs })
      const body = yield* Effect.try({
        try: () => JSON.parse(new TextDecoder().decode(bytes)) as { token?: unknown; access_token?: unknown; expires_in?: unknown },
        catch: () => new TransportFailure({ transport: "registry", detail: `token server ${url.host}: invalid JSON` })
      })
      const raw = typeof body.token === "string" && body.token !== "" ? body.token : body.access_token
      if (typeof raw !== "string" || raw === "") return yield* new TransportFailure({ transport: "registry", detail: `token server ${url.host}: no token` })
      if (/[\r\n\0]/.test(raw)) {
        return yield* new TransportFailure({ transport: "registry", detail: `token server ${url.host}: the token contains a line break or NUL` })
      }
      const expiresIn = typeof body.expires_in === "number" && Number.isFinite(body.expires_in) ? body.expires_in : DEFAULT_EXPIRES_IN_SECONDS
      return { token: Redacted.make(raw), renewAt: renewalTime(now, expiresIn) }
    })

  const token: Tokens["token"] = (endpoint, challenge, requested, credential) => {
    const realm = challenge.params["realm"]
    if (!realm) return Effect.fail(new TransportFailure({ transport: "registry", detail: `${endpoint.host}: Bearer challenge without realm` }))
    const extra = extraScopes.get(scopeKey(endpoint, requested))
    const scopes = extra ? [...requested, ...[...extra].filter((s) => !requested.includes(s))] : requested
    const service = challenge.params["service"]
    const key = `${endpoint.host} ${realm} ${service ?? ""} ${identityOf(credential)} ${[...scopes].sort().join(" ")}`
    // No generator: a cached token is every request's case, and costs one step.
    return Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<IssuedToken, TokenError> => {
      const entry = entries.get(key)
      if (entry?.value !== undefined && entry.value.renewAt > now) return Effect.succeed({ token: entry.value.token, fresh: false, key })
      // Requests that want the same token at the same moment share one fetch.
      if (entry?.fetching !== undefined) return Effect.map(entry.fetching, (value) => ({ token: value.token, fresh: true, key }))
      const own: Entry = {}
      const fetching = shareOnce(
        obtain(endpoint, realm, service, scopes, credential).pipe(
          Effect.tap((value) =>
            Effect.sync(() => {
              own.value = value
              delete own.fetching
            })
          ),
          // A failed fetch is asked again by the next request.
          Effect.tapError(() => Effect.sync(() => void (entries.get(key) === own && entries.delete(key))))
        )
      )
      own.fetching = fetching
      entries.set(key, own)
      return Effect.map(fetching, (value) => ({ token: value.token, fresh: true, key }))
    })
  }

  const reject: Tokens["reject"] = (issued) => {
    const entry = entries.get(issued.key)
    // Only the token that was refused: a fresher one another request fetched meanwhile stays.
    if (entry?.value !== undefined && entry.value.token === issued.token) entries.delete(issued.key)
  }

  const remember: Tokens["remember"] = (endpoint, requested, wanted) => {
    const key = scopeKey(endpoint, requested)
    const known = extraScopes.get(key) ?? new Set<string>()
    for (const s of wanted) if (!requested.includes(s)) known.add(s)
    extraScopes.set(key, known)
  }

  return { token, reject, remember }
}
