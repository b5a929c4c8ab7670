/** The pipeline wired to the oci transport and a credential chain: the one place layers are composed. */
import { Layer } from "effect"
import type { CommandExecutor, HttpClient } from "@effect/platform"
import { Exec } from "../process/Exec.ts"
import { Credentials } from "../oci/Credentials.ts"
import type { CredentialProvider } from "../oci/Credentials.ts"
import { RegistryClient } from "../oci/RegistryClient.ts"
import { defaultRegistryHttpSettings, RegistryHttp } from "../oci/RegistryHttp.ts"
import type { RegistryHttpSettings } from "../oci/RegistryHttp.ts"
import * as OciTransport from "../../plugins/transports/oci.ts"
import { CheckTarget } from "./CheckTarget.ts"
import { Compare } from "./Compare.ts"
import { Copy } from "./Copy.ts"
import { Pipeline } from "./Pipeline.ts"
import { Resolve } from "./Resolve.ts"
import { Sign } from "./Sign.ts"
import { SyncSettings } from "./SyncSettings.ts"
import type { Transport } from "./Transport.ts"
import type { Signer } from "./Signer.ts"

/** What a run needs to be wired. */
export interface LiveOptions {
  readonly dryRun: boolean
  readonly concurrency: number
  /** report the size of images a dry run would copy (reads their manifests) */
  readonly measure?: boolean
  /** asked in order; none answering means anonymous */
  readonly credentials: ReadonlyArray<CredentialProvider>
  /** defaults to the oci transport */
  readonly transport?: Layer.Layer<Transport, never, TransportContext>
  /** a Signer to sign with; without one nothing is signed (upstream signatures are still carried) */
  readonly signer?: Layer.Layer<Signer>
  readonly http?: RegistryHttpSettings
  /** a blob body silent for this long is abandoned and resumed (default 30 s) */
  readonly stallTimeoutMs?: number
}

/** What a transport layer may use: the registry client, the credential chain, the process runner. */
export type TransportContext = RegistryClient | Credentials | Exec

/** The registry client stack (HTTP, auth, retries), read-only in a dry run. */
export const registryClientLayer = (options: Pick<LiveOptions, "dryRun" | "credentials" | "http" | "stallTimeoutMs">) => {
  const http = options.http ?? defaultRegistryHttpSettings
  return RegistryClient.layer({
    readOnly: options.dryRun,
    retry: http.retry,
    ...(options.stallTimeoutMs ? { stallTimeoutMs: options.stallTimeoutMs } : {})
  }).pipe(
    Layer.provide(RegistryHttp.layer(options.stallTimeoutMs ? { ...http, stallTimeoutMs: options.stallTimeoutMs } : http)),
    Layer.provideMerge(Credentials.chain(options.credentials))
  )
}

/** The whole pipeline; only the platform HttpClient is left to provide. */
export const pipelineLayer = (
  options: LiveOptions
): Layer.Layer<Pipeline, never, HttpClient.HttpClient | CommandExecutor.CommandExecutor> => {
  // One client and one transport shared by every step (token cache, blob dedupe).
  const context = Layer.merge(registryClientLayer(options), Exec.layer)
  const infra = (options.transport ?? OciTransport.layer()).pipe(Layer.provideMerge(context))
  const settings = SyncSettings.layer({ dryRun: options.dryRun, concurrency: options.concurrency, measure: options.measure ?? false })
  const sign = options.signer
    ? Sign.layer({ signer: true }).pipe(Layer.provide(options.signer))
    : (Sign.layer({ signer: false }) as Layer.Layer<Sign, never, RegistryClient | Transport | SyncSettings>)
  const steps = Layer.mergeAll(Resolve.layer, CheckTarget.layer, Copy.layer, sign, Compare.layer).pipe(
    Layer.provide(infra),
    Layer.provideMerge(settings)
  )
  return Pipeline.layer.pipe(Layer.provide(steps))
}
