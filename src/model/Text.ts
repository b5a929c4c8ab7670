/** Values fit to print in messages: a 20 MB value must not be echoed in full. */

/** A value for a message: at most `max` characters, cut in the middle, with its real length. */
export const shorten = (value: string, max = 200): string =>
  value.length <= max ? value : `${value.slice(0, Math.ceil(max * 0.6))}…${value.slice(-Math.floor(max * 0.3))} (${value.length} characters)`

/**
 * A message fit to print: each run of more than 200 non-space characters and each line of more
 * than 1,000 characters is cut in the middle (a 20 MB value must not be echoed in full).
 */
export const shortenMessage = (message: string): string =>
  message
    .split("\n")
    .map((line) => shorten(line.replace(/\S{201,}/g, (run) => shorten(run, 200)), 1000))
    .join("\n")
