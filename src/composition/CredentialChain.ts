/**
 * The credential chain of a run, in the order providers are asked: the target key file, else
 * the access token; then custom auth plugins by path; then docker `config.json` (credHelpers,
 * credsStore, auths); then Podman's auth.json; then the clouds' ambient identities (ECR, Google)
 * for their hosts; none answering means anonymous.
 */
import { Effect, Option } from "effect"
import type { Redacted } from "effect"
import type { RegistryOptions } from "../model/Location.ts"
import type { CredentialProvider } from "../transport/Credentials.ts"
import { Exec } from "../process/Exec.ts"
import * as AccessToken from "../../plugins/auth/accessToken.ts"
import * as DockerConfig from "../../plugins/auth/dockerConfig.ts"
import * as Ecr from "../../plugins/auth/ecr.ts"
import * as EcrApi from "../../plugins/auth/ecrApi.ts"
import * as Gcp from "../../plugins/auth/gcp.ts"
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
  /** the definition's `registries` (their `cloud`, `region`, `registryId`); host names alone otherwise */
  readonly registries?: ReadonlyMap<string, RegistryOptions>
  /** the run's ECR API, shared with repositories created on demand; a fresh one otherwise */
  readonly ecr?: EcrApi.EcrApi
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
    // Last before anonymous; their SDKs are imported only when a host of theirs is asked for.
    const registries = sources.registries ?? new Map<string, RegistryOptions>()
    providers.push(Ecr.provider(sources.ecr ?? EcrApi.make(), registries), Gcp.provider(registries))
    return providers as ReadonlyArray<CredentialProvider>
  })
