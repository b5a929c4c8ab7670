/**
 * Benchmark options: flags beat environment variables, which beat the defaults (the issue's
 * numbers: 200 two-platform images, a 1 GiB layer, 3 rounds alternating the tools; 100 images
 * at +25 ms per request for wan, 2,000 images for scale).
 */
import { resolve } from "node:path"
import { parseArgs } from "node:util"

/** The workloads, in the order they run. */
export const WORKLOADS = ["startup", "warm", "cold", "big", "requests", "wan", "scale"] as const
export type Workload = (typeof WORKLOADS)[number]

/** Everything a run needs to know. */
export interface BenchOptions {
  /** timed rounds per workload; the tools alternate who goes first */
  readonly rounds: number
  /** images in the warm, cold and requests workloads */
  readonly images: number
  /** bytes of the shared base layer's content */
  readonly baseSize: number
  /** bytes of the big layer */
  readonly bigSize: number
  /** images in the wan workload */
  readonly wanImages: number
  /** bytes of the wan images' shared base layer (--base-size when given, else 1 MiB) */
  readonly wanBaseSize: number
  /** milliseconds the latency proxies hold every request (wan) */
  readonly delayMs: number
  /** images in the scale workload */
  readonly scaleImages: number
  readonly only: ReadonlySet<Workload>
  /** our CLI entry point (launch.ts, what `bun run sync` runs) */
  readonly syncer: string
  /** `-j` for our CLI; undefined: its default */
  readonly concurrency: number | undefined
  /** also time `skopeo sync` on the big image (informational) */
  readonly bigSkopeo: boolean
  /** where results.json goes */
  readonly json: string
  /** rewrite the table in docs/benchmark.md */
  readonly updateDocs: boolean
  /** keep the work directory (registries are still stopped) */
  readonly keep: boolean
}

export const USAGE = `bun run bench [flags]

Starts loopback docker-registry processes, generates images, and times our sync against
\`skopeo sync --all\` (warm, cold), a 1 GiB layer copy against plain curl (big), counts
requests per image from the registries' access logs (requests), runs warm and cold for both
tools through latency proxies that hold every request (wan), and times our warm and dry runs
over thousands of images against a 200-image warm run (scale).

  --rounds N          timed rounds per workload, tools alternating (default 3)   [BENCH_ROUNDS]
  --images N          images in warm/cold/requests (default 200)                 [BENCH_IMAGES]
  --big-size SIZE     size of the big layer: 1GiB, 256MiB, 5000000 (default 1GiB) [BENCH_BIG_SIZE]
  --base-size SIZE    shared base layer (default 2MiB; wan: 1MiB unless given)   [BENCH_BASE_SIZE]
  --wan-images N      images in wan (default 100)                                [BENCH_WAN_IMAGES]
  --delay MS          wan: milliseconds added to every request (default 25)      [BENCH_DELAY]
  --scale-images N    images in scale (default 2000)                             [BENCH_SCALE_IMAGES]
  --only LIST         comma-separated subset of startup,warm,cold,big,requests,wan,scale [BENCH_ONLY]
  --syncer PATH       our CLI (default: this checkout's src/cli/launch.ts)        [BENCH_SYNCER]
  --concurrency N     pass -j N to our CLI (default: the CLI's own default)       [BENCH_CONCURRENCY]
  --no-big-skopeo     do not time skopeo on the big image
  --json PATH         results file (default bench/results.json)
  --update-docs       rewrite the results table in docs/benchmark.md
  --keep              keep the work directory for inspection
  -h, --help          this text
`

/** "1GiB", "256MiB", "2MB", "5000000" → bytes. */
export const parseSize = (text: string): number => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$/i.exec(text)
  if (!match) throw new Error(`not a size: ${text} (try 1GiB, 256MiB or a byte count)`)
  const value = Number(match[1])
  const unit = (match[2] ?? "").toLowerCase().replace(/b$/, "")
  const powers: Record<string, number> = { "": 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30, ti: 2 ** 40 }
  const factor = powers[unit]
  if (factor === undefined) throw new Error(`unknown size unit in ${text}`)
  const bytes = Math.round(value * factor)
  if (bytes < 1) throw new Error(`size must be at least 1 byte: ${text}`)
  return bytes
}

const positive = (name: string, text: string): number => {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of at least 1 (got ${text})`)
  return n
}

const nonNegative = (name: string, text: string): number => {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number of at least 0 (got ${text})`)
  return n
}

/** Parses argv (without the runtime and script) and the environment. Throws on bad input. */
export const parseOptions = (argv: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>>, root: string): BenchOptions | "help" => {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      rounds: { type: "string" },
      images: { type: "string" },
      "big-size": { type: "string" },
      "base-size": { type: "string" },
      "wan-images": { type: "string" },
      delay: { type: "string" },
      "scale-images": { type: "string" },
      only: { type: "string" },
      syncer: { type: "string" },
      concurrency: { type: "string" },
      "no-big-skopeo": { type: "boolean" },
      json: { type: "string" },
      "update-docs": { type: "boolean" },
      keep: { type: "boolean" },
      help: { type: "boolean", short: "h" }
    }
  })
  if (values.help) return "help"
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? env[name]
  const onlyText = pick(values.only, "BENCH_ONLY")
  const only = new Set<Workload>()
  for (const part of (onlyText ?? WORKLOADS.join(",")).split(",").map((s) => s.trim()).filter(Boolean)) {
    if (!(WORKLOADS as ReadonlyArray<string>).includes(part)) {
      throw new Error(`--only: unknown workload "${part}" (choose from ${WORKLOADS.join(", ")})`)
    }
    only.add(part as Workload)
  }
  if (only.size === 0) throw new Error("--only names no workload")
  const concurrency = pick(values.concurrency, "BENCH_CONCURRENCY")
  const baseSize = pick(values["base-size"], "BENCH_BASE_SIZE")
  return {
    rounds: positive("--rounds", pick(values.rounds, "BENCH_ROUNDS") ?? "3"),
    images: positive("--images", pick(values.images, "BENCH_IMAGES") ?? "200"),
    baseSize: parseSize(baseSize ?? "2MiB"),
    bigSize: parseSize(pick(values["big-size"], "BENCH_BIG_SIZE") ?? "1GiB"),
    wanImages: positive("--wan-images", pick(values["wan-images"], "BENCH_WAN_IMAGES") ?? "100"),
    // a smaller base than warm/cold: over a WAN the layer bytes are not what the workload is about
    wanBaseSize: parseSize(baseSize ?? "1MiB"),
    delayMs: nonNegative("--delay", pick(values.delay, "BENCH_DELAY") ?? "25"),
    scaleImages: positive("--scale-images", pick(values["scale-images"], "BENCH_SCALE_IMAGES") ?? "2000"),
    only,
    syncer: resolve(pick(values.syncer, "BENCH_SYNCER") ?? resolve(root, "src/cli/launch.ts")),
    concurrency: concurrency === undefined ? undefined : positive("--concurrency", concurrency),
    bigSkopeo: values["no-big-skopeo"] !== true,
    json: resolve(values.json ?? resolve(root, "bench/results.json")),
    updateDocs: values["update-docs"] === true,
    keep: values.keep === true
  }
}
