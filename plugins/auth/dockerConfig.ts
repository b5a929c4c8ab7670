/**
 * Auth provider: docker `config.json` (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`), `auths` entries: `auth` (base64 user:pass), `username`/`password`,
 * `identitytoken`, `registrytoken`. Used for sources and, without a key or token, the target.
 */
import { Effect, Option, Redacted } from "effect"
import { readFile } from "node:fs/promises"
import { homedir } from "node:os"
import { join } from "node:path"
import type { Credential, CredentialProvider } from "../../src/oci/Credentials.ts"

interface AuthEntry {
  readonly auth?: string
  readonly username?: string
  readonly password?: string
  readonly identitytoken?: string
  readonly registrytoken?: string
}

/** The parsed parts of a docker config file that we use. */
export interface DockerConfigFile {
  readonly path: string
  readonly auths: ReadonlyMap<string, AuthEntry>
}

const hubAliases = ["docker.io", "index.docker.io", "registry-1.docker.io"]

/** "https://index.docker.io/v1/" → "index.docker.io" */
export const normaliseKey = (key: string): string => key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "").toLowerCase()

/** Where the config file is, from the environment. */
export const configPath = (env: Readonly<Record<string, string | undefined>> = process.env): string =>
  join(env["DOCKER_CONFIG"] ?? join(env["HOME"] ?? homedir(), ".docker"), "config.json")

/** Reads the file; a missing one is simply empty, a broken one is reported once and ignored. */
export const load = (path: string = configPath()): Effect.Effect<DockerConfigFile> =>
  Effect.tryPromise(() => readFile(path, "utf8")).pipe(
    Effect.flatMap((text) =>
      Effect.try(() => JSON.parse(text) as { auths?: Record<string, AuthEntry> }).pipe(
        Effect.tapError(() => Effect.logWarning(`ignoring ${path}: not valid JSON`))
      )
    ),
    Effect.map((json) => {
      const auths = new Map<string, AuthEntry>()
      for (const [key, entry] of Object.entries(json.auths ?? {})) auths.set(normaliseKey(key), entry)
      return { path, auths }
    }),
    Effect.orElseSucceed(() => ({ path, auths: new Map<string, AuthEntry>() }))
  )

/** Decodes one `auths` entry; `{}` entries (helper markers) give nothing. */
export const credentialOf = (entry: AuthEntry): Option.Option<Credential> => {
  let username = entry.username
  let password = entry.password
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8")
    const at = decoded.indexOf(":")
    if (at > 0) {
      username = decoded.slice(0, at)
      password = decoded.slice(at + 1).replace(/\0+$/, "")
    }
  }
  if (entry.registrytoken) return Option.some({ _tag: "RegistryToken", token: Redacted.make(entry.registrytoken) })
  if (entry.identitytoken) {
    return Option.some({ _tag: "IdentityToken", username: username ?? "<token>", token: Redacted.make(entry.identitytoken) })
  }
  if (username && password !== undefined) return Option.some({ _tag: "Basic", username, password: Redacted.make(password) })
  return Option.none()
}

/** The provider over a loaded file. */
export const provider = (file: DockerConfigFile): CredentialProvider => ({
  name: `docker-config (${file.path})`,
  lookup: (host) => {
    const h = host.toLowerCase()
    const keys = hubAliases.includes(h) ? [h, ...hubAliases.filter((a) => a !== h)] : [h]
    for (const k of keys) {
      const entry = file.auths.get(k)
      if (entry) {
        const c = credentialOf(entry)
        if (Option.isSome(c)) return Effect.succeed(c)
      }
    }
    return Effect.succeed(Option.none())
  }
})

/** The provider from the environment's config file (what the command line uses). */
export const make = (path: string = configPath()) => Effect.map(load(path), provider)
