/** The pipeline wired to a transport and a credential chain: the one place the run's layers are composed. */
import { Effect, Layer } from "effect"
import type { CommandExecutor } from "@effect/platform"
import { Credentials } from "../transport/Credentials.ts"
import type { CredentialProvider } from "../transport/Credentials.ts"
import { RegistryClients } from "../transport/RegistryClients.ts"
import { defaultRegistryHttpSettings, RegistryHttp } from "../oci/RegistryHttp.ts"
import type { RegistryHttpSettings } from "../oci/RegistryHttp.ts"
import { CheckTarget } from "../pipeline/CheckTarget.ts"
import { Compare } from "../pipeline/Compare.ts"
import { Copy } from "../pipeline/Copy.ts"
import { Expand } from "../pipeline/Expand.ts"
import { Pipeline } from "../pipeline/Pipeline.ts"
import { Resolve } from "../pipeline/Resolve.ts"
import { Sign } from "../pipeline/Sign.ts"
import type { OurSignatures } from "../pipeline/Sign.ts"
import { SyncSettings } from "../pipeline/SyncSettings.ts"
import { TagLists } from "../pipeline/TagLists.ts"
import { PullQuota } from "../oci/http/PullQuota.ts"
import type { PullQuotaShape } from "../oci/http/PullQuota.ts"
import { Exec } from "../process/Exec.ts"
import type { Signer } from "../signing/Signer.ts"
import { defaultSigningSettings } from "../signing/Formats.ts"
import type { SigningSettings } from "../signing/Formats.ts"
import type { Repositories } from "../transport/Repositories.ts"
import type { Transport, TransportContext } from "../transport/Transport.ts"
import type { Definition } from "../definition/Definition.ts"
import type { LayoutWriter } from "../layout/LayoutWriter.ts"
import { LayoutExport, sourceAnnotations } from "../pipeline/Export.ts"
import * as LayoutTransport from "../../plugins/transports/layout.ts"
import * as OciTransport from "../../plugins/transports/oci.ts"

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
  /** with a signer: the formats, children, attestations (default: legacy `.sig` of the top digest) */
  readonly signing?: SigningSettings
  readonly http?: RegistryHttpSettings
  /** a body silent for this long is abandoned (a blob is resumed) (default 30 s) */
  readonly stallTimeoutMs?: number
  /** the run's book of pull quotas, filled by the HTTP stack (the caller reads it for the report) */
  readonly quota?: PullQuotaShape
  /** what to do about an image's error, in the caller's words (see SyncSettings) */
  readonly hint?: (error: { readonly _tag: string }) => string | undefined
  /** repositories created on demand before the first write (createRepositories); none otherwise */
  readonly repositories?: Layer.Layer<Repositories>
}

/** The registry clients of a run (one HTTP stack: auth, retries, limits; one client per side), the target read-only in a dry run. */
export const registryClientLayer = (options: Pick<LiveOptions, "dryRun" | "credentials" | "http" | "stallTimeoutMs" | "quota">) => {
  const http = options.http ?? defaultRegistryHttpSettings
  const httpLayer = RegistryHttp.layer(options.stallTimeoutMs ? { ...http, stallTimeoutMs: options.stallTimeoutMs } : http)
  return RegistryClients.layer({ dryRun: options.dryRun, retry: http.retry }).pipe(
    Layer.provide(options.quota ? httpLayer.pipe(Layer.provide(Layer.succeed(PullQuota, options.quota))) : httpLayer),
    Layer.provideMerge(Credentials.chain(options.credentials))
  )
}

/** What every transport layer may use, built once for the run: the registry client (with the credential chain) and the process runner. */
export const transportContextLayer = (options: Pick<LiveOptions, "dryRun" | "credentials" | "http" | "stallTimeoutMs" | "quota">) =>
  Layer.merge(registryClientLayer(options), Exec.layer)

/** A transport layer on the run's context; the oci transport unless another is given. */
export const transportLayer = (
  options: Pick<LiveOptions, "dryRun" | "credentials" | "http" | "stallTimeoutMs" | "transport" | "quota">
): Layer.Layer<Transport, never, CommandExecutor.CommandExecutor> =>
  (options.transport ?? OciTransport.layer()).pipe(Layer.provide(transportContextLayer(options)))

/**
 * Our signatures' service, its module (and the sigstore libraries under it) imported only now:
 * a run without a key never loads them.
 */
const oursLayer = (settings: SigningSettings): Layer.Layer<OurSignatures, never, Transport | SyncSettings | Signer> =>
  Layer.unwrapEffect(Effect.map(Effect.promise(() => import("../pipeline/OurSignatures.ts")), (m) => m.layer(settings)))

/**
 * The whole pipeline; only the platform's CommandExecutor is left to provide (registries are
 * spoken to with the platform's fetch).
 *
 * @example
 * ```ts
 * program.pipe(
 *   Effect.provide(Sync.pipelineLayer({ dryRun: false, concurrency: 8, credentials: [] })),
 *   Effect.provide(Layer.merge(FetchHttpClient.layer, BunContext.layer))
 * )
 * ```
 */
export const pipelineLayer = (
  options: LiveOptions
): Layer.Layer<Pipeline, never, CommandExecutor.CommandExecutor> => {
  // One transport (and under it one client) shared by every step: token cache, blob dedupe.
  const transport = transportLayer(options)
  const settings = SyncSettings.layer({
    dryRun: options.dryRun,
    concurrency: options.concurrency,
    measure: options.measure ?? false,
    ...(options.hint !== undefined ? { hint: options.hint } : {})
  })
  const sign = options.signer
    ? Sign.layer.pipe(Layer.provide(oursLayer(options.signing ?? defaultSigningSettings)), Layer.provide(options.signer))
    : Sign.layer
  const steps = Layer.mergeAll(Expand.layer, Resolve.layer, CheckTarget.layer, Copy.layer, sign, Compare.layer).pipe(
    // one memo of tag lists for the run: rules and signature discovery share a repository's listing
    Layer.provide(TagLists.layer),
    Layer.provide(transport),
    Layer.provideMerge(settings)
  )
  const pipeline = Pipeline.layer.pipe(Layer.provide(steps))
  return options.repositories ? pipeline.pipe(Layer.provide(options.repositories)) : pipeline
}

/**
 * The export of `definition` into the layout behind `writer`: sources read through registries
 * (and mirrors), every copy written into the layout; `tags` rules expanded on the same transport.
 */
export const exportLayer = (
  definition: Definition,
  writer: LayoutWriter,
  options: Pick<LiveOptions, "credentials" | "http" | "stallTimeoutMs">
): Layer.Layer<LayoutExport | Expand, never, CommandExecutor.CommandExecutor> =>
  Layer.merge(LayoutExport.layer, Expand.layer).pipe(
    Layer.provide(TagLists.layer),
    Layer.provide(LayoutTransport.exportLayer(writer, sourceAnnotations(definition))),
    Layer.provide(transportContextLayer({ ...options, dryRun: false }))
  )
