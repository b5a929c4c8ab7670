/**
 * Example third-party transport for `--transport examples/custom-transport/transport.ts`:
 * "mirror-logging" moves images exactly like the built-in `oci` transport and, after each
 * successful copy, appends one JSON line to the file named by `CUSTOM_TRANSPORT_LOG` (no
 * variable, no log). Copy the file and change `copy` (or any other method) to build your own.
 */
import { Effect, Layer } from "effect"
import { appendFile } from "node:fs/promises"
// Adjust these paths if you copy the file out of the image-syncer checkout.
import * as Oci from "../../plugins/transports/oci.ts"
import { TransportFailure } from "../../src/model/Errors.ts"
import { describeLocation } from "../../src/model/Location.ts"
import type { ImageLocation } from "../../src/model/Location.ts"
import type { ManifestDescriptor, RawManifest } from "../../src/model/Manifest.ts"
import { Transport } from "../../src/transport/Transport.ts"
import type { CopyResult } from "../../src/transport/Transport.ts"

/** One line of the copy log. */
export interface CopyLogEntry {
  readonly transport: "mirror-logging"
  readonly source: string
  readonly target: string
  readonly digest: string
  readonly mediaType: string
  readonly blobsCopied: number
  readonly blobsMounted: number
  readonly blobsSkipped: number
  readonly bytesCopied: number
  readonly at: string
}

/** Appends one entry to the log file; a log that cannot be written fails the image (nothing is silently lost). */
const record = (path: string, entry: CopyLogEntry) =>
  Effect.tryPromise({
    try: () => appendFile(path, `${JSON.stringify(entry)}\n`),
    catch: (e) => new TransportFailure({ transport: "mirror-logging", detail: `cannot write ${path}: ${e instanceof Error ? e.message : String(e)}` })
  })

/** Builds the transport: the oci transport (on the run's RegistryClient) with a logging `copy`. */
export const make = Effect.gen(function*() {
  // Oci.make needs the RegistryClient, which the context of every transport layer provides.
  const oci = yield* Oci.make()
  const logPath = process.env["CUSTOM_TRANSPORT_LOG"]

  // `root` (a platform subset of an index) and `held` (blobs the run already read) are passed through: the oci copy uses them.
  const copy = (source: ImageLocation, target: ImageLocation, manifest: ManifestDescriptor, root?: RawManifest, held?: ReadonlyMap<string, Uint8Array>) =>
    oci.copy(source, target, manifest, root, held).pipe(
      Effect.tap((result: CopyResult) =>
        logPath === undefined || logPath === ""
          ? Effect.void
          : record(logPath, {
            transport: "mirror-logging",
            source: describeLocation(source),
            target: describeLocation(target),
            digest: manifest.digest,
            mediaType: manifest.mediaType,
            blobsCopied: result.blobsCopied,
            blobsMounted: result.blobsMounted,
            blobsSkipped: result.blobsSkipped,
            bytesCopied: result.bytesCopied,
            at: new Date().toISOString()
          })
      )
    )

  return Transport.of({ ...oci, name: "mirror-logging", copy })
})

/** What `--transport PATH` loads: a Layer<Transport, never, TransportContext>. */
export const layer = Layer.effect(Transport, make)
