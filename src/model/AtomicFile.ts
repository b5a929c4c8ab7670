/**
 * Writing a file so that readers see the old content or the new, never half: a temp file
 * beside it, synced, then renamed over it. Used for layout indexes and the definition file.
 */
import { randomBytes } from "node:crypto"
import { open, rename, rm } from "node:fs/promises"
import type { FileHandle } from "node:fs/promises"

/** Writes all of a chunk (a FileHandle write may be partial). */
export const writeAll = async (handle: FileHandle, chunk: Uint8Array): Promise<void> => {
  let offset = 0
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset)
    offset += bytesWritten
  }
}

/** True for a name left behind by an interrupted atomic write. */
export const isPartial = (name: string): boolean => name.includes(".partial-")

/** Replaces `path` with `content` atomically (temp file, fsync, rename); `mode` for a new file's permissions. */
export const writeFileAtomic = async (path: string, content: string | Uint8Array, mode?: number): Promise<void> => {
  const temp = `${path}.partial-${randomBytes(6).toString("hex")}`
  try {
    const handle = await open(temp, "wx", mode)
    try {
      await writeAll(handle, typeof content === "string" ? new TextEncoder().encode(content) : content)
      if (mode !== undefined) await handle.chmod(mode)
      await handle.datasync()
    } finally {
      await handle.close()
    }
    await rename(temp, path)
  } finally {
    await rm(temp, { force: true })
  }
}
