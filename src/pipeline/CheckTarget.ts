/** Step 2, CheckTarget: does the target tag exist, and with which digest (HEAD, never GET). */
import { Context, Effect, Layer } from "effect"
import type { Option } from "effect"
import type { TransportError } from "../model/Errors.ts"
import type { ImageLocation } from "../model/Location.ts"
import type { ManifestDescriptor } from "../model/Manifest.ts"
import { Transport } from "../transport/Transport.ts"

/** The CheckTarget service. */
export class CheckTarget extends Context.Tag("syncer/CheckTarget")<CheckTarget, {
  /** Takes the target (a ResolvedImage will do); needs nothing from Resolve, so both run side by side. */
  readonly check: (image: { readonly target: ImageLocation }) => Effect.Effect<Option.Option<ManifestDescriptor>, TransportError>
}>() {
  /** The live step, on the Transport. */
  static layer = Layer.effect(
    CheckTarget,
    Effect.map(Transport, (transport) => ({ check: (image: { readonly target: ImageLocation }) => transport.inspect(image.target) }))
  )
}
