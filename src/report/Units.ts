/** Sizes and durations as people read them, the same in every output. */

/** "0 B", "512 B", "1.5 KiB", "12.3 MiB", "2.00 GiB". */
export const formatBytes = (n: number): string => {
  if (!Number.isFinite(n) || n < 1024) return `${Math.max(0, Math.round(Number.isFinite(n) ? n : 0))} B`
  const units = ["KiB", "MiB", "GiB", "TiB"]
  let value = n / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)} ${units[unit]}`
}

/** "850ms", "12.3s", "4m05s", "1h02m". */
export const formatDuration = (ms: number): string => {
  const safe = Math.max(0, Math.round(ms))
  if (safe < 1000) return `${safe}ms`
  if (safe < 60_000) return `${(safe / 1000).toFixed(1)}s`
  const seconds = Math.round(safe / 1000)
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`
  const minutes = Math.round(seconds / 60)
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`
}

/** A digest as people read it: the algorithm and the first 12 hex digits, `mark` after them when something was left out. */
export const shortenDigest = (digest: string, mark = ""): string => {
  const [algorithm, hex] = digest.split(":")
  if (hex === undefined) return digest.slice(0, 19)
  return hex.length > 12 ? `${algorithm}:${hex.slice(0, 12)}${mark}` : digest
}
