/** The pipeline wired to the oci transport and a credential chain: the one place layers are composed. */
import { Layer } from "effect"
import type { HttpClient } from "@effect/platform"
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

/** What a run needs to be wired. */
export interface LiveOptions {
  readonly dryRun: boolean
  readonly concurrency: number
  /** asked in order; none answering means anonymous */
  readonly credentials: ReadonlyArray<CredentialProvider>
  /** defaults to the oci transport */
  readonly transport?: Layer.Layer<Transport, never, RegistryClient>
  readonly sign?: Layer.Layer<Sign>
  readonly http?: RegistryHttpSettings
}

/** The registry client stack (HTTP, auth, retries), read-only in a dry run. */
export const registryClientLayer = (options: Pick<LiveOptions, "dryRun" | "credentials" | "http">) => {
  const http = options.http ?? defaultRegistryHttpSettings
  return RegistryClient.layer({ readOnly: options.dryRun, retry: http.retry }).pipe(
    Layer.provide(RegistryHttp.layer(http)),
    Layer.provide(Credentials.chain(options.credentials))
  )
}

/** The whole pipeline; only the platform HttpClient is left to provide. */
export const pipelineLayer = (options: LiveOptions): Layer.Layer<Pipeline, never, HttpClient.HttpClient> => {
  const transport = (options.transport ?? OciTransport.layer()).pipe(Layer.provide(registryClientLayer(options)))
  const steps = Layer.mergeAll(Resolve.layer, CheckTarget.layer, Copy.layer).pipe(Layer.provide(transport))
  return Pipeline.layer.pipe(
    Layer.provide(Layer.mergeAll(steps, Compare.layer, options.sign ?? Sign.none)),
    Layer.provide(SyncSettings.layer({ dryRun: options.dryRun, concurrency: options.concurrency }))
  )
}
