/**
 * Reads a local input file (definition, key, docker config) whole, but never more than a cap:
 * `-i /dev/zero` or a mistyped path to a disk image must fail fast, not fill memory.
 */
import { open } from "node:fs/promises"

/** The cap for definition and key files. */
export const INPUT_FILE_LIMIT = 4 * 1024 * 1024

/** Thrown (with `code: "ETOOBIG"`) when a file holds more than the cap. */
export class FileTooLarge extends Error {
  readonly code = "ETOOBIG"
  constructor(readonly path: string, readonly limit: number) {
    super(`${path} is larger than ${limit / (1024 * 1024)} MiB`)
  }
}

/** The file's bytes, at most `limit`; rejects with FileTooLarge beyond, or with the fs error (ENOENT, EISDIR …). */
export const readCapped = async (path: string, limit: number = INPUT_FILE_LIMIT): Promise<Uint8Array> => {
  const handle = await open(path, "r")
  try {
    const buffer = new Uint8Array(limit + 1)
    let filled = 0
    // Read until EOF or one byte past the cap (devices like /dev/zero report size 0, so stat cannot tell).
    while (filled <= limit) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null)
      if (bytesRead === 0) break
      filled += bytesRead
    }
    if (filled > limit) throw new FileTooLarge(path, limit)
    return buffer.subarray(0, filled)
  } finally {
    await handle.close()
  }
}

/** Why a file could not be read, in a few words: "no such file", "it is a directory", "permission denied", "larger than 4 MiB". */
export const readFailureReason = (error: unknown): string => {
  const code = (error as { readonly code?: unknown } | undefined)?.code
  if (code === "ENOENT") return "no such file"
  if (code === "EISDIR") return "it is a directory"
  if (code === "EACCES" || code === "EPERM") return "permission denied"
  if (code === "ETOOBIG") return `larger than ${INPUT_FILE_LIMIT / (1024 * 1024)} MiB`
  return error instanceof Error ? error.message : String(error)
}

/** The file as UTF-8 text, at most `limit` bytes. */
export const readTextCapped = async (path: string, limit: number = INPUT_FILE_LIMIT): Promise<string> => new TextDecoder().decode(await readCapped(path, limit))
