/**
 * An in-memory registry store (the RegistryClient's service shape) for tests of what is built
 * on stores — the layout transports and the export: registries keyed by the host actually
 * contacted (so mirrors are visible), exact manifest bytes, and a log of every call.
 */
import { Effect, Option } from "effect"
import type { BuiltImage } from "../../demo/SampleImages.ts"
import { verifiedBody } from "../../src/model/BlobCheck.ts"
import { isDigestReference, sha256Digest } from "../../src/model/Digest.ts"
import { DigestMismatch, ImageNotFound, TransportFailure } from "../../src/model/Errors.ts"
import { describeLocation } from "../../src/model/Location.ts"
import type { Endpoint, ImageLocation } from "../../src/model/Location.ts"
import type { ManifestDescriptor, RawManifest } from "../../src/model/Manifest.ts"
import { OCI_INDEX } from "../../src/model/MediaTypes.ts"
import type { RegistryClient } from "../../src/oci/RegistryClient.ts"

/** An in-memory registry world and the store that talks to it. */
export interface FakeRegistries {
  readonly client: RegistryClient["Type"]
  /** "method host/repo[:@]ref" per call, in order; blob reads (whole or streamed) are "getBlob host/repo digest" */
  readonly calls: Array<string>
  /** stores an image built by buildImage: blobs, children by digest, top by `reference` */
  readonly push: (host: string, repository: string, reference: string, image: BuiltImage) => void
  /** stores one manifest (by digest, and by tag when `reference` is a tag) */
  readonly putRaw: (host: string, repository: string, reference: string, bytes: Uint8Array, mediaType: string) => string
  /** the referrers API answer for a digest; without one the API is "unsupported" */
  readonly setReferrers: (host: string, repository: string, digest: string, index: Uint8Array) => void
  readonly manifest: (host: string, repository: string, reference: string) => RawManifest | undefined
  readonly hasBlob: (host: string, repository: string, digest: string) => boolean
}

/** An endpoint on the given side; `registry` defaults to `host`. */
export const endpoint = (host: string, role: "source" | "target", registry = host): Endpoint => ({
  registry,
  host,
  scheme: "http",
  skipTlsVerify: false,
  role
})

/** A location in a fake registry. */
export const location = (ep: Endpoint, repository: string, reference: string): ImageLocation => ({ endpoint: ep, repository, reference })

