/** Auth provider: anonymous. It answers "no credentials" for every host; it ends every chain. */
import { Effect, Option } from "effect"
import type { CredentialProvider } from "../../src/transport/Credentials.ts"

/** The provider. */
export const provider: CredentialProvider = {
  name: "anonymous",
  lookup: () => Effect.succeed(Option.none())
}
