/**
 * The last look at a target tag before it is written — the one place that rule lives. Every
 * transport calls it right before its tag write: another writer may have taken the tag since
 * the pipeline checked it.
 */
import { Effect, Option } from "effect"
import { TagTaken } from "../model/Errors.ts"
import { describeLocation } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import type { ManifestDescriptor } from "../model/Manifest.ts"

/** "absent": write the tag; "ours": it already holds our digest, nothing to write; another digest: TagTaken. */
export const lastLook = <E>(
  inspect: (image: ImageLocation) => Effect.Effect<Option.Option<ManifestDescriptor>, E>,
  target: ImageLocation,
  digest: string
): Effect.Effect<"absent" | "ours", E | TagTaken> =>
  Effect.flatMap(inspect(target), (now) => {
    if (Option.isNone(now)) return Effect.succeed("absent" as const)
    if (now.value.digest === digest) return Effect.succeed("ours" as const)
    return Effect.fail(new TagTaken({ target: describeLocation(target), expected: digest, found: now.value.digest }))
  })
