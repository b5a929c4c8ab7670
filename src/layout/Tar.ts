/**
 * A layout as one tar file (what `--to X.tar` writes and `--from X.tar` reads). Written here
 * rather than with the system `tar` so that reading an archive from an untrusted medium can
 * refuse anything but the layout's own regular files and directories: no links, no devices,
 * no absolute or `..` paths. Writes ustar (base-256 sizes above 8 GiB); reads ustar, GNU long
 * names and pax headers, so archives made by GNU tar or skopeo (`oci-archive:`) work too.
 */
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { createReadStream } from "node:fs"
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises"
import type { FileHandle } from "node:fs/promises"
import { dirname, join } from "node:path"
import { INDEX_FILE, ioReason, LayoutIoFailed, OCI_LAYOUT_FILE } from "./OciLayout.ts"

const BLOCK = 512
const COPY_CHUNK = 1 << 20
/** The largest size an 11-digit octal field holds; above it we write base-256 (GNU/star). */
const MAX_OCTAL_SIZE = 8 ** 11 - 1
/** Extended headers are small; a huge one means a corrupt or hostile archive. */
const MAX_EXTENDED_HEADER = 1 << 20

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A tar entry name we write or accept: the layout's files and directories only. */
const layoutPath = /^(?:oci-layout|index\.json|blobs|blobs\/[a-z0-9+._-]+|blobs\/[a-z0-9+._-]+\/[a-zA-Z0-9=_-]+)$/

const putString = (header: Uint8Array, offset: number, length: number, value: string) => {
  const bytes = encoder.encode(value)
  if (bytes.length > length) throw new Error(`tar header field too long: ${value}`)
  header.set(bytes, offset)
}

const putOctal = (header: Uint8Array, offset: number, length: number, value: number) =>
  putString(header, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`)

/** A ustar header for a regular file ("0") or a directory ("5"); mtime 0 so archives are reproducible. */
export const tarHeader = (name: string, size: number, type: "0" | "5"): Uint8Array => {
  const header = new Uint8Array(BLOCK)
  const bytes = encoder.encode(name)
  if (bytes.length <= 100) {
    putString(header, 0, 100, name)
  } else {
    // ustar splits a long name at a "/" into prefix (155 bytes) and name (100 bytes).
    const cut = name.lastIndexOf("/", 155)
    if (cut <= 0 || encoder.encode(name.slice(cut + 1)).length > 100) throw new Error(`name too long for a tar header: ${name}`)
    putString(header, 0, 100, name.slice(cut + 1))
    putString(header, 345, 155, name.slice(0, cut))
  }
  putOctal(header, 100, 8, type === "5" ? 0o755 : 0o644)
  putOctal(header, 108, 8, 0)
  putOctal(header, 116, 8, 0)
  if (size <= MAX_OCTAL_SIZE) {
    putOctal(header, 124, 12, size)
  } else {
    // base-256: high bit set, then the size big-endian in the remaining 11 bytes
    header[124] = 0x80
    let rest = size
    for (let i = 135; i > 124; i--) {
      header[i] = rest % 256
      rest = Math.floor(rest / 256)
    }
  }
  putOctal(header, 136, 12, 0)
  putString(header, 148, 8, "        ")
  putString(header, 156, 1, type)
  putString(header, 257, 6, "ustar\0")
  putString(header, 263, 2, "00")
  const sum = header.reduce((acc, b) => acc + b, 0)
  putString(header, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `)
  return header
}

/** Reads a numeric header field: octal text, or base-256 when the high bit is set. */
export const parseNumber = (field: Uint8Array): number | undefined => {
  if (field.length > 0 && (field[0]! & 0x80) !== 0) {
    // base-256 with the sign bit set is a negative number: never a valid size
    if ((field[0]! & 0x40) !== 0) return undefined
    let value = field[0]! & 0x3f
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!
    return Number.isSafeInteger(value) ? value : undefined
  }
  const text = decoder.decode(field).replace(/\0.*$/s, "").trim()
  if (text === "") return 0
  if (!/^[0-7]+$/.test(text)) return undefined
  return parseInt(text, 8)
}

const cString = (bytes: Uint8Array) => decoder.decode(bytes).replace(/\0.*$/s, "")

