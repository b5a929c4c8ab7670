/** Auth provider: Podman's auth.json (`$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`). Placeholder. */
import { Effect, Option } from "effect"
import type { CredentialProvider } from "../../src/oci/Credentials.ts"

/** The provider, if a file exists. */
export const make: Effect.Effect<Option.Option<CredentialProvider>> = Effect.succeed(Option.none())
