/**
 * Registry errors as data, parsed in one place: a response the client does not go on from
 * becomes a RegistryError with the status, the distribution error codes of its body and the
 * registry's own message. Every decision on what a registry meant is made from the codes here
 * or by callers holding a RegistryError — never from message text elsewhere.
 */
import { Effect } from "effect"
import { RegistryError } from "../model/Errors.ts"
import { shorten } from "../model/Text.ts"
import { readErrorText } from "./http/BodyReader.ts"

export { RegistryError }

/** What an error body says: its codes (upper-case) and messages. */
export interface ErrorBody {
  readonly codes: ReadonlyArray<string>
  readonly detail: string
}

/**
 * The codes and message of an error body: distribution's `{"errors":[{"code","message"}]}`,
 * a bare `{"code","message"}` or `{"message"}` (older Docker Hub, proxies), or plain text
 * (route 404s) kept as the message.
 */
export const parseErrorBody = (text: string): ErrorBody => {
  try {
    const j = JSON.parse(text) as { errors?: Array<{ code?: unknown; message?: unknown }>; code?: unknown; message?: unknown }
    if (Array.isArray(j.errors) && j.errors.length > 0) {
      const codes = j.errors.flatMap((e) => (typeof e.code === "string" ? [e.code.toUpperCase()] : []))
      const messages = j.errors.flatMap((e) => (typeof e.message === "string" && e.message !== "" ? [e.message] : []))
      return { codes, detail: shorten(messages.join("; "), 300) }
    }
    if (typeof j.message === "string") return { codes: typeof j.code === "string" ? [j.code.toUpperCase()] : [], detail: shorten(j.message, 300) }
  } catch {
    // not JSON: plain text, as route 404s and proxies answer
  }
  return { codes: [], detail: shorten(text.trim().replace(/\s+/g, " "), 300) }
}

/** The RegistryError for `res` (its body read, at most 4 KiB, within the stall timeout). */
export const registryError = (
  res: Response,
  request: { readonly registry: string; readonly method: string; readonly path: string },
  stallMs: number
): Effect.Effect<RegistryError> =>
  Effect.map(readErrorText(res, stallMs), (text) => {
    const body = parseErrorBody(text)
    return new RegistryError({
      registry: request.registry,
      status: res.status,
      codes: body.codes,
      detail: body.detail,
      request: `${request.method} ${request.path.split("?")[0]}`
    })
  })

/** True when the registry named `code` among its errors. */
export const hasCode = (error: { readonly codes: ReadonlyArray<string> }, ...codes: ReadonlyArray<string>): boolean =>
  error.codes.some((c) => codes.includes(c))

/**
 * A 429 that is the pull limit (Docker Hub: TOOMANYREQUESTS saying "pull rate limit", or
 * nothing left in `ratelimit-remaining`), not a moment's throttling that a retry outlasts.
 */
export const isPullLimit = (body: ErrorBody, remaining: string | null): boolean =>
  /pull rate limit/i.test(body.detail) || /^0(;|$)/.test(remaining?.trim() ?? "")

/**
 * The project a refusal says is missing (Harbor: 401 UNAUTHORIZED "project P not found", older
 * releases 404 NOT_FOUND "project not found, name: P"; goharbor/harbor#20544 and v2auth). The
 * one place where a registry's words, not its codes, carry the meaning: Harbor gives no code of
 * its own for it.
 */
export const missingProject = (error: { readonly codes?: ReadonlyArray<string>; readonly detail: string }): string | undefined => {
  if (!hasCode({ codes: error.codes ?? [] }, "UNAUTHORIZED", "NOT_FOUND", "DENIED")) return undefined
  const m = /\bproject ([^\s:,]+) not found\b/i.exec(error.detail) ?? /\bproject not found, name: ([^\s:,]+)/i.exec(error.detail)
  return m?.[1]
}

/** The distribution error codes and the words registries send with them (`manifest unknown` for MANIFEST_UNKNOWN). */
const CODE_WORDS: ReadonlyArray<readonly [string, RegExp]> = [
  ["MANIFEST_UNKNOWN", /\bMANIFEST_UNKNOWN\b|\bmanifest unknown\b/i],
  ["NAME_UNKNOWN", /\bNAME_UNKNOWN\b|\bname unknown\b|\brepository name not known\b/i],
  ["BLOB_UNKNOWN", /\bBLOB_UNKNOWN\b|\bblob unknown\b/i],
  ["UNAUTHORIZED", /\bUNAUTHORIZED\b|\bauthentication required\b/i],
  ["DENIED", /\bDENIED\b|\brequested access to the resource is denied\b/i],
  ["TOOMANYREQUESTS", /\bTOOMANYREQUESTS\b|\btoo many requests\b/i]
]

/**
 * The distribution error codes found in a tool's words about a registry's answer (skopeo's and
 * crane's stderr carry the registry's codes or their messages): the same decision on codes for
 * transports that only see text.
 */
export const codesInText = (text: string): ReadonlyArray<string> => CODE_WORDS.filter(([, words]) => words.test(text)).map(([code]) => code)
