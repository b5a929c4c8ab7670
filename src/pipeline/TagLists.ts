/**
 * The tags of a source repository, listed once per run and shared: `tags` rules (Expand) and
 * the discovery of upstream signature tags (Upstream) read the same list, so a repository's
 * pages are asked for once.
 */
import { Context, Effect, Layer } from "effect"
import type { TransportError } from "../model/Errors.ts"
import type { ImageLocation } from "../model/Location.ts"
import { shareOnce } from "../model/shareOnce.ts"
import { Transport } from "../transport/Transport.ts"
import type { TransportShape } from "../transport/Transport.ts"

/** Every tag of the repository of `image` (its reference is ignored), from the run's one listing of it. */
export type ListTags = (image: ImageLocation) => Effect.Effect<ReadonlyArray<string>, TransportError>

/** A run's memo of tag lists over `transport`. */
export const makeTagLists = (transport: TransportShape): ListTags => {
  const listed = new Map<string, Effect.Effect<ReadonlyArray<string>, TransportError>>()
  return (image) => {
    const key = `${image.endpoint.role} ${image.endpoint.host}/${image.repository}`
    let tags = listed.get(key)
    if (tags === undefined) {
      tags = shareOnce(transport.listTags(image))
      listed.set(key, tags)
    }
    return tags
  }
}

/** The TagLists service: one memo per run. */
export class TagLists extends Context.Tag("syncer/TagLists")<TagLists, { readonly of: ListTags }>() {
  /** Over the run's Transport. */
  static layer = Layer.effect(TagLists, Effect.map(Transport, (transport) => ({ of: makeTagLists(transport) })))
}
