/**
 * What every view keeps track of while a run goes: the images in flight (their step, bytes
 * copied of the blobs started), how many finished with which status, the bytes moved. The
 * renderers (Live, Plain, Json) read it; none of them keeps state of its own about images.
 */
import type { ProgressEvent, Step } from "../../model/Progress.ts"
import type { ImageStatus } from "../../model/Result.ts"

/** One image in flight. */
export interface InFlight {
  readonly image: number
  readonly source: string
  step: Step | "start"
  copied: number
  /** the sum of the sizes of the blobs started so far */
  total: number
  /** when the copy started: the first blob or the first bytes (the rate counts from here) */
  copyStartedAt: number | undefined
  /** copied bytes not yet written as a plain/json BytesCopied record */
  pending: number
}

/** The state of a run as the views see it. */
export interface Tracker {
  readonly inFlight: Map<number, InFlight>
  readonly finishedByStatus: Record<ImageStatus, number>
  /** the status a finished image has now (undefined before it finished): a revision that keeps it says nothing new */
  readonly statusOf: (image: number) => ImageStatus | undefined
  readonly done: () => number
  readonly bytesMoved: () => number
  readonly startedAt: number
  /** Applies one event; returns the image's state (before removal, for a finished image). */
  readonly apply: (event: ProgressEvent, at: number) => InFlight | undefined
}

/** A tracker starting at `startedAt`. */
export const makeTracker = (startedAt: number): Tracker => {
  const inFlight = new Map<number, InFlight>()
  const finishedByStatus: Record<ImageStatus, number> = { synced: 0, present: 0, planned: 0, conflict: 0, failed: 0 }
  const statuses = new Map<number, ImageStatus>()
  let done = 0
  let bytesMoved = 0
  const apply = (event: ProgressEvent, at: number): InFlight | undefined => {
    let state = inFlight.get(event.image)
    switch (event._tag) {
      case "ImageStarted":
        state = { image: event.image, source: event.source, step: "start", copied: 0, total: 0, copyStartedAt: undefined, pending: 0 }
        inFlight.set(event.image, state)
        break
      case "StepStarted":
        if (state) state.step = event.step
        break
      case "BlobStarted":
        if (state) {
          state.total += event.size
          state.copyStartedAt ??= at
        }
        break
      case "BytesCopied":
        bytesMoved += event.bytes
        if (state) {
          state.copied += event.bytes
          state.pending += event.bytes
          state.copyStartedAt ??= at
        }
        break
      case "ImageFinished":
        inFlight.delete(event.image)
        done++
        finishedByStatus[event.result.status]++
        statuses.set(event.image, event.result.status)
        break
      case "ImageRevised": {
        // The end-of-run read-back's word replaces what the image finished with.
        const before = statuses.get(event.image)
        if (before !== undefined) finishedByStatus[before]--
        finishedByStatus[event.result.status]++
        statuses.set(event.image, event.result.status)
        break
      }
    }
    return state
  }
  return { inFlight, finishedByStatus, statusOf: (image) => statuses.get(image), done: () => done, bytesMoved: () => bytesMoved, startedAt, apply }
}

/** The images in flight in definition order. */
export const inOrder = (tracker: Tracker): Array<InFlight> => [...tracker.inFlight.values()].sort((a, b) => a.image - b.image)
