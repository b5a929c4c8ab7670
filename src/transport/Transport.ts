/**
 * The Transport service: the one seam through which every registry or layout read and write
 * goes — manifests, small blobs (configs, signature payloads), referrers, tags, and whole-image
 * copies. The pipeline's rules (immutability, conflicts, dry run, report, signing) never live
 * here; a transport only answers "what is there", "store this" and "copy this".
 */
import { Context } from "effect"
import type { Effect, Layer, Option } from "effect"
import type { Exec } from "../process/Exec.ts"
import type { Credentials } from "./Credentials.ts"
import type { RegistryClients } from "./RegistryClients.ts"
import { TransportFailure } from "../model/Errors.ts"
import type { TransportError } from "../model/Errors.ts"
import { describeLocation } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import type { ManifestDescriptor, RawManifest } from "../model/Manifest.ts"

/** What a copy did, for the report and the benchmark. */
export interface CopyResult {
  readonly blobsCopied: number
  readonly blobsMounted: number
  readonly blobsSkipped: number
  readonly bytesCopied: number
  readonly manifestsPut: number
}

/** A copy that moved nothing; `manifestsPut`: the manifests it wrote (a tag, say) all the same. */
export const noCopy = (manifestsPut = 0): CopyResult => ({ blobsCopied: 0, blobsMounted: 0, blobsSkipped: 0, bytesCopied: 0, manifestsPut })

/** The Transport service interface. Locations carry their side (`endpoint.role`): a transport may read sources and write targets in different places. */
export interface TransportShape {
  readonly name: string
  /** digest, media type and size of the manifest at `image`; None when absent. Uses HEAD where possible. */
  readonly inspect: (image: ImageLocation) => Effect.Effect<Option.Option<ManifestDescriptor>, TransportError>
  /** the exact manifest bytes, verified against a digest reference */
  readonly manifest: (image: ImageLocation) => Effect.Effect<RawManifest, TransportError>
  /** a small blob (an image config, a signature payload), verified against its digest */
  readonly blob: (image: ImageLocation, digest: string) => Effect.Effect<Uint8Array, TransportError>
  /** the OCI 1.1 referrers index of `digest`; None when there is no referrers API (then the fallback tag is used) */
  readonly referrers: (image: ImageLocation, digest: string) => Effect.Effect<Option.Option<RawManifest>, TransportError>
  /** every tag of the repository of `image` (its reference is ignored), across every page; empty when the repository does not exist */
  readonly listTags: (image: ImageLocation) => Effect.Effect<ReadonlyArray<string>, TransportError>
  /** stores a manifest (everything it references must be there); returns its digest */
  readonly putManifest: (image: ImageLocation, bytes: Uint8Array, mediaType: string) => Effect.Effect<string, TransportError>
  /** stores a small blob held in memory; nothing is written when it is already there */
  readonly putBlob: (image: ImageLocation, digest: string, bytes: Uint8Array) => Effect.Effect<void, TransportError>
  /**
   * copies `manifest` and all it references from `source` to `target`; the tag is written last.
   * `root`: an index of our own to write as `manifest` (a platform subset), its children read
   * from `source` — only for a transport with `ownIndexes`; or the source manifest itself, as
   * already read. `held`: source blobs already read and verified (by digest), written from these
   * bytes instead of being read again; a transport may ignore it.
   */
  readonly copy: (
    source: ImageLocation,
    target: ImageLocation,
    manifest: ManifestDescriptor,
    root?: RawManifest,
    held?: ReadonlyMap<string, Uint8Array>
  ) => Effect.Effect<CopyResult, TransportError>
  /** true when `copy` can write an index of our own (`root`): what `platforms` needs; checked before any request */
  readonly ownIndexes?: boolean
}

/** What a transport without `ownIndexes` answers when handed a `root` anyway (the CLI refuses such runs first). */
export const ownIndexRefused = (transport: string, target: ImageLocation): TransportFailure =>
  new TransportFailure({
    transport,
    detail: `cannot write a platform subset to ${describeLocation(target)}: it copies an index whole (use the oci transport)`
  })

/** The Transport service tag. */
export class Transport extends Context.Tag("syncer/Transport")<Transport, TransportShape>() {}

/** What a transport layer may use when it is built: the registry clients, the credential chain, the process runner. */
export type TransportContext = RegistryClients | Credentials | Exec

/** A transport layer, as every transport module exports it. */
export type TransportLayer = Layer.Layer<Transport, never, TransportContext>

/** The method names every Transport has (checked when a module is loaded by path). */
export const TRANSPORT_METHODS = ["inspect", "manifest", "blob", "referrers", "listTags", "putManifest", "putBlob", "copy"] as const
