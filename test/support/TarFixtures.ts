/** Hand-made tar archives for the tar reader's tests: pax headers with whatever a hostile archive puts in them. */
import { tarHeader } from "../../src/layout/Tar.ts"

/** A pax extended header ("x") carrying `records`, then `entry` as a regular file of `size`, then the end. */
export const paxArchive = (records: string, entry = "blobs/sha256/x", size = 0): Uint8Array => {
  const body = new TextEncoder().encode(records)
  const pad = (n: number) => new Uint8Array((512 - (n % 512)) % 512)
  const parts = [
    tarHeader("PaxHeaders/x", body.length, "0"),
    body,
    pad(body.length),
    tarHeader(entry, size, "0"),
    new Uint8Array(size),
    pad(size),
    new Uint8Array(1024)
  ]
  // tarHeader writes type "0"; the pax header is type "x" (the checksum is recomputed below)
  const pax = parts[0]!
  pax[156] = "x".charCodeAt(0)
  pax.set(new TextEncoder().encode("        "), 148)
  const sum = pax.reduce((a, b) => a + b, 0)
  pax.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, "0")}\0 `), 148)
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** A pax record "LEN key=value\n" with its own length counted. */
export const paxRecord = (key: string, value: string): string => {
  const text = ` ${key}=${value}\n`
  let length = text.length + 1
  while (String(length).length + text.length !== length) length++
  return `${length}${text}`
}
