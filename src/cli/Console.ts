/** Where a command writes: results on stdout, logs on stderr (one plain line each). */
import { Effect, Logger } from "effect"

/** Writes a line to stdout (results only). */
export const out = (line: string): Effect.Effect<void> => Effect.sync(() => void process.stdout.write(`${line}\n`))

/** Logs go to stderr, one plain line each. */
export const stderrLogger = Logger.make(({ logLevel, message }) => {
  const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
  process.stderr.write(`${logLevel.label.toLowerCase()}: ${text}\n`)
})
