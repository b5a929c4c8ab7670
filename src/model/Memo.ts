/**
 * Work shared by key: the first caller of a key starts it (in a fiber of its own, see
 * shareOnce.ts), every caller of that key waits for the same result, and later callers get the
 * value at once. A failure is forgotten, so the next caller of that key tries again.
 */
import { Effect } from "effect"
import { shareOnce } from "./shareOnce.ts"

type Entry<A, E> = { readonly done: true; readonly value: A } | { readonly done: false; readonly pending: Effect.Effect<A, E> }

/** A memo of shared work by key. */
export interface Memo<A, E> {
  /** the value of `key`: known, in the making, or made now by `work` */
  readonly get: (key: string, work: () => Effect.Effect<A, E>) => Effect.Effect<A, E>
  /** the value of `key` if it is known now */
  readonly known: (key: string) => A | undefined
  /** forgets `key` (the next caller makes it again) */
  readonly forget: (key: string) => void
}

/** An empty memo. */
export const makeMemo = <A, E>(): Memo<A, E> => {
  const entries = new Map<string, Entry<A, E>>()
  const get = (key: string, work: () => Effect.Effect<A, E>): Effect.Effect<A, E> => {
    const entry = entries.get(key)
    if (entry !== undefined) return entry.done ? Effect.succeed(entry.value) : entry.pending
    const pending: Effect.Effect<A, E> = shareOnce(
      Effect.suspend(work).pipe(
        Effect.tap((value) => Effect.sync(() => void (entries.get(key) === own && entries.set(key, { done: true, value })))),
        Effect.tapError(() => Effect.sync(() => void (entries.get(key) === own && entries.delete(key))))
      )
    )
    const own: Entry<A, E> = { done: false, pending }
    entries.set(key, own)
    return pending
  }
  return {
    get,
    known: (key) => {
      const entry = entries.get(key)
      return entry?.done === true ? entry.value : undefined
    },
    forget: (key) => void entries.delete(key)
  }
}
