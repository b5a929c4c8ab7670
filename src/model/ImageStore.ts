/**
 * One side of a copy: a registry (src/oci) or an OCI layout on disk (src/layout). Transports
 * are built from a store per side and the copy engine (CopyTree.ts); a store never decides
 * what to copy, only how to read and write its own content.
 */
import type { Effect, Option } from "effect"
import type { TransportError } from "./Errors.ts"
import type { ImageLocation } from "./Location.ts"
import type { ManifestDescriptor, RawManifest } from "./Manifest.ts"

/** A blob body on its way: the web stream (verified: it errors on a wrong digest or size) and the typed failure that ended it early, if any. */
export interface BlobBody {
  readonly stream: ReadableStream<Uint8Array>
  /** read once the stream has failed: why, as a typed error */
  readonly failure: () => TransportError | undefined
}

/** How many times a broken body may be resumed, shared by every try of one blob copy. */
export interface ResumeBudget {
  count: number
}

/** What the copy engine and the transports need of one side. */
export interface ImageStore {
  /** for messages: "oci", "layout images.tar" */
  readonly name: string
  /** blobs are stored once for every repository (a layout): a blob put anywhere is there for all */
  readonly sharedBlobs?: boolean
  /** asking whether a manifest or blob is there costs next to nothing (a layout on disk): the copy engine always asks first */
  readonly localLookups?: boolean
  readonly headManifest: (image: ImageLocation) => Effect.Effect<Option.Option<ManifestDescriptor>, TransportError>
  readonly getManifest: (image: ImageLocation) => Effect.Effect<RawManifest, TransportError>
  readonly putManifest: (image: ImageLocation, bytes: Uint8Array, mediaType: string) => Effect.Effect<string, TransportError>
  readonly hasBlob: (image: ImageLocation, digest: string, size: number) => Effect.Effect<boolean, TransportError>
  /** a small blob read whole, verified */
  readonly getBlob: (image: ImageLocation, digest: string) => Effect.Effect<Uint8Array, TransportError>
  /** a small blob from memory; skipped when present */
  readonly putBlob: (image: ImageLocation, digest: string, bytes: Uint8Array) => Effect.Effect<void, TransportError>
  readonly referrers: (image: ImageLocation, digest: string) => Effect.Effect<Option.Option<RawManifest>, TransportError>
  /** every tag of the repository of `image` (its reference is ignored); empty for a repository that does not exist */
  readonly listTags: (image: ImageLocation) => Effect.Effect<ReadonlyArray<string>, TransportError>
  /** a blob as a verified stream (resumed where the store can, within `budget`) */
  readonly openBlob: (image: ImageLocation, digest: string, size: number, budget: ResumeBudget) => Effect.Effect<BlobBody>
  /** writes a blob from `open()` — called again for every try — committing it only when digest and size matched; returns its size */
  readonly writeBlob: (
    image: ImageLocation,
    digest: string,
    size: number,
    open: () => Effect.Effect<BlobBody>
  ) => Effect.Effect<number, TransportError>
  /** mounts a blob from another repository of the same store; false when it could not (then it is copied) */
  readonly mountBlob?: (image: ImageLocation, digest: string, fromRepository: string) => Effect.Effect<boolean, TransportError>
}
