/** Step 4, Copy: hands the resolved image to the Transport (blobs, children, then the tag). */
import { Context, Effect, Layer, Option } from "effect"
import { describeLocation, TagTaken, Transport } from "./Transport.ts"
import type { CopyResult, TransportError } from "./Transport.ts"
import type { ResolvedImage } from "./Resolve.ts"

/** The Copy service. */
export class Copy extends Context.Tag("syncer/Copy")<Copy, {
  readonly copy: (image: ResolvedImage) => Effect.Effect<CopyResult, TransportError>
}>() {
  /** The live step, on the Transport. */
  static layer = Layer.effect(
    Copy,
    Effect.map(Transport, (transport) => ({
      copy: (image: ResolvedImage) =>
        Effect.gen(function*() {
          const result = yield* transport.copy(image.source, image.target, image.manifest)
          // Whatever the transport, check what the tag holds now: a concurrent writer shows up here.
          const now = yield* transport.inspect(image.target)
          const found = Option.match(now, { onNone: () => "(nothing)", onSome: (d) => d.digest })
          if (found !== image.manifest.digest) {
            return yield* new TagTaken({ target: describeLocation(image.target), expected: image.manifest.digest, found })
          }
          return result
        })
    }))
  )
}