const checksumOk = (header: Uint8Array): boolean => {
  const stored = parseNumber(header.subarray(148, 156))
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : header[i]!
    unsigned += b
    signed += b > 127 ? b - 256 : b
  }
  return stored === unsigned || stored === signed
}

/** pax records "LEN key=value\n" → key/value pairs. */
const parsePax = (bytes: Uint8Array): Map<string, string> => {
  const out = new Map<string, string>()
  const text = decoder.decode(bytes)
  let i = 0
  while (i < text.length) {
    const space = text.indexOf(" ", i)
    if (space < 0) break
    const length = Number(text.slice(i, space))
    if (!Number.isInteger(length) || length <= 0) break
    const record = text.slice(space + 1, i + length - 1)
    const eq = record.indexOf("=")
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1))
    i += length
  }
  return out
}

/** Writes all of a chunk (a FileHandle write may be partial). */
const writeAll = async (handle: FileHandle, chunk: Uint8Array) => {
  let offset = 0
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset)
    offset += bytesWritten
  }
}

/** Reads exactly `length` bytes at `position`, or fewer at the end of the file. */
const readAt = async (handle: FileHandle, position: number, length: number): Promise<Uint8Array> => {
  const buffer = new Uint8Array(length)
  let filled = 0
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled)
    if (bytesRead === 0) break
    filled += bytesRead
  }
  return filled === length ? buffer : buffer.subarray(0, filled)
}

