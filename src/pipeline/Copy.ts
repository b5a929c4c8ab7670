/**
 * Step 4, Copy: hands the resolved image to the Transport (blobs, children, then the tag).
 * What the tag holds afterwards is the Pipeline's last check, at the end of the run.
 */
import { Context, Effect, Layer } from "effect"
import type { ResolvedImage } from "./Resolve.ts"
import type { TransportError } from "../model/Errors.ts"
import { Transport } from "../transport/Transport.ts"
import type { CopyResult } from "../transport/Transport.ts"

/** The Copy service. */
export class Copy extends Context.Tag("syncer/Copy")<Copy, {
  readonly copy: (image: ResolvedImage) => Effect.Effect<CopyResult, TransportError>
}>() {
  /** The live step, on the Transport. */
  static layer = Layer.effect(
    Copy,
    Effect.map(Transport, (transport) => ({
      // The copy is handed what the platform check already read: the manifest (to a transport that
      // writes a given root) and the config blob, so neither is read from the source twice.
      copy: (image: ResolvedImage) => {
        const fetched = image.fetched
        const held = fetched === undefined ? undefined : new Map([[fetched.config.digest, fetched.config.bytes]])
        return transport.copy(image.source, image.target, image.manifest, image.root ?? (transport.ownIndexes === true ? fetched?.manifest : undefined), held)
      }
    }))
  )
}
