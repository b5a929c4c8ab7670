/**
 * Example custom auth provider for `--auth-plugin examples/custom-auth/provider.ts`: Basic
 * credentials for a registry host from two environment variables,
 * `REGISTRY_USER_<HOST>` and `REGISTRY_PASSWORD_<HOST>`, where <HOST> is the host[:port]
 * upper-cased with every other character than A-Z and 0-9 replaced by "_"
 * (`ghcr.io` → `GHCR_IO`, `127.0.0.1:5000` → `127_0_0_1_5000`). Copy it and change `lookup`.
 */
import { Effect, Option, Redacted } from "effect"
// Adjust these paths if you copy the file out of the image-syncer checkout.
import { CredentialsFailed } from "../../src/transport/Credentials.ts"
import type { Credential, CredentialProvider } from "../../src/transport/Credentials.ts"

/** "ghcr.io" → "GHCR_IO", "127.0.0.1:5000" → "127_0_0_1_5000" */
export const sanitiseHost = (host: string): string => host.toUpperCase().replace(/[^A-Z0-9]/g, "_")

/** The provider the loader looks for: it answers for any host that has both variables set. */
export const provider: CredentialProvider = {
  name: "env-credentials (REGISTRY_USER_<HOST>, REGISTRY_PASSWORD_<HOST>)",
  // `role` is "source" or "target": this example answers the same for both
  lookup: (host, _role) =>
    Effect.suspend(() => {
      const suffix = sanitiseHost(host)
      const username = process.env[`REGISTRY_USER_${suffix}`]
      const password = process.env[`REGISTRY_PASSWORD_${suffix}`]
      // None means "not mine": the next provider (docker config, podman, anonymous) is asked
      if (!username && password === undefined) return Effect.succeed(Option.none<Credential>())
      // half a configuration is a mistake worth a clear error (never print the password itself)
      if (!username || password === undefined) {
        return Effect.fail(
          new CredentialsFailed({
            provider: "env-credentials",
            detail: `set both REGISTRY_USER_${suffix} and REGISTRY_PASSWORD_${suffix}, or neither`
          })
        )
      }
      // Redacted keeps the password out of logs, errors and reports
      return Effect.succeed(Option.some<Credential>({ _tag: "Basic", username, password: Redacted.make(password) }))
    })
}
