/** The definition file (images.yaml) as the rest of the program sees it: validated entries and registry options. */
import type { RegistryOptions } from "../model/Location.ts"
import type { ImageReference } from "../model/Reference.ts"
import type { TargetReference } from "../model/Target.ts"
import type { TagRule } from "./TagRule.ts"

export type { RegistryOptions }

/** One `images[]` entry, validated, with where it stands in the file. */
export interface ImageEntry {
  readonly index: number
  readonly line: number
  readonly column: number
  readonly source: string
  readonly tag: string | undefined
  readonly amd64Only: boolean
  readonly reference: ImageReference
  /** for a `tags` rule entry: the target repository, with the placeholder tag "latest" until the rule is expanded */
  readonly target: TargetReference
  /** the entry's `tags` rule: the entry names a repository, each tag the rule selects is an image */
  readonly tags: TagRule | undefined
}


/** A validated definition file. */
export interface Definition {
  readonly file: string
  readonly targetRepoPrefix: string
  readonly registries: ReadonlyMap<string, RegistryOptions>
  readonly images: ReadonlyArray<ImageEntry>
}
