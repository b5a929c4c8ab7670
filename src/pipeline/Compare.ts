/** Step 3, Compare: same digest → nothing to do; another digest → TagConflict, target untouched. */
import { Context, Data, Effect, Layer, Option } from "effect"
import type { ResolvedImage } from "./Resolve.ts"
import type { ManifestDescriptor } from "../model/Manifest.ts"

/** The target tag holds other content: tags are immutable, so we refuse to touch it. */
export class TagConflict extends Data.TaggedError("TagConflict")<{
  readonly target: string
  readonly sourceDigest: string
  readonly targetDigest: string
}> {
  override get message() {
    return `${this.target} already holds ${this.targetDigest}, but the source is ${this.sourceDigest}; target tags are immutable, left untouched`
  }
}

/** What Compare decided. */
export type Decision = "copy" | "present"

/** The Compare service. */
export class Compare extends Context.Tag("syncer/Compare")<Compare, {
  readonly compare: (image: ResolvedImage, target: Option.Option<ManifestDescriptor>) => Effect.Effect<Decision, TagConflict>
}>() {
  /** The one rule. */
  static layer = Layer.succeed(Compare, {
    compare: (image, target) => {
      if (Option.isNone(target)) return Effect.succeed("copy" as const)
      if (target.value.digest === image.manifest.digest) return Effect.succeed("present" as const)
      return Effect.fail(
        new TagConflict({
          target: `${image.target.endpoint.registry}/${image.target.repository}:${image.target.reference}`,
          sourceDigest: image.manifest.digest,
          targetDigest: target.value.digest
        })
      )
    }
  })
}
