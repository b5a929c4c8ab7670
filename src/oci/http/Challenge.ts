/**
 * Parsing of `WWW-Authenticate` challenges (RFC 7235). Fetch joins repeated headers with
 * ", ", and quoted values contain commas (`scope="repository:a:pull,push"`), so a split on
 * commas is not enough: a new challenge starts where a token is followed by a space.
 */

/** One authentication challenge: its scheme (lower-cased) and parameters (keys lower-cased). */
export interface Challenge {
  readonly scheme: string
  readonly params: Readonly<Record<string, string>>
}

const tokenChar = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/

/** Parses every challenge in a `WWW-Authenticate` header value. */
export const parseChallenges = (header: string): ReadonlyArray<Challenge> => {
  const out: Array<{ scheme: string; params: Record<string, string> }> = []
  let i = 0
  const n = header.length
  const skipSpace = () => {
    while (i < n && (header[i] === " " || header[i] === "\t")) i++
  }
  const readToken = () => {
    const start = i
    while (i < n && tokenChar.test(header[i]!)) i++
    return header.slice(start, i)
  }
  while (i < n) {
    skipSpace()
    while (i < n && header[i] === ",") {
      i++
      skipSpace()
    }
    if (i >= n) break
    const word = readToken()
    if (word === "") {
      i++ // skip a stray character rather than loop forever
      continue
    }
    skipSpace()
    if (header[i] === "=" && out.length > 0) {
      // a parameter of the current challenge
      i++
      skipSpace()
      let value = ""
      if (header[i] === "\"") {
        i++
        while (i < n && header[i] !== "\"") {
          if (header[i] === "\\" && i + 1 < n) i++
          value += header[i]
          i++
        }
        i++
      } else {
        value = readToken()
      }
      out[out.length - 1]!.params[word.toLowerCase()] = value
    } else {
      out.push({ scheme: word.toLowerCase(), params: {} })
    }
  }
  return out
}

/** The challenge to answer: Bearer before Basic (as go-containerregistry does); others ignored. */
export const pickChallenge = (header: string | undefined): Challenge | undefined => {
  if (!header) return undefined
  const all = parseChallenges(header)
  return all.find((c) => c.scheme === "bearer") ?? all.find((c) => c.scheme === "basic")
}

/** Splits a Bearer challenge's `scope` into its space-separated scopes. */
export const challengeScopes = (challenge: Challenge): ReadonlyArray<string> => (challenge.params["scope"] ?? "").split(" ").filter((s) => s.length > 0)

/** A scope's parts: `type:name:actions`; the name may hold a `host:port`, so the ends are split off. */
const scopeParts = (scope: string): { readonly resource: string; readonly actions: ReadonlyArray<string> } | undefined => {
  const last = scope.lastIndexOf(":")
  if (last <= 0) return undefined
  return { resource: scope.slice(0, last), actions: scope.slice(last + 1).split(",") }
}

/** True when `held` already grants `wanted`: the same resource with every action it names (`pull,push` covers `pull`). */
export const scopeCovered = (held: ReadonlyArray<string>, wanted: string): boolean => {
  const w = scopeParts(wanted)
  if (w === undefined) return held.includes(wanted)
  return held.some((h) => {
    const p = scopeParts(h)
    return p !== undefined && p.resource === w.resource && w.actions.every((a) => p.actions.includes(a) || p.actions.includes("*"))
  })
}
