/**
 * What every layer speaks: image results, the errors several layers share, references and
 * target naming, locations, manifests, digests, platforms, signature tag names, clouds of
 * hosts, progress events. `import { Model } from "image-syncer"`.
 */
export { cloudOf } from "../model/Cloud.ts"
export type { Cloud, CloudOptions } from "../model/Cloud.ts"
export { isDigestReference, isSha256Digest, sha256Digest } from "../model/Digest.ts"
export {
  DigestMismatch,
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
} from "../model/Errors.ts"
export type { TransportError } from "../model/Errors.ts"
export type { BlobBody, ImageStore, ResumeBudget } from "../model/ImageStore.ts"
export { describeLocation, endpointFor, withReference } from "../model/Location.ts"
export type { Endpoint, ImageLocation, RegistryOptions, Role } from "../model/Location.ts"
export { blobsOf, parseManifest, walkTree } from "../model/Manifest.ts"
export type { Descriptor, ManifestDescriptor, ParsedManifest, RawManifest } from "../model/Manifest.ts"
export { formatPlatform, parsePlatform, platformMatches } from "../model/Platform.ts"
export type { Platform } from "../model/Platform.ts"
export type { ImageEvent, ProgressEvent, Step } from "../model/Progress.ts"
export { DOCKER_HUB, formatReference, InvalidReference, isDockerHub, parseReference } from "../model/Reference.ts"
export type { ImageReference } from "../model/Reference.ts"
export { failsRun, imageResult, STATUSES } from "../model/Result.ts"
export type { ImageResult, ImageStatus } from "../model/Result.ts"
export { referrersTag, signatureTag } from "../model/Signatures.ts"
export { formatTarget, InvalidTargetPrefix, parseTargetPrefix, targetFor } from "../model/Target.ts"
export type { TargetReference } from "../model/Target.ts"
