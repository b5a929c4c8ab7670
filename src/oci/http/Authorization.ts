/**
 * What a registry request carries for auth, and what a 401 means for the next try: decided by
 * what the registry asked for so far — no credentials for an open `/v2/`; Basic or a registry
 * token as the keychain gives them; a Bearer token from the realm otherwise — and, on a 401, a
 * challenge learnt for the whole host, a wider scope, or a refused token dropped for a fresh one.
 */
import { Effect, Option, Redacted } from "effect"
import { TransportFailure, Unauthorized } from "../../model/Errors.ts"
import type { RegistryUnavailable, ResponseTooLarge, UnsupportedUrl } from "../../model/Errors.ts"
import type { Endpoint } from "../../model/Location.ts"
import { refusedBy } from "../Keychain.ts"
import type { KeychainShape } from "../Keychain.ts"
import { parseErrorBody } from "../RegistryError.ts"
import { basicHeader } from "./Basic.ts"
import type { IssuedToken, Tokens } from "./Bearer.ts"
import { readErrorText } from "./BodyReader.ts"
import { challengeScopes, pickChallenge, scopeCovered } from "./Challenge.ts"
import type { Pings } from "./Ping.ts"
import type { Retryable } from "./RetryPolicy.ts"

/** What getting a request's credentials can fail with (Retryable: the caller's retry decides). */
export type AuthError = Unauthorized | RegistryUnavailable | TransportFailure | UnsupportedUrl | ResponseTooLarge

/** What a request carries for auth: the header, the token it came from, and whether the auth machinery was skipped (an open registry). */
export interface Auth {
  readonly header: string | undefined
  readonly issued?: IssuedToken
  /** the registry's `/v2/` needed no auth when the request went out, so no credentials were looked for */
  readonly skipped: boolean
}

const SKIPPED: Auth = { header: undefined, skipped: true }
const NONE: Auth = { header: undefined, skipped: false }
const SKIP = Effect.succeed(SKIPPED)

/** The auth decisions of one HTTP stack. */
export const makeAuthorization = (stack: { readonly keychain: KeychainShape; readonly pings: Pings; readonly tokens: Tokens; readonly stallMs: number }) => {
  const { keychain, pings, tokens, stallMs } = stack
  const lookupCredential = (endpoint: Endpoint) =>
    keychain.lookup(endpoint).pipe(
      Effect.catchTag("CredentialsFailed", (e) =>
        Effect.fail(e.unauthorized === true ? refusedBy(e, endpoint.host) : new TransportFailure({ transport: e.provider, detail: e.detail })))
    )

  /** What a request carries for auth, decided by what the registry asked for so far (no step at all for an open registry). */
  const authorization = (endpoint: Endpoint, scopes: ReadonlyArray<string>): Effect.Effect<Auth, AuthError | Retryable> =>
    pings.isOpen(endpoint) ?
      SKIP :
      Effect.flatMap(pings.challengeFor(endpoint), (challenge) =>
        challenge === undefined ? SKIP : Effect.flatMap(lookupCredential(endpoint), (credential): Effect.Effect<Auth, AuthError | Retryable> => {
          if (Option.isSome(credential) && credential.value._tag === "RegistryToken") {
            return Effect.succeed({ header: `Bearer ${Redacted.value(credential.value.token)}`, skipped: false })
          }
          if (challenge.scheme === "basic") {
            return Effect.succeed(
              Option.isSome(credential) && credential.value._tag === "Basic"
                ? { header: basicHeader(credential.value.username, credential.value.password), skipped: false }
                : NONE
            )
          }
          return Effect.map(
            tokens.token(endpoint, challenge, scopes, credential),
            (issued) => ({ header: `Bearer ${Redacted.value(issued.token)}`, issued, skipped: false })
          )
        }))

  /**
   * A 401 that one more try can answer: the scopes to try again with, or undefined. The
   * decision belongs to the registry, not to the request that met it: a challenge behind an
   * open `/v2/` is learnt for every request to the host; a token the registry refused is
   * forgotten (unless it was fetched just now: then the credentials are what it refused).
   */
  const reauthenticate = (endpoint: Endpoint, requested: ReadonlyArray<string>, scopes: ReadonlyArray<string>, auth: Auth, header: string | undefined) => {
    const challenge = pickChallenge(header)
    if (challenge === undefined) return undefined
    const wanted = challengeScopes(challenge)
    if (auth.skipped) {
      // `/v2/` was open but this repository is not: answer this challenge from now on.
      pings.learn(endpoint, challenge)
      return [...wanted, ...scopes.filter((s) => !wanted.includes(s))]
    }
    if (challenge.scheme !== "bearer" || auth.issued === undefined) return undefined
    // The registry may want more scopes than we asked for (a mount needs pull on `from`).
    const missing = wanted.filter((s) => !scopeCovered(scopes, s))
    if (missing.length > 0) {
      tokens.remember(endpoint, requested, missing)
      return [...missing, ...scopes]
    }
    if (auth.issued.fresh) return undefined
    tokens.reject(auth.issued)
    return scopes
  }

  /** Why the registry refused: its codes and words, and what we sent. */
  const refused = (endpoint: Endpoint, res: Response, auth: Auth) =>
    Effect.map(readErrorText(res, stallMs), (text) => {
      const body = parseErrorBody(text)
      const words = [body.codes.join(", "), body.detail].filter((w) => w !== "").join(": ")
      const anonymous = auth.header === undefined
      return new Unauthorized({
        registry: endpoint.host,
        status: res.status,
        detail: anonymous ? `no credentials found for ${endpoint.host}${words ? `; ${words}` : ""}` : words,
        anonymous,
        codes: body.codes
      })
    })

  return { authorization, reauthenticate, refused }
}
