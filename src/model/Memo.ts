/**
 * Work shared by key — the one rule for every "memo by key, evict on failure" cache of a run
 * (registry pings, blobs put, manifests put, tag lists, repositories created, credentials
 * asked): the first caller of a key starts it (in a fiber of its own, see shareOnce.ts),
 * every caller of that key waits for the same result, and later callers get the value at
 * once. Work that does not succeed (a failure, a defect) is forgotten, so the next caller of
 * that key tries again — unless the memo keeps failures (a refusal that every later caller
 * should get without asking again). An entry is registered when `get` is called, before
 * anything runs, so two callers in the same tick share one piece of work.
 */
import { Effect, Exit } from "effect"
import { shareOnce } from "./shareOnce.ts"

type Entry<A, E> = { readonly done: true; readonly value: A } | { readonly done: false; readonly pending: Effect.Effect<A, E> }

/** A memo of shared work by key. */
export interface Memo<A, E> {
  /** the value of `key`: known, in the making, or made now by `work` */
  readonly get: (key: string, work: () => Effect.Effect<A, E>) => Effect.Effect<A, E>
  /** the value of `key` if it is known or in the making (waiting for it), else undefined: nothing is started */
  readonly find: (key: string) => Effect.Effect<A, E> | undefined
  /** the value of `key` if it is known now */
  readonly known: (key: string) => A | undefined
  /** forgets `key` (the next caller makes it again) */
  readonly forget: (key: string) => void
}

/** An empty memo; `keepFailures`: a failed key answers with its failure for the rest of the memo's life. */
export const makeMemo = <A, E>(options: { readonly keepFailures?: boolean } = {}): Memo<A, E> => {
  const entries = new Map<string, Entry<A, E>>()
  const find = (key: string): Effect.Effect<A, E> | undefined => {
    const entry = entries.get(key)
    return entry === undefined ? undefined : entry.done ? Effect.succeed(entry.value) : entry.pending
  }
  const get = (key: string, work: () => Effect.Effect<A, E>): Effect.Effect<A, E> => {
    const found = find(key)
    if (found !== undefined) return found
    const pending: Effect.Effect<A, E> = shareOnce(
      Effect.suspend(work).pipe(
        Effect.onExit((exit) =>
          Effect.sync(() => {
            if (entries.get(key) !== own) return
            if (Exit.isSuccess(exit)) entries.set(key, { done: true, value: exit.value })
            else if (options.keepFailures !== true) entries.delete(key)
          })
        )
      )
    )
    const own: Entry<A, E> = { done: false, pending }
    entries.set(key, own)
    return pending
  }
  return {
    get,
    find,
    known: (key) => {
      const entry = entries.get(key)
      return entry?.done === true ? entry.value : undefined
    },
    forget: (key) => void entries.delete(key)
  }
}
