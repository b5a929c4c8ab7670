/** Step 5, Sign: a cosign-compatible signature for the target digest. No signer yet: nothing is signed. */
import { Context, Data, Effect, Layer } from "effect"
import type { ResolvedImage } from "./Resolve.ts"

/** What signing did for one image. */
export interface SignOutcome {
  readonly signed: boolean | "already"
  readonly signatureDigest: string | undefined
}

/** Signing failed (key, registry or signer trouble). */
export class SigningFailed extends Data.TaggedError("SigningFailed")<{ readonly detail: string }> {
  override get message() {
    return `signing failed: ${this.detail}`
  }
}

/** The Sign service. */
export class Sign extends Context.Tag("syncer/Sign")<Sign, {
  readonly sign: (image: ResolvedImage) => Effect.Effect<SignOutcome, SigningFailed>
}>() {
  /** No signer configured: a no-op. */
  static none = Layer.succeed(Sign, {
    sign: () => Effect.succeed({ signed: false, signatureDigest: undefined })
  })
}
