/**
 * The Keychain: "which credentials for this registry endpoint". The client asks it once per
 * endpoint and sends what it gets (Basic, a registry token, or an identity token exchanged at
 * the token realm); how an answer is found (files, helpers, cloud identities) is the caller's.
 */
import { Context, Data, Effect, Layer, Option } from "effect"
import type { Redacted } from "effect"
import { Unauthorized } from "../model/Errors.ts"
import type { Endpoint } from "../model/Location.ts"

/**
 * Credentials for one registry. Secrets are Redacted so they never print. `expiresAt` (epoch
 * ms on Effect's Clock) marks short-lived ones (a cloud token): a keychain asks again before then.
 */
export type Credential =
  & (
    | { readonly _tag: "Basic"; readonly username: string; readonly password: Redacted.Redacted<string> }
    /** a registry token sent as `Authorization: Bearer` without a token exchange */
    | { readonly _tag: "RegistryToken"; readonly token: Redacted.Redacted<string> }
    /** an OAuth2 refresh token, exchanged at the token realm */
    | { readonly _tag: "IdentityToken"; readonly username: string; readonly token: Redacted.Redacted<string> }
  )
  & { readonly expiresAt?: number }

/** A source of credentials could not answer when it should have (an unreadable file, a helper that crashed, no cloud identity). */
export class CredentialsFailed extends Data.TaggedError("CredentialsFailed")<{
  readonly provider: string
  readonly detail: string
  /** the source found no identity, or its issuer refused it: the registry will refuse us (Unauthorized) */
  readonly unauthorized?: boolean
}> {
  override get message() {
    return `credentials (${this.provider}): ${this.detail}`
  }
}

/** The Unauthorized that a source's refusal (`unauthorized: true`) means for a request to `registry`. */
export const refusedBy = (e: CredentialsFailed, registry: string): Unauthorized =>
  new Unauthorized({ registry, status: 401, detail: `${e.provider}: ${e.detail}` })

/** What the client needs of a keychain. */
export interface KeychainShape {
  /** the credentials for `endpoint`; None: go anonymous */
  readonly lookup: (endpoint: Endpoint) => Effect.Effect<Option.Option<Credential>, CredentialsFailed>
}

/** The Keychain service. */
export class Keychain extends Context.Tag("image-syncer/oci/Keychain")<Keychain, KeychainShape>() {
  /** No credentials anywhere. */
  static anonymous: Layer.Layer<Keychain> = Layer.succeed(Keychain, { lookup: () => Effect.succeed(Option.none()) })

  /** Fixed credentials per registry host (`host[:port]`), anonymous elsewhere. */
  static fromHosts(credentials: Readonly<Record<string, Credential>>): Layer.Layer<Keychain> {
    return Layer.succeed(Keychain, { lookup: (endpoint) => Effect.succeed(Option.fromNullable(credentials[endpoint.host])) })
  }
}
