/** Auth provider: a bearer token for the target (`--access-token`), sent as is without a token exchange. */
import { Effect, Option } from "effect"
import type { Redacted } from "effect"
import type { CredentialProvider } from "../../src/transport/Credentials.ts"

/** The provider: answers for the target registry only. */
export const provider = (token: Redacted.Redacted<string>): CredentialProvider => ({
  name: "access-token",
  lookup: (_host, role) => Effect.succeed(role === "target" ? Option.some({ _tag: "RegistryToken" as const, token }) : Option.none())
})
