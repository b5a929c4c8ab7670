/**
 * An in-memory RegistryClient for the layout tests: registries keyed by the host actually
 * contacted (so mirrors are visible), exact manifest bytes, and a log of every call.
 */
import { Chunk, Effect, Option, Stream } from "effect"
import type { BuiltImage } from "../../src/demo/SampleImages.ts"
import type { RegistryClient } from "../../src/oci/RegistryClient.ts"
import { sha256Digest } from "../../src/oci/RegistryClient.ts"
import { DigestMismatch, describeLocation, ImageNotFound } from "../../src/pipeline/Transport.ts"
import type { Endpoint, ImageLocation, ManifestDescriptor, RawManifest } from "../../src/pipeline/Transport.ts"

/** An in-memory registry world and the client that talks to it. */
export interface FakeRegistries {
  readonly client: RegistryClient["Type"]
  /** "method host/repo[:@]ref" per call, in order */
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

const isDigest = (reference: string) => reference.startsWith("sha256:")

/** Creates an empty world of registries. */
export const fakeRegistries = (): FakeRegistries => {
  const manifests = new Map<string, RawManifest>()
  const blobs = new Map<string, Uint8Array>()
  const referrers = new Map<string, Uint8Array>()
  const calls: Array<string> = []
  const repoKey = (host: string, repository: string) => `${host}/${repository}`
  const manifestKey = (host: string, repository: string, reference: string) =>
    `${repoKey(host, repository)}${isDigest(reference) ? "@" : ":"}${reference}`
  const blobKey = (host: string, repository: string, digest: string) => `${repoKey(host, repository)}#${digest}`
  const at = (image: ImageLocation) => manifestKey(image.endpoint.host, image.repository, image.reference)
  const log = (what: string) => Effect.sync(() => void calls.push(what))

  const putRaw = (host: string, repository: string, reference: string, bytes: Uint8Array, mediaType: string) => {
    const digest = sha256Digest(bytes)
    const raw = { digest, mediaType, size: bytes.length, bytes }
    manifests.set(manifestKey(host, repository, digest), raw)
    if (!isDigest(reference)) manifests.set(manifestKey(host, repository, reference), raw)
    return digest
  }

  const describe = (m: RawManifest): ManifestDescriptor => ({ digest: m.digest, mediaType: m.mediaType, size: m.size })

  const client: RegistryClient["Type"] = {
    headManifest: (image) =>
      log(`headManifest ${at(image)}`).pipe(Effect.as(Option.map(Option.fromNullable(manifests.get(at(image))), describe))),
    getManifest: (image) =>
      log(`getManifest ${at(image)}`).pipe(
        Effect.flatMap(() => {
          const m = manifests.get(at(image))
          return m ? Effect.succeed(m) : Effect.fail(new ImageNotFound({ image: describeLocation(image) }))
        })
      ),
    putManifest: (image, bytes, mediaType) =>
      log(`putManifest ${at(image)}`).pipe(Effect.as(putRaw(image.endpoint.host, image.repository, image.reference, bytes, mediaType))),
    hasBlob: (image, digest) =>
      log(`hasBlob ${repoKey(image.endpoint.host, image.repository)} ${digest}`).pipe(
        Effect.as(blobs.has(blobKey(image.endpoint.host, image.repository, digest)))
      ),
    getBlob: (image, digest) =>
      log(`getBlob ${repoKey(image.endpoint.host, image.repository)} ${digest}`).pipe(
        Effect.flatMap(() => {
          const b = blobs.get(blobKey(image.endpoint.host, image.repository, digest))
          return b ? Effect.succeed(b) : Effect.fail(new ImageNotFound({ image: `${describeLocation(image)} blob ${digest}` }))
        })
      ),
    blobStream: (image, digest) =>
      Stream.unwrap(client.getBlob(image, digest).pipe(Effect.map((b) => Stream.make(b)))),
    mountBlob: (image, digest) => log(`mountBlob ${repoKey(image.endpoint.host, image.repository)} ${digest}`).pipe(Effect.as(false)),
    copyBlob: (source, target, digest) =>
      log(`copyBlob ${repoKey(source.endpoint.host, source.repository)} ${digest}`).pipe(
        Effect.flatMap(() => {
          const b = blobs.get(blobKey(source.endpoint.host, source.repository, digest))
          if (!b) return Effect.fail(new ImageNotFound({ image: `${describeLocation(source)} blob ${digest}` }))
          blobs.set(blobKey(target.endpoint.host, target.repository, digest), b)
          return Effect.succeed(b.length)
        })
      ),
    referrers: (image, digest) =>
      log(`referrers ${repoKey(image.endpoint.host, image.repository)} ${digest}`).pipe(
        Effect.as(Option.map(Option.fromNullable(referrers.get(manifestKey(image.endpoint.host, image.repository, digest))), (bytes) => ({
          digest: sha256Digest(bytes),
          mediaType: "application/vnd.oci.image.index.v1+json",
          size: bytes.length,
          bytes
        })))
      ),
    uploadBlob: (image, digest, bytes) =>
      log(`uploadBlob ${repoKey(image.endpoint.host, image.repository)} ${digest}`).pipe(
        Effect.flatMap(() => {
          const actual = sha256Digest(bytes)
          if (actual !== digest) return Effect.fail(new DigestMismatch({ what: "upload", expected: digest, actual }))
          blobs.set(blobKey(image.endpoint.host, image.repository, digest), bytes)
          return Effect.void
        })
      ),
    uploadBlobStream: (image, digest, size, body) =>
      log(`uploadBlobStream ${repoKey(image.endpoint.host, image.repository)} ${digest}`).pipe(
        Effect.zipRight(Stream.runCollect(body).pipe(Effect.orDie)),
        Effect.flatMap((chunks) => {
          const bytes = new Uint8Array(Buffer.concat(Chunk.toArray(chunks)))
          const actual = sha256Digest(bytes)
          if (actual !== digest || bytes.length !== size) return Effect.fail(new DigestMismatch({ what: "upload", expected: digest, actual }))
          blobs.set(blobKey(image.endpoint.host, image.repository, digest), bytes)
          return Effect.succeed(bytes.length)
        })
      )
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
