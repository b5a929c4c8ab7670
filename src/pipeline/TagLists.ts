/**
 * The tags of a source repository, listed once per run and shared: `tags` rules (Expand) and
 * the discovery of upstream signature tags (Upstream) read the same list, so a repository's
 * pages are asked for once.
 */
import { Context, Effect, Layer } from "effect"
import type { TransportError } from "../model/Errors.ts"
import type { ImageLocation } from "../model/Location.ts"
import { makeMemo } from "../model/Memo.ts"
import { Transport } from "../transport/Transport.ts"
import type { TransportShape } from "../transport/Transport.ts"

/** Every tag of the repository of `image` (its reference is ignored), from the run's one listing of it. */
export type ListTags = (image: ImageLocation) => Effect.Effect<ReadonlyArray<string>, TransportError>

/** A run's memo of tag lists over `transport`. */
export const makeTagLists = (transport: TransportShape): ListTags => {
  // A listing that failed is asked again by the next caller.
  const listed = makeMemo<ReadonlyArray<string>, TransportError>()
  return (image) => listed.get(`${image.endpoint.role} ${image.endpoint.host}/${image.repository}`, () => transport.listTags(image))
}

/** The TagLists service: one memo per run. */
export class TagLists extends Context.Tag("syncer/TagLists")<TagLists, { readonly of: ListTags }>() {
  /** Over the run's Transport. */
  static layer = Layer.effect(TagLists, Effect.map(Transport, (transport) => ({ of: makeTagLists(transport) })))
}
