/**
 * The Credentials service: "which credentials for this registry host, on this side of the
 * sync". Auth providers (plugins/auth) each answer for some hosts and sides; the chain asks
 * them in order. It is also the registry client's Keychain: an endpoint's side picks the answer.
 */
import { Context, Effect, Layer, Option } from "effect"
import type { Role } from "../model/Location.ts"
import { makeMemo } from "../model/Memo.ts"
import { CredentialsFailed, Keychain } from "../oci/Keychain.ts"
import type { Credential } from "../oci/Keychain.ts"

export { CredentialsFailed }
export type { Credential }

/** One source of credentials (a plugin). */
export interface CredentialProvider {
  readonly name: string
  /** None means "not mine, ask the next provider" */
  readonly lookup: (host: string, role: Role) => Effect.Effect<Option.Option<Credential>, CredentialsFailed>
}

/** The Credentials service: the first answer of an ordered chain of providers, kept per host and side. */
export class Credentials extends Context.Tag("syncer/Credentials")<Credentials, {
  readonly lookup: (host: string, role: Role) => Effect.Effect<Option.Option<Credential>, CredentialsFailed>
  /** the provider names, in order (for --debug and docs) */
  readonly providers: ReadonlyArray<string>
}>() {
  /** Asks providers in order (concurrent lookups of one host and side share one walk); none answering means anonymous. Also the run's Keychain. */
  static chain(providers: ReadonlyArray<CredentialProvider>): Layer.Layer<Credentials | Keychain> {
    const credentials = Layer.sync(Credentials, () => {
      const answers = makeMemo<Option.Option<Credential>, CredentialsFailed>()
      const ask = (host: string, role: Role) => () =>
        Effect.reduce(providers, Option.none<Credential>(), (found, p) => (Option.isSome(found) ? Effect.succeed(found) : p.lookup(host, role)))
      const lookup = (host: string, role: Role) => answers.get(`${role} ${host}`, ask(host, role))
      return { lookup, providers: providers.map((p) => p.name) }
    })
    const keychain = Layer.effect(Keychain, Effect.map(Credentials, (c) => ({ lookup: (endpoint) => c.lookup(endpoint.host, endpoint.role) })))
    return Layer.provideMerge(keychain, credentials)
  }

  /** No credentials anywhere. */
  static anonymous: Layer.Layer<Credentials | Keychain> = Credentials.chain([])
}
