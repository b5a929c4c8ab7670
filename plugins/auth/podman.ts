/**
 * Auth provider: Podman's auth.json (`$REGISTRY_AUTH_FILE`, else
 * `$XDG_RUNTIME_DIR/containers/auth.json`), the same `auths` format as docker config.json.
 * No file, no provider.
 */
import { Effect, Option } from "effect"
import { stat } from "node:fs/promises"
import { join } from "node:path"
import type { CredentialProvider } from "../../src/transport/Credentials.ts"
import { fromAuths, load } from "./dockerConfig.ts"

/** Where Podman keeps credentials, from the environment; undefined when neither variable is set. */
export const authFilePath = (env: Readonly<Record<string, string | undefined>> = process.env): string | undefined => {
  if (env["REGISTRY_AUTH_FILE"]) return env["REGISTRY_AUTH_FILE"]
  if (env["XDG_RUNTIME_DIR"]) return join(env["XDG_RUNTIME_DIR"], "containers", "auth.json")
  return undefined
}

/** The provider over one auth file, if it exists (`auths` only: Podman's helpers are not run). */
export const fromFile = (path: string): Effect.Effect<Option.Option<CredentialProvider>> =>
  Effect.tryPromise(() => stat(path)).pipe(
    Effect.map((s) => s.isFile()),
    Effect.orElseSucceed(() => false),
    Effect.flatMap((exists) =>
      exists
        ? Effect.map(load(path), (file): Option.Option<CredentialProvider> =>
          Option.some({
            name: `podman (${path})`,
            lookup: (host) => Effect.succeed(fromAuths(file.auths, host))
          }))
        : Effect.succeed(Option.none())
    )
  )

/** The provider, if a file exists (the environment is read when this runs, not when imported). */
export const make: Effect.Effect<Option.Option<CredentialProvider>> = Effect.suspend(() => {
  const path = authFilePath()
  return path === undefined ? Effect.succeed(Option.none()) : fromFile(path)
})
