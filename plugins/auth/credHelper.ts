/**
 * The docker credential helper protocol (oci-protocol.md §2.5): `docker-credential-<suffix> get`
 * with the server address on stdin, `{"ServerURL","Username","Secret"}` on stdout. Used by the
 * docker config provider for `credHelpers` and `credsStore`. Helpers run through Exec.
 */
import { Duration, Effect, Option, Redacted } from "effect"
import type { Context } from "effect"
import type { Credential } from "../../src/transport/Credentials.ts"
import { CredentialsFailed } from "../../src/transport/Credentials.ts"
import type { Exec, ProcessFailed } from "../../src/process/Exec.ts"
import { makeMemo } from "../../src/model/Memo.ts"

/** The Exec service's implementation (what a provider keeps after construction). */
export type Runner = Context.Tag.Service<typeof Exec>

/** Docker Hub's key in config.json and in credential stores. */
export const HUB_SERVER = "https://index.docker.io/v1/"

/** Host names that all mean Docker Hub. */
export const hubAliases: ReadonlyArray<string> = ["docker.io", "index.docker.io", "registry-1.docker.io"]

/** The username a helper returns when `Secret` is an identity (refresh) token. */
export const TOKEN_USERNAME = "<token>"

/** How long a helper may take (some fetch tokens over the network) before the lookup fails. */
export const DEFAULT_TIMEOUT: Duration.Duration = Duration.minutes(2)

/** "ecr-login" → "docker-credential-ecr-login" */
export const programOf = (suffix: string): string => `docker-credential-${suffix}`

/** The server address written to the helper: Hub's legacy URL key, else the host as is. */
export const serverAddressOf = (host: string): string => hubAliases.includes(host.toLowerCase()) ? HUB_SERVER : host

// a suffix from config.json becomes part of a program name: no paths, no shell characters
const validSuffix = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

// docker-credential-helpers' ErrCredentialsNotFound text ("credentials not found in native keychain")
const notFound = /credentials not found/i

/** Maps the helper's JSON answer to a credential; None when it holds nothing, undefined when it is not the expected JSON. */
export const parseGetOutput = (stdout: string): Option.Option<Credential> | undefined => {
  let json: unknown
  try {
    json = JSON.parse(stdout)
  } catch {
    return undefined
  }
  if (typeof json !== "object" || json === null) return undefined
  const { Username: username, Secret: secret } = json as { Username?: unknown; Secret?: unknown }
  if ((username !== undefined && typeof username !== "string") || (secret !== undefined && typeof secret !== "string")) {
    return undefined
  }
  if (!secret && !username) return Option.none()
  if (username === TOKEN_USERNAME) {
    return Option.some({ _tag: "IdentityToken", username: TOKEN_USERNAME, token: Redacted.make(secret ?? "") })
  }
  return Option.some({ _tag: "Basic", username: username ?? "", password: Redacted.make(secret ?? "") })
}

/** The last non-empty line of a text, shortened: the helper's own explanation of a failure. */
const lastLine = (text: string): string => text.split("\n").map((l) => l.trim()).filter((l) => l !== "").pop()?.slice(0, 200) ?? ""

/** Why a helper run failed, in one secret-free line (the helper's name is the error's provider). */
const describeFailure = (server: string, e: ProcessFailed): string => {
  if (e.exitCode === undefined) {
    return /ENOENT|not found|no such file/i.test(e.stderr)
      ? `not found on PATH (the docker config names it for ${server})`
      : `could not be started for ${server}: ${lastLine(e.stderr)}`
  }
  // helpers built on docker-credential-helpers print their errors on stdout; stdout that looks
  // like an answer may hold a secret, so it is never quoted
  const said = lastLine(e.stderr) || (/secret/i.test(e.stdout) ? "" : lastLine(e.stdout))
  return `get for ${server} exited with ${e.exitCode}${said ? `: ${said}` : ""}`
}

/**
 * Runs `docker-credential-<suffix> get` for a server address. "credentials not found" is
 * None; a helper that is missing, crashes, hangs or answers garbage is CredentialsFailed
 * naming the helper. Errors never contain the helper's answer.
 */
export const get = (
  exec: Runner,
  suffix: string,
  server: string,
  timeout: Duration.DurationInput = DEFAULT_TIMEOUT
): Effect.Effect<Option.Option<Credential>, CredentialsFailed> => {
  const program = programOf(suffix)
  if (!validSuffix.test(suffix)) {
    return Effect.fail(new CredentialsFailed({ provider: program, detail: "invalid credential helper name in the docker config" }))
  }
  return exec.run([program, "get"], { stdin: server }).pipe(
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () => new CredentialsFailed({ provider: program, detail: `get for ${server}: no answer within ${Duration.format(timeout)}` })
    }),
    Effect.flatMap(({ stdout }) => {
      const parsed = parseGetOutput(stdout)
      return parsed === undefined
        ? Effect.fail(new CredentialsFailed({ provider: program, detail: `get for ${server}: the answer is not the expected JSON` }))
        : Effect.succeed(parsed)
    }),
    Effect.catchTag("ProcessFailed", (e) =>
      e.exitCode !== undefined && (notFound.test(e.stdout) || notFound.test(e.stderr))
        ? Effect.succeed(Option.none<Credential>())
        : Effect.fail(new CredentialsFailed({ provider: program, detail: describeFailure(server, e) })))
  )
}

/**
 * `get` remembered per helper and server address for the life of the returned function:
 * concurrent lookups share one process, and a failed helper is not run again for every request.
 */
export const cachedGet = (
  exec: Runner,
  timeout: Duration.DurationInput = DEFAULT_TIMEOUT
): (suffix: string, server: string) => Effect.Effect<Option.Option<Credential>, CredentialsFailed> => {
  const memo = makeMemo<Option.Option<Credential>, CredentialsFailed>({ keepFailures: true })
  return (suffix, server) => memo.get(`${suffix}\n${server}`, () => get(exec, suffix, server, timeout))
}
