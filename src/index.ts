/**
 * image-syncer as a library: the pipeline (Resolve → CheckTarget → Compare → Copy → Sign), its
 * services, the layers that wire them, typed errors, the definition file, reference and target
 * naming, progress events, and the plugins (transports, auth providers, signers).
 *
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { FetchHttpClient } from "@effect/platform"
 * import { BunContext } from "@effect/platform-bun"
 * import { loadDefinition, Pipeline, pipelineLayer } from "image-syncer"
 *
 * const program = Effect.gen(function*() {
 *   const definition = yield* loadDefinition("images.yaml")
 *   return yield* Effect.flatMap(Pipeline, (p) => p.syncAll(definition))
 * }).pipe(Effect.provide(pipelineLayer({ dryRun: true, concurrency: 8, credentials: [] })),
 *   Effect.provide(Layer.merge(FetchHttpClient.layer, BunContext.layer)))
 * ```
 *
 * The CLI (`src/cli/`) is one thin caller of this API; see `examples/embed/` for another.
 */

// == The pipeline

/** The Pipeline service (`syncImage`, `syncAll`: never fail, every outcome is an `ImageResult`). */
export { Pipeline } from "./pipeline/Pipeline.ts"
export type { OnResult } from "./pipeline/Pipeline.ts"
/** One image's outcome and its status. */
export type { ImageResult, ImageStatus } from "./model/Result.ts"

/** Layers: `pipelineLayer(options)` wires the whole pipeline; `transportLayer` a transport on the run's registry client; `registryClientLayer` only the registry client stack. */
export { exportLayer, pipelineLayer, registryClientLayer, transportContextLayer, transportLayer } from "./composition/Live.ts"
export type { LiveOptions } from "./composition/Live.ts"

/** Run-wide settings (dry run, concurrency) the steps read when built. */
export { MAX_CONCURRENCY, SyncSettings } from "./pipeline/SyncSettings.ts"
export type { SyncSettingsShape } from "./pipeline/SyncSettings.ts"

// == The five steps and their errors

/** Step 1, Resolve: locate source and target, identify the source manifest. */
export { Resolve } from "./pipeline/Resolve.ts"
export type { ResolvedImage, ResolveError } from "./pipeline/Resolve.ts"

/** Step 2, CheckTarget: the digest the target tag holds, if any (HEAD only). */
export { CheckTarget } from "./pipeline/CheckTarget.ts"

/** Step 3, Compare: `"present"`, `"copy"`, or a `TagConflict` (target tags are immutable). */
export { Compare, TagConflict } from "./pipeline/Compare.ts"
export type { Decision } from "./pipeline/Compare.ts"

/** Step 4, Copy: blobs, child manifests, then the tag, through the Transport. */
export { Copy } from "./pipeline/Copy.ts"

/** Step 5, Sign: a cosign-compatible signature per target digest; upstream signatures carried (`carryUpstream`). */
export { OurSignatures, Sign } from "./pipeline/Sign.ts"
export type { OursOutcome, SignContext, SignOutcome } from "./pipeline/Sign.ts"
/** Which signatures a run writes with a key: formats (legacy `.sig`, sigstore bundle referrers, both), children, provenance (`LiveOptions.signing`). */
export { defaultSigningSettings, formatsOf, SIGNATURE_FORMATS } from "./signing/Formats.ts"
export type { SignatureFormat, SigningSettings } from "./signing/Formats.ts"
export { carryUpstream, makeCarryUpstream } from "./pipeline/Upstream.ts"
export type { CarryUpstream } from "./pipeline/Upstream.ts"
/** The key behind signing, and its error. */
export { Signer, SigningFailed } from "./signing/Signer.ts"
export type { SignerShape } from "./signing/Signer.ts"

/** Export into an OCI layout (the connected side of an air-gapped sync). */
export { LayoutExport } from "./pipeline/Export.ts"
export type { ExportedImage, ExportError } from "./pipeline/Export.ts"

// == The Transport: the one seam for registry and layout I/O

/** The Transport service, what a transport layer may use, and a transport made of two stores and the shared copy engine. */
export { TRANSPORT_METHODS, Transport } from "./transport/Transport.ts"
export type { CopyResult, TransportContext, TransportLayer, TransportShape } from "./transport/Transport.ts"
export { defaultStoreTransportSettings, storeTransport } from "./transport/StoreTransport.ts"
export type { StoreTransportSettings } from "./transport/StoreTransport.ts"
/** The copy engine (blobs, children, then the tag) and the last look at a tag before it is written. */
export { makeCopy } from "./transport/CopyTree.ts"
export { lastLook } from "./transport/TagGuard.ts"
/** Repositories made to exist before the first write (`pipelineLayer({ repositories })`), once per repository and run. */
export { noRepositories, onDemand, Repositories } from "./transport/Repositories.ts"
export type { RepositoriesShape, RepositoryCreator } from "./transport/Repositories.ts"

