/**
 * What a run shows while it works: one view per output mode over the same progress events —
 * the live view on a terminal (Live.ts), plain lines for pipes and CI logs (Plain.ts), JSON
 * lines for programs (Json.ts). This module picks the mode and holds what they share.
 */
import { Effect, Schedule } from "effect"
import { jsonView } from "./Json.ts"
import { liveView } from "./Live.ts"
import { plainView } from "./Plain.ts"
import type { OutputMode, ProgressView, ViewOptions } from "./ProgressView.ts"

export type { OutputMode, ProgressView, ViewOptions }

/** What `--output` accepts: `auto` is `tty` on a terminal and `plain` otherwise. */
export type OutputFlag = "auto" | OutputMode

/** The values of `--output`, for the flag's choices. */
export const outputFlags: ReadonlyArray<OutputFlag> = ["auto", "tty", "plain", "json"]

/**
 * The mode and colour of a run. `auto`: tty on a terminal (unless TERM=dumb), else plain.
 * Colour only in tty mode on a terminal, never when NO_COLOR is set to anything non-empty
 * (no-color.org) or TERM=dumb.
 */
export const resolveOutput = (
  flag: OutputFlag,
  isTTY: boolean,
  env: { readonly TERM?: string | undefined; readonly NO_COLOR?: string | undefined }
): { readonly mode: OutputMode; readonly color: boolean } => {
  const dumb = env.TERM === "dumb"
  const mode: OutputMode = flag === "auto" ? (isTTY && !dumb ? "tty" : "plain") : flag
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== ""
  return { mode, color: mode === "tty" && isTTY && !noColor && !dumb }
}

/** Makes the view of a mode, writing through `write` (the CLI passes stdout or stderr). */
export const makeView = (mode: OutputMode, write: (s: string) => void, options: ViewOptions): ProgressView =>
  mode === "tty" ? liveView(write, options) : mode === "plain" ? plainView(write, options) : jsonView(write, options)

/** Redraws the view every `millis` until interrupted (fork it beside the run, e.g. with `Effect.raceFirst` or `forkScoped`). */
export const renderLoop = (view: ProgressView, millis = 100): Effect.Effect<never> =>
  Effect.sync(() => view.render()).pipe(Effect.repeat(Schedule.spaced(millis)), Effect.zipRight(Effect.never))
