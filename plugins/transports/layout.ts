/** The OCI image layout transport (air-gapped import). Placeholder until implemented. */
import { Data, Effect, Layer } from "effect"
import { Transport, TransportFailure } from "../../src/pipeline/Transport.ts"
import type { TransportLayer } from "../../src/pipeline/TransportLoader.ts"

/** The layout cannot be used. */
export class LayoutUnusable extends Data.TaggedError("LayoutUnusable")<{ readonly path: string; readonly reason: string }> {
  override get message() {
    return `layout ${this.path}: ${this.reason}`
  }
}

const unavailable = Effect.fail(new TransportFailure({ transport: "layout", detail: "not implemented yet" }))

/** A transport reading sources from the layout at `path` (a directory or a .tar), writing to registries. */
export const layerFrom = (path: string): Effect.Effect<TransportLayer, LayoutUnusable> =>
  Effect.succeed(Layer.succeed(Transport, {
    name: `layout ${path}`,
    inspect: () => unavailable,
    manifest: () => unavailable,
    config: () => unavailable,
    copy: () => unavailable
  }))
