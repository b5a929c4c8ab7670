/** The `crane` transport (placeholder until implemented). */
import { Effect, Layer } from "effect"
import { Transport, TransportFailure } from "../../src/pipeline/Transport.ts"

const unavailable = Effect.fail(new TransportFailure({ transport: "crane", detail: "not implemented yet" }))

/** The crane transport layer. */
export const layer = Layer.succeed(Transport, {
  name: "crane",
  inspect: () => unavailable,
  manifest: () => unavailable,
  config: () => unavailable,
  copy: () => unavailable
})