/** The layout's files in archive order: marker, index, then blobs sorted (temp files left out). */
const layoutEntries = async (dir: string): Promise<Array<{ readonly name: string; readonly type: "0" | "5" }>> => {
  const entries: Array<{ name: string; type: "0" | "5" }> = [
    { name: OCI_LAYOUT_FILE, type: "0" },
    { name: INDEX_FILE, type: "0" },
    { name: "blobs", type: "5" }
  ]
  const algorithms = (await readdir(join(dir, "blobs"), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()
  for (const algorithm of algorithms) {
    entries.push({ name: `blobs/${algorithm}`, type: "5" })
    const files = (await readdir(join(dir, "blobs", algorithm), { withFileTypes: true }))
      .filter((d) => d.isFile() && !d.name.includes(".partial-"))
      .map((d) => d.name)
      .sort()
    for (const file of files) entries.push({ name: `blobs/${algorithm}/${file}`, type: "0" })
  }
  return entries.filter((e) => layoutPath.test(e.name))
}

const pack = async (dir: string, out: string) => {
  const temp = `${out}.partial-${randomBytes(6).toString("hex")}`
  try {
    const handle = await open(temp, "wx")
    try {
      for (const entry of await layoutEntries(dir)) {
        const path = join(dir, entry.name)
        if (entry.type === "5") {
          await writeAll(handle, tarHeader(`${entry.name}/`, 0, "5"))
          continue
        }
        const size = (await stat(path)).size
        await writeAll(handle, tarHeader(entry.name, size, "0"))
        let written = 0
        for await (const chunk of createReadStream(path, { highWaterMark: COPY_CHUNK }) as AsyncIterable<Buffer>) {
          await writeAll(handle, chunk)
          written += chunk.length
        }
        if (written !== size) throw new Error(`${entry.name} changed while it was archived`)
        const pad = (BLOCK - (size % BLOCK)) % BLOCK
        if (pad > 0) await writeAll(handle, new Uint8Array(pad))
      }
      await writeAll(handle, new Uint8Array(2 * BLOCK))
      await handle.datasync()
    } finally {
      await handle.close()
    }
    // Atomic: readers see the old archive or the new one, never half of one.
    await rename(temp, out)
  } finally {
    await rm(temp, { force: true })
  }
}

/** "./blobs/sha256/x" → "blobs/sha256/x"; undefined for a name that must not be extracted. */
const cleanName = (raw: string): string | undefined => {
  let name = raw
  while (name.startsWith("./")) name = name.slice(2)
  name = name.replace(/\/+$/, "")
  if (name === "" || name === ".") return ""
  if (name.startsWith("/") || name.split("/").some((part) => part === ".." || part === "")) return undefined
  return name
}

const unpack = async (tarFile: string, dir: string) => {
  const handle = await open(tarFile, "r")
  try {
    const total = (await handle.stat()).size
    let position = 0
    let longName: string | undefined
    let paxName: string | undefined
    let paxSize: number | undefined
    let entries = 0
    for (;;) {
      const header = await readAt(handle, position, BLOCK)
      if (header.length === 0) break
      if (header.length < BLOCK) throw new Error(`truncated at byte ${position}`)
      if (header.every((b) => b === 0)) break
      if (!checksumOk(header)) throw new Error(`not a tar archive (bad header checksum at byte ${position})`)
      const type = String.fromCharCode(header[156]!)
      const isUstar = cString(header.subarray(257, 263)) === "ustar"
      const prefix = isUstar ? cString(header.subarray(345, 500)) : ""
      const headerName = prefix ? `${prefix}/${cString(header.subarray(0, 100))}` : cString(header.subarray(0, 100))
      const headerSize = parseNumber(header.subarray(124, 136))
      if (headerSize === undefined) throw new Error(`bad size field at byte ${position}`)
      const extended = type === "x" || type === "g" || type === "L" || type === "K"
      const size = extended ? headerSize : (paxSize ?? headerSize)
      const dataStart = position + BLOCK
      if (!Number.isSafeInteger(size) || size < 0) throw new Error(`bad size field at byte ${position}`)
      if (dataStart + size > total) throw new Error(`truncated: ${headerName} needs ${size} bytes`)
      // Every entry moves the reader forward by at least its header.
      position = dataStart + Math.ceil(size / BLOCK) * BLOCK
      entries++

      if (extended) {
        if (size > MAX_EXTENDED_HEADER) throw new Error(`extended header of ${size} bytes at byte ${dataStart - BLOCK}`)
        const data = await readAt(handle, dataStart, size)
        if (type === "x") {
          const pax = parsePax(data)
          paxName = pax.get("path") ?? paxName
          const paxSizeText = pax.get("size")
          if (paxSizeText !== undefined) {
            // Only a plain decimal: "-1536" would send the reader backwards, forever.
            if (!/^\d{1,16}$/.test(paxSizeText) || !Number.isSafeInteger(Number(paxSizeText))) {
              throw new Error(`bad pax size ${JSON.stringify(paxSizeText.slice(0, 40))} at byte ${dataStart - BLOCK}`)
            }
            paxSize = Number(paxSizeText)
          }
        } else if (type === "L") {
          longName = cString(data)
        }
        continue
      }
      const rawName = paxName ?? longName ?? headerName
      longName = undefined
      paxName = undefined
      paxSize = undefined
      const name = cleanName(rawName)
      if (name === undefined) throw new Error(`refusing entry ${JSON.stringify(rawName)}: absolute or ".." path`)
      if (type !== "0" && type !== "\0" && type !== "7" && type !== "5") {
        throw new Error(`refusing entry ${JSON.stringify(rawName)}: links and special files are not allowed in a layout archive`)
      }
      // The archive's root, or files that are not part of a layout (other tools add some): skipped.
      if (name === "" || !layoutPath.test(name)) continue
      const target = join(dir, name)
      if (type === "5") {
        await mkdir(target, { recursive: true })
        continue
      }
      await mkdir(dirname(target), { recursive: true })
      const out = await open(target, "w")
      try {
        for (let done = 0; done < size;) {
          const chunk = await readAt(handle, dataStart + done, Math.min(COPY_CHUNK, size - done))
          if (chunk.length === 0) throw new Error(`truncated inside ${name}`)
          await writeAll(out, chunk)
          done += chunk.length
        }
      } finally {
        await out.close()
      }
    }
    if (entries === 0) throw new Error("empty archive")
  } finally {
    await handle.close()
  }
}

/** Writes the layout in `dir` to the tar file `out`, atomically (temp file, then rename). */
export const packLayout = (dir: string, out: string): Effect.Effect<void, LayoutIoFailed> =>
  Effect.tryPromise({ try: () => pack(dir, out), catch: (e) => new LayoutIoFailed({ path: out, detail: `writing the archive: ${ioReason(e)}` }) })

/** Extracts the layout files of the tar file `tarFile` into `dir`; refuses links, devices and escaping paths. */
export const unpackLayout = (tarFile: string, dir: string): Effect.Effect<void, LayoutIoFailed> =>
  Effect.tryPromise({ try: () => unpack(tarFile, dir), catch: (e) => new LayoutIoFailed({ path: tarFile, detail: ioReason(e) }) })
