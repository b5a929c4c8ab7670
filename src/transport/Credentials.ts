/**
 * The Credentials service: "which credentials for this registry host, on this side of the
 * sync". Auth providers (plugins/auth) each answer for some hosts and sides; the chain asks
 * them in order. It is also the registry client's Keychain: an endpoint's side picks the answer.
 */
import { Clock, Context, Effect, Layer, Option } from "effect"
import type { Role } from "../model/Location.ts"
import { shareOnce } from "../model/shareOnce.ts"
import { CredentialsFailed, Keychain, refusedBy } from "../oci/Keychain.ts"
import type { Credential } from "../oci/Keychain.ts"

export { CredentialsFailed, refusedBy }
export type { Credential }

/** One source of credentials (a plugin). */
export interface CredentialProvider {
  readonly name: string
  /** None means "not mine, ask the next provider" */
  readonly lookup: (host: string, role: Role) => Effect.Effect<Option.Option<Credential>, CredentialsFailed>
}

/** A credential that expires is asked for again this long before it does, at the latest (at half its life when that is shorter). */
export const RENEW_BEFORE_MS = 5 * 60_000

/** When to ask again for what a lookup at `now` answered (Infinity: never, this run). */
export const renewAt = (now: number, answer: Option.Option<Credential>): number => {
  const expiresAt = Option.isSome(answer) ? answer.value.expiresAt : undefined
  if (expiresAt === undefined) return Infinity
  return expiresAt - Math.min(RENEW_BEFORE_MS, Math.max(0, (expiresAt - now) / 2))
}

/** One host and side's answer: shared while in flight, kept until it is due again. */
interface Entry {
  answer: Effect.Effect<Option.Option<Credential>, CredentialsFailed>
  settled: Option.Option<Credential> | undefined
  renewAt: number
}

/** The Credentials service: the first answer of an ordered chain of providers, kept per host and side. */
export class Credentials extends Context.Tag("syncer/Credentials")<Credentials, {
  readonly lookup: (host: string, role: Role) => Effect.Effect<Option.Option<Credential>, CredentialsFailed>
  /** the provider names, in order (for --debug and docs) */
  readonly providers: ReadonlyArray<string>
}>() {
  /**
   * Asks providers in order; none answering means anonymous. An answer is kept for the run, or
   * until shortly before it expires; concurrent lookups of one host and side share one asking;
   * a failure is shared by those waiting for it, and asked again by the next lookup. Also the
   * run's Keychain.
   */
  static chain(providers: ReadonlyArray<CredentialProvider>): Layer.Layer<Credentials | Keychain> {
    const credentials = Layer.sync(Credentials, () => {
      const cache = new Map<string, Entry>()
      const ask = (host: string, role: Role) =>
        Effect.reduce(providers, Option.none<Credential>(), (found, p) => (Option.isSome(found) ? Effect.succeed(found) : p.lookup(host, role)))
      const refresh = (key: string, host: string, role: Role, now: number) => {
        const entry: Entry = { answer: Effect.succeed(Option.none()), settled: undefined, renewAt: Infinity }
        entry.answer = shareOnce(
          ask(host, role).pipe(
            Effect.tap((answer) =>
              Effect.sync(() => {
                entry.settled = answer
                entry.renewAt = renewAt(now, answer)
              })
            ),
            Effect.tapError(() => Effect.sync(() => void (cache.get(key) === entry && cache.delete(key))))
          )
        )
        cache.set(key, entry)
        return entry.answer
      }
      const lookup = (host: string, role: Role) => {
        const key = `${role} ${host}`
        const hit = cache.get(key)
        // The usual case: a lasting answer, no clock needed.
        if (hit?.settled !== undefined && hit.renewAt === Infinity) return Effect.succeed(hit.settled)
        return Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const entry = cache.get(key)
          if (entry === undefined || now >= entry.renewAt) return refresh(key, host, role, now)
          return entry.settled !== undefined ? Effect.succeed(entry.settled) : entry.answer
        })
      }
      return { lookup, providers: providers.map((p) => p.name) }
    })
    const keychain = Layer.effect(Keychain, Effect.map(Credentials, (c) => ({ lookup: (endpoint) => c.lookup(endpoint.host, endpoint.role) })))
    return Layer.provideMerge(keychain, credentials)
  }

  /** No credentials anywhere. */
  static anonymous: Layer.Layer<Credentials | Keychain> = Credentials.chain([])
}
