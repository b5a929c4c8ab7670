/** Step 2, CheckTarget: does the target tag exist, and with which digest (HEAD, never GET). */
import { Context, Effect, Layer } from "effect"
import type { Option } from "effect"
import { Transport } from "./Transport.ts"
import type { ManifestDescriptor, TransportError } from "./Transport.ts"
import type { ResolvedImage } from "./Resolve.ts"

/** The CheckTarget service. */
export class CheckTarget extends Context.Tag("syncer/CheckTarget")<CheckTarget, {
  readonly check: (image: ResolvedImage) => Effect.Effect<Option.Option<ManifestDescriptor>, TransportError>
}>() {
  /** The live step, on the Transport. */
  static layer = Layer.effect(
    CheckTarget,
    Effect.map(Transport, (transport) => ({ check: (image: ResolvedImage) => transport.inspect(image.target) }))
  )
}
