/**
 * The Credentials service: "which credentials for this registry host, on this side".
 * Auth providers (plugins/auth) each answer for some hosts; the chain asks them in order.
 */
import { Context, Data, Effect, Layer, Option } from "effect"
import type { Redacted } from "effect"
import type { Role } from "../model/Location.ts"

/** Credentials for one registry. Secrets are Redacted so they never print. */
export type Credential =
  | { readonly _tag: "Basic"; readonly username: string; readonly password: Redacted.Redacted<string> }
  /** a registry token sent as `Authorization: Bearer` without a token exchange */
  | { readonly _tag: "RegistryToken"; readonly token: Redacted.Redacted<string> }
  /** an OAuth2 refresh token, exchanged at the token realm */
  | { readonly _tag: "IdentityToken"; readonly username: string; readonly token: Redacted.Redacted<string> }

/** A provider could not produce credentials it should have (unreadable file, helper crashed). */
export class CredentialsFailed extends Data.TaggedError("CredentialsFailed")<{
  readonly provider: string
  readonly detail: string
}> {
  override get message() {
    return `credentials (${this.provider}): ${this.detail}`
  }
}

/** One source of credentials (a plugin). */
export interface CredentialProvider {
  readonly name: string
  /** None means "not mine, ask the next provider" */
  readonly lookup: (host: string, role: Role) => Effect.Effect<Option.Option<Credential>, CredentialsFailed>
}

/** The Credentials service: the first answer of an ordered chain of providers, cached per host and side. */
export class Credentials extends Context.Tag("syncer/Credentials")<Credentials, {
  readonly lookup: (host: string, role: Role) => Effect.Effect<Option.Option<Credential>, CredentialsFailed>
  /** the provider names, in order (for --debug and docs) */
  readonly providers: ReadonlyArray<string>
}>() {
  /** Asks providers in order; none answering means anonymous. */
  static chain(providers: ReadonlyArray<CredentialProvider>): Layer.Layer<Credentials> {
    return Layer.sync(Credentials, () => {
      const cache = new Map<string, Option.Option<Credential>>()
      const lookup = (host: string, role: Role) => {
        const key = `${role} ${host}`
        const hit = cache.get(key)
        if (hit) return Effect.succeed(hit)
        return Effect.reduce(providers, Option.none<Credential>(), (found, p) =>
          Option.isSome(found) ? Effect.succeed(found) : p.lookup(host, role)).pipe(
            Effect.tap((c) => Effect.sync(() => cache.set(key, c)))
          )
      }
      return { lookup, providers: providers.map((p) => p.name) }
    })
  }

  /** No credentials anywhere. */
  static anonymous: Layer.Layer<Credentials> = Credentials.chain([])
}
