/** Where an entry is read from and where it goes: the one rule for both locations (no request). */
import { endpointFor } from "../model/Location.ts"
import type { ImageLocation } from "../model/Location.ts"
import type { Definition, ImageEntry } from "./Definition.ts"

/** The source location of an entry: a digest wins over a tag, as in Docker (`name:tag@sha256:…` is the digest). */
export const sourceLocation = (entry: ImageEntry, definition: Pick<Definition, "registries">): ImageLocation => ({
  endpoint: endpointFor(entry.reference.registry, definition.registries, "source"),
  repository: entry.reference.repository,
  reference: entry.reference.digest ?? entry.reference.tag ?? "latest"
})

/** The target location of an entry: its registry, repository and tag as target naming made them. */
export const targetLocation = (entry: ImageEntry, definition: Pick<Definition, "registries">): ImageLocation => ({
  endpoint: endpointFor(entry.target.registry, definition.registries, "target"),
  repository: entry.target.repository,
  reference: entry.target.tag
})

/** Both locations of an entry. */
export const locate = (entry: ImageEntry, definition: Pick<Definition, "registries">) => ({
  source: sourceLocation(entry, definition),
  target: targetLocation(entry, definition)
})

/** The entry once per target, in prefix order: each copy has that target as its `target`. */
export const perTarget = (entry: ImageEntry): ReadonlyArray<ImageEntry> =>
  entry.targets.length === 1 ? [entry] : entry.targets.map((target) => ({ ...entry, target }))