/** Picks a transport by built-in name or module path (as `--transport` does). */
export { builtinTransports, checkTransport, loadTransport, TransportUnusable } from "./composition/TransportLoader.ts"

// == The model

/** The errors several layers share (what a registry, layout or transport answers; what Resolve reports). */
export {
  DigestMismatch,
  formatLimit,
  ImageNotFound,
  PlatformMismatch,
  RateLimited,
  RegistryUnavailable,
  RepositoryNotFound,
  ResponseTooLarge,
  SourceNotFound,
  TagTaken,
  TransportFailure,
  Unauthorized,
  UnsupportedUrl
} from "./model/Errors.ts"
export type { TransportError } from "./model/Errors.ts"

/** Where an image is: endpoints (mirrors, http for loopback/insecure hosts), locations. */
export { describeLocation, DOCKER_HUB_API, endpointFor, withReference } from "./model/Location.ts"
export type { Endpoint, ImageLocation, RegistryOptions, Role } from "./model/Location.ts"

/** Manifests as bytes, their descriptors, and the one walk of a manifest tree. */
export { blobsOf, parseManifest, walkTree } from "./model/Manifest.ts"
export type { Descriptor, ManifestDescriptor, ParsedManifest, RawManifest } from "./model/Manifest.ts"

/** One side of a copy (a registry, a layout), as transports are built from them. */
export type { BlobBody, ImageStore, ResumeBudget } from "./model/ImageStore.ts"

/** Digests, platforms and the platform rule, signature tag names. */
export { isSha256Digest, sha256Digest } from "./model/Digest.ts"
export { configPlatform, formatPlatform, parsePlatform, platformMatches, readConfigPlatform, singlePlatformProblem, sourceShape } from "./model/Platform.ts"
export type { Platform } from "./model/Platform.ts"
export { COSIGN_SUFFIXES, referrersTag, signatureTag } from "./model/Signatures.ts"

// == Progress

/** Progress events of a run (`syncAll`'s `onEvent`), and the per-image reporter deep layers use. */
export * as Progress from "./model/Progress.ts"
export type { ImageEvent, ProgressEvent, Step } from "./model/Progress.ts"

// == The registry client and credentials

/** The registry HTTP API client (manifests, blobs, uploads, mounts) as an ImageStore, read-only in a dry run. */
export { RegistryClient } from "./oci/RegistryClient.ts"
export type { RegistryClientSettings } from "./oci/RegistryClient.ts"

/** The HTTP stack under the client: auth challenges, tokens, redirects, per-registry limits, retries. */
export { defaultRegistryHttpSettings, RegistryHttp } from "./oci/RegistryHttp.ts"
export type { RegistryHttpError, RegistryHttpSettings, RegistryRequest } from "./oci/RegistryHttp.ts"

/** The retry policy: jittered exponential backoff, capped, honouring Retry-After. */
export { defaultRetrySettings, retrySchedule } from "./oci/http/RetryPolicy.ts"
export type { RetrySettings } from "./oci/http/RetryPolicy.ts"

/** Credentials: an ordered chain of `CredentialProvider`s ("which credentials for this registry, on this side"). */
export { Credentials, CredentialsFailed } from "./transport/Credentials.ts"
export type { Credential, CredentialProvider } from "./transport/Credentials.ts"
export { RegistryClients } from "./transport/RegistryClients.ts"
export type { RegistryClientsShape } from "./transport/RegistryClients.ts"

/** Loads a custom auth provider module by path (as `--auth-plugin` does). */
export { AuthPluginUnusable, loadAuthPlugin } from "./composition/AuthPluginLoader.ts"

/** Runs external programs (skopeo, crane, credential helpers) with checked exit codes. */
export { Exec, ProcessFailed } from "./process/Exec.ts"
export type { ExecOptions, ExecResult } from "./process/Exec.ts"

// == The definition file

/** Loading and validating the definition file: every problem with file, line, column and entry, before any request. */
export { loadDefinition } from "./definition/Load.ts"
export { parseDefinition } from "./definition/Parse.ts"
export { DefinitionError, didYouMean, formatProblem } from "./definition/Problems.ts"
export type { DefinitionProblem } from "./definition/Problems.ts"
export { DefinitionFileSchema } from "./definition/Schema.ts"
export type { DefinitionFile } from "./definition/Schema.ts"
export type { Definition, ImageEntry } from "./definition/Definition.ts"
/** Where an entry is read from and where it goes. */
export { locate, sourceLocation, targetLocation } from "./definition/Locate.ts"

/** The definition file's JSON Schema, generated from `DefinitionFileSchema`. */
export { definitionJsonSchema, definitionJsonSchemaText } from "./definition/JsonSchema.ts"

// == References and target naming

