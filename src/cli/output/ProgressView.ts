/** The interface every renderer implements, and the output modes. */
import type { ProgressEvent } from "../../model/Progress.ts"
import type { ImageResult } from "../../model/Result.ts"

/** How progress is shown. */
export type OutputMode = "tty" | "plain" | "json"

/** Options of a view. */
export interface ViewOptions {
  /** ANSI colours (tty only; the CLI passes false under NO_COLOR) */
  readonly color: boolean
  /** images in the run */
  readonly total: number
  /** the clock in milliseconds (tests pass a fake one) */
  readonly now?: () => number
  /** terminal columns, asked again at every redraw so a resize is followed; tty lines fit them (default 80) */
  readonly width?: number | (() => number)
  /** plain: every step, blob and byte count as a line of its own (--debug); otherwise a progress line now and then */
  readonly detail?: boolean
  /** the run's target prefixes (`targetRepoPrefix`, in order): tty names them once above the results, and each line gives only the path after its own */
  readonly prefixes?: ReadonlyArray<string>
}

/** A progress view: feed it events, redraw it on a timer, finish it with the results. */
export interface ProgressView {
  /** Takes one pipeline event. */
  readonly onEvent: (event: ProgressEvent) => void
  /** tty: redraws the live block; plain/json: writes coalesced byte counts that changed since the last call. */
  readonly render: () => void
  /**
   * tty: erases the live block until the next render (call it before writing a log line to a
   * stderr that shares the terminal, so the line does not land inside the block); otherwise a no-op.
   */
  readonly clear: () => void
  /** Clears the live block and prints the summary table (status counts, bytes moved, duration; `unfinished`: the run was interrupted). */
  readonly finish: (results: ReadonlyArray<ImageResult>, durationMs: number, unfinished?: number) => void
}