/** Creates an empty world of registries. */
export const fakeRegistries = (): FakeRegistries => {
  const manifests = new Map<string, RawManifest>()
  const blobs = new Map<string, Uint8Array>()
  const referrers = new Map<string, Uint8Array>()
  const calls: Array<string> = []
  const repoKey = (host: string, repository: string) => `${host}/${repository}`
  const manifestKey = (host: string, repository: string, reference: string) =>
    `${repoKey(host, repository)}${isDigestReference(reference) ? "@" : ":"}${reference}`
  const blobKey = (host: string, repository: string, digest: string) => `${repoKey(host, repository)}#${digest}`
  const at = (image: ImageLocation) => manifestKey(image.endpoint.host, image.repository, image.reference)
  const repoOf = (image: ImageLocation) => repoKey(image.endpoint.host, image.repository)
  const log = (what: string) => Effect.sync(() => void calls.push(what))

  const putRaw = (host: string, repository: string, reference: string, bytes: Uint8Array, mediaType: string) => {
    const digest = sha256Digest(bytes)
    const raw = { digest, mediaType, size: bytes.length, bytes }
    manifests.set(manifestKey(host, repository, digest), raw)
    if (!isDigestReference(reference)) manifests.set(manifestKey(host, repository, reference), raw)
    return digest
  }

  const describe = (m: RawManifest): ManifestDescriptor => ({ digest: m.digest, mediaType: m.mediaType, size: m.size })
  const blobOf = (image: ImageLocation, digest: string) => Option.fromNullable(blobs.get(blobKey(image.endpoint.host, image.repository, digest)))
  const notFound = (image: ImageLocation, digest: string) => new ImageNotFound({ image: `${describeLocation(image)} blob ${digest}` })

  const client: RegistryClient["Type"] = {
    name: "fake",
    headManifest: (image) => log(`headManifest ${at(image)}`).pipe(Effect.as(Option.map(Option.fromNullable(manifests.get(at(image))), describe))),
    getManifest: (image) =>
      log(`getManifest ${at(image)}`).pipe(
        Effect.flatMap(() => {
          const m = manifests.get(at(image))
          return m ? Effect.succeed(m) : Effect.fail(new ImageNotFound({ image: describeLocation(image) }))
        })
      ),
    putManifest: (image, bytes, mediaType) =>
      log(`putManifest ${at(image)}`).pipe(Effect.as(putRaw(image.endpoint.host, image.repository, image.reference, bytes, mediaType))),
    hasBlob: (image, digest) => log(`hasBlob ${repoOf(image)} ${digest}`).pipe(Effect.as(Option.isSome(blobOf(image, digest)))),
    getBlob: (image, digest) =>
      log(`getBlob ${repoOf(image)} ${digest}`).pipe(
        Effect.flatMap(() => Option.match(blobOf(image, digest), { onNone: () => Effect.fail(notFound(image, digest)), onSome: Effect.succeed }))
      ),
    putBlob: (image, digest, bytes) =>
      log(`putBlob ${repoOf(image)} ${digest}`).pipe(
        Effect.flatMap(() => {
          const actual = sha256Digest(bytes)
          if (actual !== digest) return Effect.fail(new DigestMismatch({ what: "upload", expected: digest, actual }))
          blobs.set(blobKey(image.endpoint.host, image.repository, digest), bytes)
          return Effect.void
        })
      ),
    referrers: (image, digest) =>
      log(`referrers ${repoOf(image)} ${digest}`).pipe(
        Effect.as(Option.map(Option.fromNullable(referrers.get(manifestKey(image.endpoint.host, image.repository, digest))), (bytes) => ({
          digest: sha256Digest(bytes),
          mediaType: OCI_INDEX,
          size: bytes.length,
          bytes
        })))
      ),
    listTags: (image) =>
      log(`listTags ${repoOf(image)}`).pipe(
        Effect.as([...manifests.keys()].filter((k) => k.startsWith(`${repoOf(image)}:`)).map((k) => k.slice(repoOf(image).length + 1)))
      ),
    openBlob: (image, digest, size) =>
      log(`getBlob ${repoOf(image)} ${digest}`).pipe(
        Effect.map(() => {
          const bytes = Option.getOrUndefined(blobOf(image, digest))
          if (bytes === undefined) {
            const failure = notFound(image, digest)
            return { stream: new ReadableStream<Uint8Array>({ start: (c) => c.error(failure) }), failure: () => failure }
          }
          return verifiedBody(new Blob([bytes]).stream(), { digest, size, where: describeLocation(image) })
        })
      ),
    writeBlob: (image, digest, size, open) =>
      log(`writeBlob ${repoOf(image)} ${digest}`).pipe(
        Effect.zipRight(open()),
        Effect.flatMap((body) =>
          Effect.tryPromise({
            try: () => new Response(body.stream).arrayBuffer(),
            catch: (e) => body.failure() ?? new TransportFailure({ transport: "fake", detail: String(e) })
          })
        ),
        Effect.flatMap((buffer) => {
          const bytes = new Uint8Array(buffer)
          const actual = sha256Digest(bytes)
          if (actual !== digest || bytes.length !== size) return Effect.fail(new DigestMismatch({ what: "upload", expected: digest, actual }))
          blobs.set(blobKey(image.endpoint.host, image.repository, digest), bytes)
          return Effect.succeed(bytes.length)
        })
      ),
    mountBlob: (image, digest) => log(`mountBlob ${repoOf(image)} ${digest}`).pipe(Effect.as(false))
  }

  return {
    client,
    calls,
    putRaw,
    push: (host, repository, reference, image) => {
      for (const [digest, bytes] of image.blobs) blobs.set(blobKey(host, repository, digest), bytes)
      for (const child of image.children) putRaw(host, repository, child.digest, child.bytes, child.mediaType)
      putRaw(host, repository, reference, image.top.bytes, image.top.mediaType)
    },
    setReferrers: (host, repository, digest, index) => void referrers.set(manifestKey(host, repository, digest), index),
    manifest: (host, repository, reference) => manifests.get(manifestKey(host, repository, reference)),
    hasBlob: (host, repository, digest) => blobs.has(blobKey(host, repository, digest))
  }
}
