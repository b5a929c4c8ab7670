/**
 * The credential chain of a run, in the order providers are asked: the target key file, else
 * the access token; then custom auth plugins by path; then docker `config.json` (credHelpers,
 * credsStore, auths); then Podman's auth.json; none answering means anonymous.
 */
import { Effect, Option } from "effect"
import type { Redacted } from "effect"
import type { CredentialProvider } from "../transport/Credentials.ts"
import { Exec } from "../process/Exec.ts"
import * as AccessToken from "../../plugins/auth/accessToken.ts"
import * as DockerConfig from "../../plugins/auth/dockerConfig.ts"
import * as JsonKey from "../../plugins/auth/jsonKey.ts"
import * as Podman from "../../plugins/auth/podman.ts"
import { loadAuthPlugin } from "./AuthPluginLoader.ts"

/** What the chain is built from. */
export interface CredentialSources {
  /** `--target-repo-auth-key`: sent as Basic `_json_key` to the target */
  readonly targetRepoAuthKey: Option.Option<string>
  /** `--access-token`: sent as Bearer to the target */
  readonly accessToken: Option.Option<Redacted.Redacted<string>>
  /** `--auth-plugin` module paths */
  readonly authPlugins: ReadonlyArray<string>
}

/** Reads the key file and loads the plugins now, so a bad one fails before any request. */
export const credentialChain = (sources: CredentialSources) =>
  Effect.gen(function*() {
    const providers: Array<CredentialProvider> = []
    if (Option.isSome(sources.targetRepoAuthKey)) providers.push(JsonKey.provider(yield* JsonKey.load(sources.targetRepoAuthKey.value)))
    if (Option.isSome(sources.accessToken)) providers.push(AccessToken.provider(sources.accessToken.value))
    for (const path of sources.authPlugins) providers.push(yield* loadAuthPlugin(path))
    providers.push(yield* DockerConfig.make().pipe(Effect.provide(Exec.layer)))
    const podman = yield* Podman.make
    if (Option.isSome(podman)) providers.push(podman.value)
    return providers as ReadonlyArray<CredentialProvider>
  })
