/**
 * Auth provider: docker `config.json` (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`). Lookup order as the Docker CLI: `credHelpers[host]`, then
 * `credsStore`, then `auths` (`auth` base64 user:pass, `username`/`password`, `identitytoken`,
 * `registrytoken`). A helper without credentials for the host falls through to the next
 * source. Used for sources and, without a key or token, the target.
 */
import { Effect, Option, Redacted } from "effect"
import { readTextCapped } from "../../src/model/InputFile.ts"
import { homedir } from "node:os"
import { join } from "node:path"
import type { Credential, CredentialProvider, CredentialsFailed } from "../../src/transport/Credentials.ts"
import { Exec, ProcessFailed } from "../../src/process/Exec.ts"
import { cachedGet, hubAliases, programOf, serverAddressOf } from "./credHelper.ts"
import type { Runner } from "./credHelper.ts"

/** One `auths` entry as written by `docker login` (or by hand). */
export interface AuthEntry {
  readonly auth?: string
  readonly username?: string
  readonly password?: string
  readonly identitytoken?: string
  readonly registrytoken?: string
}

/** The parsed parts of a docker config file that we use. */
export interface DockerConfigFile {
  readonly path: string
  /** keyed by normalised host */
  readonly auths: ReadonlyMap<string, AuthEntry>
  /** normalised host → helper suffix (`docker-credential-<suffix>`) */
  readonly credHelpers?: ReadonlyMap<string, string>
  /** the default helper suffix for every host without a `credHelpers` entry */
  readonly credsStore?: string | undefined
}

/** "https://index.docker.io/v1/" → "index.docker.io" */
export const normaliseKey = (key: string): string => key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "").toLowerCase()

/** Where the config file is, from the environment. */
export const configPath = (env: Readonly<Record<string, string | undefined>> = process.env): string =>
  join(env["DOCKER_CONFIG"] ?? join(env["HOME"] ?? homedir(), ".docker"), "config.json")

interface RawConfig {
  readonly auths?: Record<string, AuthEntry>
  readonly credHelpers?: Record<string, unknown>
  readonly credsStore?: unknown
}

/** Reads the file; a missing one is simply empty, a broken one is reported once and ignored. */
export const load = (path: string = configPath()): Effect.Effect<DockerConfigFile> =>
  Effect.tryPromise(() => readTextCapped(path)).pipe(
    Effect.flatMap((text) =>
      Effect.try(() => JSON.parse(text) as RawConfig).pipe(
        Effect.tapError(() => Effect.logWarning(`ignoring ${path}: not valid JSON`))
      )
    ),
    Effect.map((json): DockerConfigFile => {
      const auths = new Map<string, AuthEntry>()
      for (const [key, entry] of Object.entries(json?.auths ?? {})) {
        if (typeof entry === "object" && entry !== null) auths.set(normaliseKey(key), entry)
      }
      const credHelpers = new Map<string, string>()
      for (const [key, suffix] of Object.entries(json?.credHelpers ?? {})) {
        if (typeof suffix === "string" && suffix !== "") credHelpers.set(normaliseKey(key), suffix)
      }
      const credsStore = typeof json?.credsStore === "string" && json.credsStore !== "" ? json.credsStore : undefined
      return { path, auths, credHelpers, credsStore }
    }),
    Effect.orElseSucceed(() => ({ path, auths: new Map<string, AuthEntry>(), credHelpers: new Map<string, string>() }))
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

/** The keys to try for a host: itself, then (for Docker Hub) the other Hub aliases. */
export const keysOf = (host: string): ReadonlyArray<string> => {
  const h = host.toLowerCase()
  return hubAliases.includes(h) ? [h, ...hubAliases.filter((a) => a !== h)] : [h]
}

/** The first `auths` entry of a host that decodes to a credential. */
export const fromAuths = (auths: ReadonlyMap<string, AuthEntry>, host: string): Option.Option<Credential> => {
  for (const k of keysOf(host)) {
    const entry = auths.get(k)
    if (entry) {
      const c = credentialOf(entry)
      if (Option.isSome(c)) return c
    }
  }
  return Option.none()
}

/** Without a process runner (a provider built by hand), a configured helper cannot be asked. */
const noRunner: Runner = {
  run: (argv) => Effect.fail(new ProcessFailed({ argv, exitCode: undefined, stderr: "no process runner given", stdout: "" }))
}

/**
 * The provider over a loaded file. `exec` runs the credential helpers; each helper is asked
 * at most once per host for the provider's life.
 */
export const provider = (file: DockerConfigFile, exec: Runner = noRunner): CredentialProvider => {
  const helperGet = cachedGet(exec)
  const viaHelper = (suffix: string, host: string) =>
    helperGet(suffix, serverAddressOf(host)).pipe(
      Effect.tap((c) =>
        Option.isSome(c)
          ? Effect.logDebug(`credentials for ${host} from ${programOf(suffix)}`)
          : Effect.logDebug(`${programOf(suffix)} has no credentials for ${host}`)
      )
    )
  return {
    name: `docker-config (${file.path})`,
    lookup: (host): Effect.Effect<Option.Option<Credential>, CredentialsFailed> =>
      Effect.gen(function*() {
        const keys = keysOf(host)
        // Docker CLI order: a host's own helper, then the default store, then the file itself
        const helper = keys.map((k) => file.credHelpers?.get(k)).find((s) => s !== undefined)
        if (helper !== undefined) {
          const c = yield* viaHelper(helper, host)
          if (Option.isSome(c)) return c
        }
        if (file.credsStore !== undefined && file.credsStore !== helper) {
          const c = yield* viaHelper(file.credsStore, host)
          if (Option.isSome(c)) return c
        }
        return fromAuths(file.auths, host)
      })
  }
}

/** The provider from the environment's config file (what the command line uses); helpers run through Exec. */
export const make = (path: string = configPath()): Effect.Effect<CredentialProvider, never, Exec> =>
  Effect.gen(function*() {
    const exec = yield* Exec
    const file = yield* load(path)
    return provider(file, exec)
  })