/** Image references by Docker's rules (`busybox` is `docker.io/library/busybox:latest`). */
export {
  DOCKER_HUB,
  formatReference,
  InvalidReference,
  isDockerHub,
  isLoopbackHost,
  isValidRegistryHost,
  isValidTag,
  parseReference,
  repositoryPath
} from "./model/Reference.ts"
export type { ImageReference } from "./model/Reference.ts"

/** Target naming: `targetRepoPrefix` + repository path + `:` + tag. */
export { formatTarget, InvalidTargetPrefix, parseTargetPrefix, targetFor } from "./model/Target.ts"
export type { TargetReference } from "./model/Target.ts"

/** Manifest media types, descriptors and platforms. */
export * as MediaTypes from "./model/MediaTypes.ts"

// == Results for people and CI

/** Result lines, summaries, exit codes and the `--report` document, as the CLI prints them. */
export { countByStatus, exitCodeOf, formatResult, formatSummary, reportOf } from "./report/Output.ts"

/** JUnit XML of a run (one test case per image). */
export { junitXml } from "./report/JUnit.ts"
export type { JUnitMeta } from "./report/JUnit.ts"

/** The GitHub Actions job summary (Markdown) of a run. */
export { appendGithubSummary, githubSummary } from "./report/GithubSummary.ts"
export type { GithubSummaryMeta } from "./report/GithubSummary.ts"

/** Deterministic sharding of images by target (`--shard I/N`). */
export { inShard, parseShard, selectShard, shardOf } from "./definition/Shard.ts"
export type { Shard } from "./definition/Shard.ts"

/** Progress views for terminals, logs and JSON lines. */
export { makeView, resolveOutput } from "./cli/output/Views.ts"
export type { OutputMode, ProgressView, ViewOptions } from "./cli/output/Views.ts"

// == Plugins

/** Transport `oci` (default): the registry API directly; `OciTransport.layer()`. */
export * as OciTransport from "../plugins/transports/oci.ts"
/** Transport `skopeo`: copies with the skopeo binary; `SkopeoTransport.layer`. */
export * as SkopeoTransport from "../plugins/transports/skopeo.ts"
/** Transport `crane`: copies with the crane binary; `CraneTransport.layer`. */
export * as CraneTransport from "../plugins/transports/crane.ts"
/** Transport over an OCI image layout on disk (air-gapped sites); `LayoutTransport.layerFrom(path)`. */
export * as LayoutTransport from "../plugins/transports/layout.ts"

/** Auth provider: a JSON key file sent as Basic `_json_key` (`--target-repo-auth-key`). */
export * as JsonKeyAuth from "../plugins/auth/jsonKey.ts"
/** Auth provider: a bearer token for the target (`--access-token`). */
export * as AccessTokenAuth from "../plugins/auth/accessToken.ts"
/** Auth provider: docker `config.json` (auths, credHelpers, credsStore). */
export * as DockerConfigAuth from "../plugins/auth/dockerConfig.ts"
/** Auth provider: podman's `auth.json`. */
export * as PodmanAuth from "../plugins/auth/podman.ts"
/** The docker credential helper protocol (`docker-credential-<name> get`). */
export * as CredentialHelper from "../plugins/auth/credHelper.ts"
/** Auth provider: anonymous (no credentials for any host). */
export * as AnonymousAuth from "../plugins/auth/anonymous.ts"
/** Auth provider: ECR's ambient identity (`EcrAuth.provider(EcrApi.make(), registries)`); the AWS SDK is imported on first use. */
export * as EcrAuth from "../plugins/auth/ecr.ts"
/** ECR's API (GetAuthorizationToken, DescribeRepositories, CreateRepository) through @aws-sdk/client-ecr. */
export * as EcrApi from "../plugins/auth/ecrApi.ts"
/** ECR repositories created on demand: `Repositories.onDemand(EcrRepositories.creator(api, definition))`. */
export * as EcrRepositories from "../plugins/auth/ecrRepositories.ts"
/** Auth provider: Google's Application Default Credentials for Artifact Registry / GCR; google-auth-library is imported on first use. */
export * as GcpAuth from "../plugins/auth/gcp.ts"
/** Which cloud a registry host belongs to (ECR, Google, ACR host names, `cloud:`). */
export { cloudOf, ecrHost, inferredCloud } from "./model/Cloud.ts"
export type { Cloud, CloudOptions, TagMutability } from "./model/Cloud.ts"

/** Signer: a cosign key file or PKCS#8 PEM; `KeySigner.load(path, password)` then `KeySigner.layer(key, name)`. */
export * as KeySigner from "../plugins/signers/key.ts"
/** Signer: the cosign binary with a KMS reference (gcpkms://, awskms://, azurekms://, hashivault://). */
export * as CosignSigner from "../plugins/signers/cosign.ts"

/** Pull quotas as registries announce them (Docker Hub's ratelimit headers), and the run's book of them. */
export { makePullQuota, parseQuotaHeader, PullQuota } from "./oci/http/PullQuota.ts"
export type { PullQuotaShape, QuotaState } from "./oci/http/PullQuota.ts"
