/** `platforms` (of the file, as the entries' default, and of an entry): a list of os/architecture[/variant], none twice. */
import { Either, Schema } from "effect"
import { parsePlatform, platformMatches } from "../model/Platform.ts"
import type { Platform } from "../model/Platform.ts"
import { mustBe, optional } from "./Field.ts"
import type { Field } from "./Field.ts"
import { problemAt } from "./Positions.ts"
import type { Located, Path } from "./Positions.ts"
import type { DefinitionProblem } from "./Problems.ts"

/** A `platforms` key, described for where it stands. */
export const platformsField = (description: string): Field<Schema.optional<Schema.Array$<typeof Schema.String>>> =>
  optional(Schema.Array(Schema.String.annotations({ description: "os/architecture[/variant], e.g. \"linux/amd64\", \"linux/arm64\", \"linux/arm/v7\"." })), {
    description,
    wrongType: mustBe("platforms", "a list like [\"linux/amd64\", \"linux/arm64\"]"),
    inner: { _tag: "Items", item: { schema: Schema.String, wrongType: mustBe("each platform", "a string like \"linux/amd64\"") } }
  })

/**
 * A `platforms` list, checked: at least one, each os/architecture[/variant], none twice.
 * Undefined (with the problems noted) when it cannot be used.
 */
export const platformsAt = (ctx: Located, path: Path, value: unknown, problems: Array<DefinitionProblem>): ReadonlyArray<Platform> | undefined => {
  if (!Array.isArray(value)) return undefined // the schema says what is wrong with it
  if (value.length === 0) {
    problems.push(
      problemAt(ctx, path, "platforms is an empty list; list at least one, e.g. [\"linux/amd64\", \"linux/arm64\"] (or leave it out for every platform)")
    )
    return undefined
  }
  const before = problems.length
  const platforms: Array<Platform> = []
  const written: Array<string> = []
  value.forEach((item, i) => {
    if (typeof item !== "string") return
    const parsed = parsePlatform(item)
    if (Either.isLeft(parsed)) {
      problems.push(problemAt(ctx, [...path, i], parsed.left))
      return
    }
    // "linux/arm64" and "linux/arm64/v8" name the same children: one of them is one too many.
    const earlier = platforms.findIndex((p) => platformMatches(p, parsed.right) || platformMatches(parsed.right, p))
    if (earlier >= 0) {
      const first = written[earlier]!
      problems.push(
        problemAt(ctx, [...path, i], first === item ? `platform "${item}" is listed twice` : `platform "${item}" is listed twice ("${first}" covers it)`)
      )
      return
    }
    platforms.push(parsed.right)
    written.push(item)
  })
  return problems.length === before ? platforms : undefined
}
