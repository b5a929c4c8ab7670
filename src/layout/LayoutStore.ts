/**
 * An OCI image layout as one side of a copy (an ImageStore): read-only over a LayoutReader
 * (the air-gapped import reads its sources here), or writable over a LayoutWriter (export
 * writes its copies here). Images are named by ref name `registry/repository:tag` — the
 * location's registry identity, never its host, which may be a mirror — or found by digest.
 * A layout has no referrers API: referrers live under their fallback tag.
 */
import { Effect, Option, Stream } from "effect"
import { verifiedBody } from "../model/BlobCheck.ts"
import { isDigestReference, sha256Digest } from "../model/Digest.ts"
import { ImageNotFound, TransportFailure } from "../model/Errors.ts"
import type { DigestMismatch, TransportError } from "../model/Errors.ts"
import type { BlobBody, ImageStore } from "../model/ImageStore.ts"
import type { ImageLocation } from "../model/Location.ts"
import { mediaTypeOrFallback } from "../model/Manifest.ts"
import type { ManifestDescriptor, RawManifest } from "../model/Manifest.ts"
import type { LayoutReader } from "./LayoutReader.ts"
import type { LayoutWriter } from "./LayoutWriter.ts"
import { blobPath, REF_NAME, refNameOf, refNameOfDescriptor } from "./OciLayout.ts"
import type { LayoutIoFailed } from "./OciLayout.ts"

/**
 * The ref name a location is stored under in index.json. A reference of "@sha256:…" names the
 * digest itself (`registry/repository@sha256:…`, how export names a pinned entry); a plain
 * digest is content only, never a name.
 */
export const refNameOfLocation = (image: ImageLocation): string =>
  image.reference.startsWith("@")
    ? `${image.endpoint.registry}/${image.repository}${image.reference}`
    : refNameOf(image.endpoint.registry, image.repository, image.reference)

const failure = (name: string) => (e: LayoutIoFailed | DigestMismatch): TransportError =>
  e._tag === "LayoutIoFailed" ? new TransportFailure({ transport: name, detail: e.message }) : e

/** The tags among `refNames` of the repository of `image` ("registry/repository:tag"). */
const tagsIn = (refNames: ReadonlyArray<string>, image: ImageLocation): ReadonlyArray<string> => {
  const prefix = `${image.endpoint.registry}/${image.repository}:`
  return refNames.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)).filter((t) => !t.includes("@"))
}

/** A blob file as a verified web stream. */
const fileBody = (dir: string, digest: string, size: number, where: string): BlobBody =>
  verifiedBody(Bun.file(blobPath(dir, digest)).stream(), { digest, size, where })

/** A read-only store over an opened layout (the source of an air-gapped import). */
export const layoutSource = (layout: LayoutReader, name = `layout ${layout.dir}`): ImageStore => {
  const where = (image: ImageLocation) => `${refNameOfLocation(image)} in ${name}`
  const readOnly = (what: string, image: ImageLocation) =>
    Effect.fail(new TransportFailure({ transport: name, detail: `${what} ${where(image)}: the layout is a read-only source` }))
  const lookup = (image: ImageLocation): Option.Option<ManifestDescriptor> =>
    isDigestReference(image.reference) ? layout.byDigest(image.reference) : layout.byRefName(refNameOfLocation(image))
  const getBlob = (image: ImageLocation, digest: string) =>
    Effect.gen(function*() {
      if (!(yield* layout.hasBlob(digest))) return yield* new ImageNotFound({ image: `${where(image)} blob ${digest}` })
      return yield* layout.readBlob(digest).pipe(Effect.mapError(failure(name)))
    })
  return {
    name,
    headManifest: (image) => Effect.succeed(lookup(image)),
    getManifest: (image) =>
      Option.match(lookup(image), {
        onNone: () => Effect.fail(new ImageNotFound({ image: where(image) })),
        onSome: (d) => layout.readBlob(d.digest).pipe(Effect.mapError(failure(name)), Effect.map((bytes): RawManifest => ({ ...d, bytes })))
      }),
    putManifest: (image) => readOnly("PUT manifest", image),
    hasBlob: (_image, digest) => layout.hasBlob(digest),
    getBlob,
    putBlob: (image) => readOnly("upload", image),
    referrers: () => Effect.succeed(Option.none()),
    listTags: (image) => Effect.succeed(tagsIn(layout.refNames, image)),
    openBlob: (image, digest, size) => Effect.sync(() => fileBody(layout.dir, digest, size, where(image))),
    writeBlob: (image) => readOnly("copy into", image)
  }
}

/**
 * A writable store over a layout directory (what export writes). A manifest written under a
 * tag becomes an index.json entry named after the location, with the annotations `annotate`
 * gives for that ref name; a blob file only appears once its digest and size are verified.
 */
export const layoutTarget = (
  writer: LayoutWriter,
  annotate: (refName: string) => Readonly<Record<string, string>> = () => ({}),
  name = `layout ${writer.dir}`
): ImageStore => {
  const where = (image: ImageLocation) => `${refNameOfLocation(image)} in ${name}`
  const stored = (digest: string, fallbackMediaType: string) =>
    writer.readBlob(digest).pipe(
      Effect.map((bytes): RawManifest => ({ digest, mediaType: mediaTypeOrFallback(bytes, fallbackMediaType), size: bytes.length, bytes })),
      Effect.mapError(failure(name))
    )
  const lookup = (image: ImageLocation): Effect.Effect<Option.Option<ManifestDescriptor>> =>
    Effect.gen(function*() {
      if (isDigestReference(image.reference)) {
        const exists = yield* Effect.promise(() => Bun.file(blobPath(writer.dir, image.reference)).exists())
        if (!exists) return Option.none()
        return Option.map(Option.getRight(yield* Effect.either(stored(image.reference, ""))), ({ digest, mediaType, size }) => ({ digest, mediaType, size }))
      }
      const index = yield* writer.index
      const found = index.manifests.find((d) => refNameOfDescriptor(d) === refNameOfLocation(image))
      return found ? Option.some({ digest: found.digest, mediaType: found.mediaType, size: found.size }) : Option.none()
    })
  const putManifest = (image: ImageLocation, bytes: Uint8Array, mediaType: string) =>
    Effect.gen(function*() {
      const digest = sha256Digest(bytes)
      yield* writer.ensureBlob(digest, bytes.length, Effect.succeed(bytes)).pipe(Effect.mapError(failure(name)))
      if (!isDigestReference(image.reference)) {
        const refName = refNameOfLocation(image)
        yield* writer.putRefs([{ mediaType, digest, size: bytes.length, annotations: { [REF_NAME]: refName, ...annotate(refName) } }]).pipe(
          Effect.mapError(failure(name))
        )
      }
      return digest
    })
  const writeBlob = (image: ImageLocation, digest: string, size: number, open: () => Effect.Effect<BlobBody>) =>
    Effect.gen(function*() {
      const body = yield* open()
      const chunks = Stream.fromReadableStream(
        () => body.stream,
        (e): TransportError => body.failure() ?? new TransportFailure({ transport: name, detail: `reading blob ${digest} for ${where(image)}: ${String(e)}` })
      )
      return yield* writer.writeBlob(digest, size, chunks).pipe(
        Effect.catchTag("LayoutIoFailed", (e) => Effect.fail(failure(name)(e)))
      )
    })
  return {
    name,
    sharedBlobs: true,
    localLookups: true,
    headManifest: lookup,
    getManifest: (image) =>
      Effect.flatMap(lookup(image), (found) =>
        Option.match(found, {
          onNone: () => Effect.fail(new ImageNotFound({ image: where(image) })),
          onSome: (d) => stored(d.digest, d.mediaType)
        })),
    putManifest,
    hasBlob: (_image, digest, size) => writer.hasBlob(digest, size),
    getBlob: (image, digest) =>
      Effect.flatMap(Effect.promise(() => Bun.file(blobPath(writer.dir, digest)).exists()), (exists) =>
        exists
          ? writer.readBlob(digest).pipe(Effect.mapError(failure(name)))
          : Effect.fail(new ImageNotFound({ image: `${where(image)} blob ${digest}` }))),
    putBlob: (_image, digest, bytes) => writer.ensureBlob(digest, bytes.length, Effect.succeed(bytes)).pipe(Effect.asVoid, Effect.mapError(failure(name))),
    referrers: () => Effect.succeed(Option.none()),
    listTags: (image) =>
      Effect.map(writer.index, (index) => tagsIn(index.manifests.map(refNameOfDescriptor).filter((n): n is string => n !== undefined), image)),
    openBlob: (image, digest, size) => Effect.sync(() => fileBody(writer.dir, digest, size, where(image))),
    writeBlob
  }
}
