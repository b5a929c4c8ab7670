/**
 * Results: medians and ratios per workload, the issue's must-hold checks, the table printed
 * at the end (markdown, so the same text goes into docs/benchmark.md), and results.json.
 */
import { readFile, rename, writeFile } from "node:fs/promises"
import type { PerImage, RegistryCounts } from "./accessLog.ts"
import type { ProxyCounts } from "./latencyProxy.ts"

/** The contenders. */
export type Tool = "ours" | "skopeo" | "curl-pipe" | "curl-file"

/** What a run belongs to. */
export type RunKind =
  /** ours alone: a 1-image no-op run, what start-up costs */
  | "startup"
  | "warm"
  | "cold"
  | "big"
  | "requests-cold"
  | "requests-warm"
  | "wan-warm"
  | "wan-cold"
  | "scale-warm"
  | "scale-dry"
  /** the 200-image warm run scale is compared with, when the warm workload did not run with 200 images */
  | "scale-baseline"

/** One measured run. */
export interface RunRecord {
  readonly kind: RunKind
  readonly round: number
  readonly tool: Tool
  /** images in the run's definition */
  readonly images: number
  readonly seconds: number
  readonly exitCode: number | null
  /** exit 0 and every target tag verified */
  readonly ok: boolean
  readonly problems: ReadonlyArray<string>
  readonly maxRssBytes: number
  readonly rssSource: "time" | "bun"
  readonly cpuSeconds: number
  /** CPU the source and target registries spent during the run (they share the machine's cores) */
  readonly registryCpuSeconds?: number | undefined
  readonly firstOutputSeconds: number | undefined
  readonly lastOutputSeconds: number | undefined
  /** 1-minute load average when the run started: other work on the machine skews times */
  readonly loadBefore: number
  readonly requests?: {
    readonly source: RegistryCounts
    readonly target: RegistryCounts
    readonly tokens: number
    readonly perImage: PerImage
  }
  /** how the shared base layer (cold) or the big layer (big) reached the target */
  readonly arrivals?: { readonly uploads: number; readonly mounts: number }
  /** wan: the latency proxies' own counts (`requests` above is also counted there), and the CPU they spent */
  readonly proxies?: { readonly delayMs: number; readonly source: ProxyCounts; readonly target: ProxyCounts; readonly cpuSeconds: number }
}

/** One of the issue's "must hold" lines. */
export interface MustHold {
  readonly id: number
  readonly text: string
  /** undefined: not measured in this run (--only) */
  readonly pass: boolean | undefined
  readonly detail: string
}

export const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Median seconds, peak RSS and failures of one tool in one kind of run. */
export interface ToolSummary {
  readonly runs: number
  readonly failed: number
  readonly medianSeconds: number
  readonly secondsEach: ReadonlyArray<number>
  readonly maxRssBytes: number
  readonly medianCpuSeconds: number
  readonly medianRegistryCpuSeconds: number
}

export const summarize = (runs: ReadonlyArray<RunRecord>, kind: RunKind, tool: Tool): ToolSummary | undefined => {
  const mine = runs.filter((r) => r.kind === kind && r.tool === tool)
  if (mine.length === 0) return undefined
  // a failed run is not a valid time: medians are over successful runs only
  const good = mine.filter((r) => r.ok)
  return {
    runs: mine.length,
    failed: mine.length - good.length,
    medianSeconds: median(good.map((r) => r.seconds)),
    secondsEach: mine.map((r) => round(r.seconds, 3)),
    maxRssBytes: Math.max(...mine.map((r) => r.maxRssBytes)),
    medianCpuSeconds: round(median(good.map((r) => r.cpuSeconds)), 3),
    medianRegistryCpuSeconds: round(median(good.flatMap((r) => (r.registryCpuSeconds === undefined ? [] : [r.registryCpuSeconds]))), 3)
  }
}

export const round = (n: number, digits = 2): number => {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

const MB = 1_000_000
export const mb = (bytes: number): string => `${Math.round(bytes / MB)} MB`
const gib = (bytes: number): string => (bytes >= 2 ** 30 * 0.99 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : mb(bytes))
export const secs = (s: number | undefined): string => s === undefined || Number.isNaN(s) ? "–" : s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`
const times = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(1)}×` : "–")
const msEach = (s: number): string => (Number.isFinite(s) ? `${(s * 1000).toFixed(2)} ms/image` : "–")
const wallCpu = (s: ToolSummary | undefined): string =>
  s === undefined
    ? "–"
    : `${secs(s.medianSeconds)} (CPU ${secs(s.medianCpuSeconds)}${
      Number.isFinite(s.medianRegistryCpuSeconds) ? `; registries ${secs(s.medianRegistryCpuSeconds)}` : ""
    })${s.failed > 0 ? ` (${s.failed} of ${s.runs} failed)` : ""}`

/**
 * The shortest wall time the machine allows for a tool's runs: the CPU the tool and the
 * registries need together, spread perfectly over every core. No client can beat it.
 */
export const cpuFloorSeconds = (s: ToolSummary | undefined, cores: number): number =>
  s === undefined ? NaN : (s.medianCpuSeconds + s.medianRegistryCpuSeconds) / Math.max(1, cores)

const floorNote = (s: ToolSummary | undefined, other: ToolSummary | undefined, cores: number, want: number): string => {
  if (s === undefined || other === undefined || !Number.isFinite(s.medianRegistryCpuSeconds)) return ""
  const registriesOnly = s.medianRegistryCpuSeconds / Math.max(1, cores)
  return `; the registries alone spent ${
    secs(s.medianRegistryCpuSeconds)
  } of CPU serving our requests, so on ${cores} cores no run of ours can take less than ${secs(registriesOnly)} ` +
    `(${times(other.medianSeconds / registriesOnly)} skopeo's time at best, want ${want}×); with our own CPU the floor is ${secs(cpuFloorSeconds(s, cores))}`
}
const verdict = (pass: boolean | undefined): string => (pass === undefined ? "not measured" : pass ? "**pass**" : "**FAIL**")

/** The summary section of results.json. */
export interface Summary {
  readonly warm?: { readonly ours?: ToolSummary; readonly skopeo?: ToolSummary; readonly ratio: number }
  readonly cold?: {
    readonly ours?: ToolSummary
    readonly skopeo?: ToolSummary
    readonly ratio: number
    readonly baseArrivals: {
      readonly ours: ReadonlyArray<{ uploads: number; mounts: number }>
      readonly skopeo: ReadonlyArray<{ uploads: number; mounts: number }>
    }
  }
  readonly big?: {
    readonly layerBytes: number
    readonly ours?: ToolSummary
    readonly curlPipe?: ToolSummary
    readonly curlFile?: ToolSummary
    readonly skopeo?: ToolSummary
    /** ours / curl-pipe: 1.5 allowed */
    readonly slowdownVsCurlPipe: number
    readonly slowdownVsCurlFile: number
    readonly throughputMBps: Readonly<Record<string, number>>
  }
  readonly requests?: Readonly<Record<string, PerImage>>
  /** our CPU: start-up (a 1-image no-op run), and per image and per request of every other run of ours */
  readonly ourCpu?: OurCpu
  readonly wan?: {
    readonly images: number
    readonly delayMs: number
    readonly warm: WanPair
    readonly cold: WanPair
    /** at both proxies, per image, for "ours warm", "skopeo cold", … */
    readonly requestsPerImage: Readonly<Record<string, ProxyPerImage>>
  }
  readonly scale?: {
    readonly images: number
    readonly warm?: ToolSummary
    readonly dry?: ToolSummary
    /** the warm run of ours the per-image times are compared with */
    readonly baseline: { readonly kind: "warm" | "scale-baseline"; readonly images: number; readonly ours?: ToolSummary }
    readonly secondsPerImage: { readonly warm: number; readonly dry: number; readonly baseline: number }
    /** per-image time over the baseline's: 1.3 allowed */
    readonly warmVsBaseline: number
    readonly dryVsBaseline: number
    /** of the warm and dry runs */
    readonly maxRssBytes: number
  }
}

/** Our CPU, start-up apart from the work: what each image and each request costs us. */
export interface OurCpu {
  /** median CPU seconds of the 1-image no-op run (the startup workload) */
  readonly startupSeconds: number
  /** per run kind of ours: images, median CPU, and the CPU beyond start-up per image and per request */
  readonly runs: Readonly<
    Record<
      string,
      { readonly images: number; readonly cpuSeconds: number; readonly perImageMs: number; readonly perRequestMs: number; readonly requestsPerImage: number }
    >
  >
}

/**
 * Our CPU per image and per request: each run's median CPU less the start-up CPU, over its
 * images and over its requests (both registries and the token server; the wan runs counted at
 * the proxies). Without a startup run the whole CPU is spread (start-up included).
 */
export const ourCpu = (
  runs: ReadonlyArray<RunRecord>,
  perImage: Readonly<Record<string, PerImage>>,
  wanPerImage: Readonly<Record<string, ProxyPerImage>>
): OurCpu | undefined => {
  const startup = summarize(runs, "startup", "ours")
  const startupSeconds = startup?.medianCpuSeconds ?? NaN
  const out: Record<string, OurCpu["runs"][string]> = {}
  const kinds: ReadonlyArray<RunKind> = [
    "warm",
    "cold",
    "requests-warm",
    "requests-cold",
    "wan-warm",
    "wan-cold",
    "scale-warm",
    "scale-dry",
    "scale-baseline",
    "big"
  ]
  for (const kind of kinds) {
    const s = summarize(runs, kind, "ours")
    if (s === undefined || !Number.isFinite(s.medianCpuSeconds)) continue
    const images = runs.find((r) => r.kind === kind && r.tool === "ours")?.images ?? NaN
    const requestsPerImage = kind.startsWith("wan-")
      ? wanPerImage[`ours ${kind.slice(4)}`]?.total ?? NaN
      : perImage[`ours ${kind}`]?.total ?? runs.find((r) => r.kind === kind && r.tool === "ours" && r.requests)?.requests?.perImage.total ?? NaN
    const work = s.medianCpuSeconds - (Number.isFinite(startupSeconds) ? startupSeconds : 0)
    out[kind] = {
      images,
      cpuSeconds: s.medianCpuSeconds,
      perImageMs: round((work * 1000) / images, 3),
      perRequestMs: round((work * 1000) / (images * requestsPerImage), 3),
      requestsPerImage
    }
  }
  if (startup === undefined && Object.keys(out).length === 0) return undefined
  return { startupSeconds, runs: out }
}

/** Ours and skopeo in one wan run kind. */
export interface WanPair {
  readonly ours?: ToolSummary
  readonly skopeo?: ToolSummary
  /** skopeo's median over ours */
  readonly ratio: number
  /** median CPU the two proxies spent (they run in the bench process, on the same cores) */
  readonly proxyCpuSeconds: { readonly ours: number; readonly skopeo: number }
  /** how the shared base layer reached the target, per run (cold) */
  readonly baseArrivals: {
    readonly ours: ReadonlyArray<{ uploads: number; mounts: number }>
    readonly skopeo: ReadonlyArray<{ uploads: number; mounts: number }>
  }
}

/** Requests per image at both latency proxies of a wan run. */
export interface ProxyPerImage {
  readonly total: number
  readonly manifest: number
  readonly blob: number
  readonly other: number
  readonly byMethod: Readonly<Record<string, number>>
}

/** Source + target proxy counts divided by the image count. */
export const proxyPerImage = (source: ProxyCounts, target: ProxyCounts, images: number): ProxyPerImage => {
  const per = (n: number) => round(n / Math.max(1, images), 2)
  const byMethod: Record<string, number> = {}
  for (const method of new Set([...Object.keys(source.byMethod), ...Object.keys(target.byMethod)])) {
    byMethod[method] = per((source.byMethod[method] ?? 0) + (target.byMethod[method] ?? 0))
  }
  return {
    total: per(source.total + target.total),
    manifest: per(source.byKind.manifest + target.byKind.manifest),
    blob: per(source.byKind.blob + target.byKind.blob),
    other: per(source.byKind.other + target.byKind.other),
    byMethod
  }
}

const wanPair = (runs: ReadonlyArray<RunRecord>, kind: RunKind): WanPair => {
  const ours = summarize(runs, kind, "ours")
  const skopeo = summarize(runs, kind, "skopeo")
  const mine = (tool: Tool) => runs.filter((r) => r.kind === kind && r.tool === tool)
  const proxyCpu = (tool: Tool) => round(median(mine(tool).filter((r) => r.ok && r.proxies).map((r) => r.proxies!.cpuSeconds)), 3)
  const arrivals = (tool: Tool) => mine(tool).filter((r) => r.arrivals).map((r) => ({ ...r.arrivals! }))
  return {
    ours,
    skopeo,
    ratio: round((skopeo?.medianSeconds ?? NaN) / (ours?.medianSeconds ?? NaN), 2),
    proxyCpuSeconds: { ours: proxyCpu("ours"), skopeo: proxyCpu("skopeo") },
    baseArrivals: { ours: arrivals("ours"), skopeo: arrivals("skopeo") }
  }
}

/** The scale summary: ours' warm and dry runs per image against a warm run of 200 (or the warm workload's). */
const scaleSummary = (runs: ReadonlyArray<RunRecord>): Summary["scale"] => {
  const imagesOf = (kind: RunKind) => runs.find((r) => r.kind === kind)?.images ?? NaN
  const warm = summarize(runs, "scale-warm", "ours")
  const dry = summarize(runs, "scale-dry", "ours")
  // the bench runs its own baseline only when the warm workload did not give one of 200 images
  const baselineKind = runs.some((r) => r.kind === "scale-baseline") ? "scale-baseline" : "warm"
  const baseline = { kind: baselineKind, images: imagesOf(baselineKind), ours: summarize(runs, baselineKind, "ours") } as const
  const images = imagesOf("scale-warm")
  const secondsPerImage = {
    warm: (warm?.medianSeconds ?? NaN) / images,
    dry: (dry?.medianSeconds ?? NaN) / imagesOf("scale-dry"),
    baseline: (baseline.ours?.medianSeconds ?? NaN) / baseline.images
  }
  return {
    images,
    warm,
    dry,
    baseline,
    secondsPerImage: { warm: round(secondsPerImage.warm, 6), dry: round(secondsPerImage.dry, 6), baseline: round(secondsPerImage.baseline, 6) },
    warmVsBaseline: round(secondsPerImage.warm / secondsPerImage.baseline, 2),
    dryVsBaseline: round(secondsPerImage.dry / secondsPerImage.baseline, 2),
    maxRssBytes: Math.max(warm?.maxRssBytes ?? NaN, dry?.maxRssBytes ?? NaN)
  }
}

export const buildSummary = (runs: ReadonlyArray<RunRecord>, layerBytes: number | undefined): Summary => {
  const summary: { -readonly [K in keyof Summary]: Summary[K] } = {}
  const has = (kind: RunKind) => runs.some((r) => r.kind === kind)
  if (has("warm")) {
    const ours = summarize(runs, "warm", "ours")
    const skopeo = summarize(runs, "warm", "skopeo")
    summary.warm = { ours, skopeo, ratio: round((skopeo?.medianSeconds ?? NaN) / (ours?.medianSeconds ?? NaN), 2) }
  }
  if (has("cold")) {
    const ours = summarize(runs, "cold", "ours")
    const skopeo = summarize(runs, "cold", "skopeo")
    const arrivals = (tool: Tool) => runs.filter((r) => r.kind === "cold" && r.tool === tool && r.arrivals).map((r) => ({ ...r.arrivals! }))
    summary.cold = {
      ours,
      skopeo,
      ratio: round((skopeo?.medianSeconds ?? NaN) / (ours?.medianSeconds ?? NaN), 2),
      baseArrivals: { ours: arrivals("ours"), skopeo: arrivals("skopeo") }
    }
  }
  if (has("big") && layerBytes !== undefined) {
    const ours = summarize(runs, "big", "ours")
    const curlPipe = summarize(runs, "big", "curl-pipe")
    const curlFile = summarize(runs, "big", "curl-file")
    const skopeo = summarize(runs, "big", "skopeo")
    const throughputMBps: Record<string, number> = {}
    for (const [name, s] of Object.entries({ ours, "curl-pipe": curlPipe, "curl-file": curlFile, skopeo })) {
      if (s && Number.isFinite(s.medianSeconds)) throughputMBps[name] = round(layerBytes / MB / s.medianSeconds, 1)
    }
    summary.big = {
      layerBytes,
      ours,
      curlPipe,
      curlFile,
      skopeo,
      slowdownVsCurlPipe: round((ours?.medianSeconds ?? NaN) / (curlPipe?.medianSeconds ?? NaN), 2),
      slowdownVsCurlFile: round((ours?.medianSeconds ?? NaN) / (curlFile?.medianSeconds ?? NaN), 2),
      throughputMBps
    }
  }
  if (has("wan-warm") || has("wan-cold")) {
    const wanRuns = runs.filter((r) => r.kind === "wan-warm" || r.kind === "wan-cold")
    const requestsPerImage: Record<string, ProxyPerImage> = {}
    for (const kind of ["wan-warm", "wan-cold"] as const) {
      for (const tool of ["ours", "skopeo"] as const) {
        const run = runs.find((r) => r.kind === kind && r.tool === tool && r.proxies)
        if (run?.proxies) requestsPerImage[`${tool} ${kind.slice(4)}`] = proxyPerImage(run.proxies.source, run.proxies.target, run.images)
      }
    }
    summary.wan = {
      images: wanRuns[0]?.images ?? NaN,
      delayMs: wanRuns.find((r) => r.proxies)?.proxies?.delayMs ?? NaN,
      warm: wanPair(runs, "wan-warm"),
      cold: wanPair(runs, "wan-cold"),
      requestsPerImage
    }
  }
  if (has("scale-warm") || has("scale-dry")) summary.scale = scaleSummary(runs)
  const perImage: Record<string, PerImage> = {}
  for (const kind of ["warm", "cold", "requests-warm", "requests-cold", "wan-warm", "wan-cold", "scale-warm", "scale-dry"] as const) {
    for (const tool of ["ours", "skopeo"] as const) {
      // the first successful run of each kind is the one reported (they are deterministic)
      const run = runs.find((r) => r.kind === kind && r.tool === tool && r.requests)
      if (run?.requests) perImage[`${tool} ${kind}`] = run.requests.perImage
    }
  }
  if (Object.keys(perImage).length > 0) summary.requests = perImage
  const cpu = ourCpu(runs, perImage, summary.wan?.requestsPerImage ?? {})
  if (cpu !== undefined) summary.ourCpu = cpu
  return summary
}

/** The issue's four must-hold lines and those of wan and scale, judged on this run. */
export const judge = (runs: ReadonlyArray<RunRecord>, summary: Summary, images: number, completed: boolean, cores = 1): Array<MustHold> => {
  const checks: Array<MustHold> = []
  {
    const warmOurs = runs.filter((r) => (r.kind === "warm" || r.kind === "requests-warm") && r.tool === "ours")
    const worst = Math.max(...warmOurs.filter((r) => r.requests).map((r) => r.requests!.perImage.manifestRequests))
    const tokens = Math.max(...warmOurs.filter((r) => r.kind === "requests-warm" && r.requests).map((r) => r.requests!.perImage.tokens), -1)
    const failed = warmOurs.filter((r) => !r.ok).length
    const ratio = summary.warm?.ratio ?? NaN
    const pass = summary.warm === undefined ? undefined : ratio >= 10 && worst <= 2 && failed === 0
    checks.push({
      id: 1,
      text: `Warm: ≥ 10× faster than skopeo sync on the same ${images} images, with ≤ 2 manifest requests per image`,
      pass,
      detail: summary.warm === undefined
        ? "warm not run"
        : `ratio ${times(ratio)} (ours ${secs(summary.warm.ours?.medianSeconds)}, skopeo ${secs(summary.warm.skopeo?.medianSeconds)}); ` +
          `manifest requests per image ≤ ${Number.isFinite(worst) ? worst : "–"}` +
          (tokens >= 0 ? `; token requests per image ${tokens}` : "") +
          (failed > 0 ? `; ${failed} failed run(s)` : "") +
          floorNote(summary.warm.ours, summary.warm.skopeo, cores, 10)
    })
  }
  {
    const cold = summary.cold
    const arrivals = cold?.baseArrivals.ours ?? []
    const baseOk = arrivals.length > 0 && arrivals.every((a) => a.uploads === 1 && a.mounts === images - 1)
    const failed = runs.filter((r) => r.kind === "cold" && r.tool === "ours" && !r.ok).length
    const pass = cold === undefined ? undefined : cold.ratio >= 5 && baseOk && failed === 0
    checks.push({
      id: 2,
      text: `Cold: ≥ 5× faster than skopeo sync on the same ${images} images; the shared base layer is uploaded once and mounted everywhere else`,
      pass,
      detail: cold === undefined
        ? "cold not run"
        : `ratio ${times(cold.ratio)} (ours ${secs(cold.ours?.medianSeconds)}, skopeo ${secs(cold.skopeo?.medianSeconds)}); ` +
          `base layer per run: ${arrivals.map((a) => `${a.uploads} upload(s) + ${a.mounts} mount(s)`).join(", ") || "–"} (want 1 + ${images - 1})` +
          (failed > 0 ? `; ${failed} failed run(s)` : "") +
          floorNote(cold.ours, cold.skopeo, cores, 5)
    })
  }
  {
    const big = summary.big
    const rss = big?.ours?.maxRssBytes ?? NaN
    const pass = big === undefined ? undefined : rss < 200 * MB && big.slowdownVsCurlPipe <= 1.5 && (big.ours?.failed ?? 1) === 0
    checks.push({
      id: 3,
      text: "Big: peak RSS below 200 MB while copying a 1 GiB layer, and throughput within 1.5× of curl download + upload",
      pass,
      detail: big === undefined
        ? "big not run"
        : `peak RSS ${mb(rss)}; ours ${secs(big.ours?.medianSeconds)} vs curl pipe ${secs(big.curlPipe?.medianSeconds)} ` +
          `(${times(big.slowdownVsCurlPipe)} of curl's time; curl to file then upload ${secs(big.curlFile?.medianSeconds)}, ${times(big.slowdownVsCurlFile)})` +
          (big.layerBytes < 2 ** 30 ? `; layer was only ${mb(big.layerBytes)}` : "")
    })
  }
  checks.push({
    id: 4,
    text: "Reproducible by anyone from the README with one command",
    pass: completed,
    detail: completed ? "`bun run bench` ran every selected workload end to end" : "the run did not complete"
  })
  const wan = summary.wan
  for (const [id, kind, want] of [[5, "warm", 40], [6, "cold", 12]] as const) {
    const pair = wan?.[kind]
    const failed = runs.filter((r) => r.kind === `wan-${kind}` && r.tool === "ours" && !r.ok).length
    const req = (tool: Tool) => wan?.requestsPerImage[`${tool} ${kind}`]?.total ?? NaN
    checks.push({
      id,
      text:
        `WAN ${kind}: ≥ ${want}× faster than skopeo sync on the same ${wan ? `${wan.images} ` : ""}images${
          kind === "warm" ? ", all present" : " into an empty target"
        }, ` +
        `every request delayed ${wan ? `${wan.delayMs} ms` : "by a latency proxy"}`,
      pass: pair === undefined ? undefined : pair.ratio >= want && failed === 0,
      detail: pair === undefined
        ? "wan not run"
        : `ratio ${times(pair.ratio)} (ours ${secs(pair.ours?.medianSeconds)}, skopeo ${secs(pair.skopeo?.medianSeconds)}); ` +
          `requests per image at the proxies: ours ${req("ours")}, skopeo ${req("skopeo")}; ` +
          `the proxies' CPU: ${secs(pair.proxyCpuSeconds.ours)} in our runs, ${secs(pair.proxyCpuSeconds.skopeo)} in skopeo's` +
          (kind === "cold"
            ? `; base layer per run of ours: ${pair.baseArrivals.ours.map((a) => `${a.uploads} upload(s) + ${a.mounts} mount(s)`).join(", ") || "–"}`
            : "") +
          (failed > 0 ? `; ${failed} failed run(s)` : "")
    })
  }
  {
    const scale = summary.scale
    const failed = runs.filter((r) => r.kind.startsWith("scale-") && !r.ok).length
    const pass = scale === undefined
      ? undefined
      : scale.warmVsBaseline <= 1.3 && scale.dryVsBaseline <= 1.3 && scale.maxRssBytes < 300 * MB && failed === 0
    checks.push({
      id: 7,
      text: `Scale: ${scale ? scale.images : "thousands of"} images, warm and dry run, within 1.3× of a ${
        scale?.baseline.images ?? 200
      }-image warm run's time per image, peak RSS below 300 MB`,
      pass,
      detail: scale === undefined
        ? "scale not run"
        : `warm ${msEach(scale.secondsPerImage.warm)} (${times(scale.warmVsBaseline)}), dry run ${msEach(scale.secondsPerImage.dry)} (${
          times(scale.dryVsBaseline)
        }) ` +
          `against ${msEach(scale.secondsPerImage.baseline)} of the ${scale.baseline.images}-image warm run (${
            scale.baseline.kind === "warm" ? "the warm workload" : "same content"
          }); ` +
          `peak RSS ${mb(scale.maxRssBytes)}` +
          (failed > 0 ? `; ${failed} failed run(s)` : "")
    })
  }
  {
    const cpu = summary.ourCpu
    const startup = cpu?.startupSeconds ?? NaN
    checks.push({
      id: 8,
      text: "Start-up: a 1-image no-op run takes ≤ 0.18 s of our CPU",
      pass: cpu === undefined || !Number.isFinite(startup) ? undefined : startup <= 0.18,
      detail: Number.isFinite(startup) ? `${secs(startup)} of CPU (median)` : "startup not run"
    })
    const warmRuns = (["warm", "scale-warm"] as const).flatMap((k) => (cpu?.runs[k] ? [[k, cpu.runs[k]!] as const] : []))
    checks.push({
      id: 9,
      text: "Warm no-op: ≤ 1.0 ms of our CPU per image (beyond start-up), at the warm and the scale image counts",
      pass: warmRuns.length === 0 || !Number.isFinite(startup) ? undefined : warmRuns.every(([, r]) => r.perImageMs <= 1.0),
      detail: warmRuns.length === 0
        ? "warm and scale not run"
        : warmRuns.map(([k, r]) => `${k} ${r.images} images: ${r.perImageMs} ms/image, ${r.perRequestMs} ms/request`).join("; ") +
          (Number.isFinite(startup) ? "" : " (start-up not measured: it is included)")
    })
    const cold = cpu?.runs["cold"]
    checks.push({
      id: 10,
      text: "Cold: ≤ 0.7 ms of our CPU per request (beyond start-up)",
      pass: cold === undefined || !Number.isFinite(startup) ? undefined : cold.perRequestMs <= 0.7,
      detail: cold === undefined ? "cold not run" : `${cold.perRequestMs} ms/request (${cold.requestsPerImage} requests per image, ${cold.perImageMs} ms/image)`
    })
  }
  return checks
}

/** The markdown table (also what --update-docs writes). */
export const renderTable = (summary: Summary, checks: ReadonlyArray<MustHold>, images: number, machine: string): string => {
  const lines: Array<string> = []
  lines.push(`Machine: ${machine}`)
  lines.push("")
  lines.push(
    "| workload | ours: median wall time (CPU; registries' CPU) | reference: median wall time (CPU; registries' CPU) | ratio (wall) | must hold | result |"
  )
  lines.push("|---|---|---|---|---|---|")
  const verdictOf = (id: number) => verdict(checks.find((c) => c.id === id)?.pass)
  if (summary.warm) {
    const w = summary.warm
    lines.push(
      `| warm: ${images} images, all present | ${wallCpu(w.ours)} | skopeo sync ${wallCpu(w.skopeo)} | ${
        times(w.ratio)
      } faster | ≥ 10×, ≤ 2 manifest req/image | ${verdictOf(1)} |`
    )
  }
  if (summary.cold) {
    const c = summary.cold
    const base = c.baseArrivals.ours[0]
    lines.push(
      `| cold: ${images} images, empty target | ${wallCpu(c.ours)} | skopeo sync ${wallCpu(c.skopeo)} | ${
        times(c.ratio)
      } faster | ≥ 5×, base uploaded once (ours: ${base ? `${base.uploads} upload + ${base.mounts} mounts` : "–"}) | ${verdictOf(2)} |`
    )
  }
  if (summary.big) {
    const b = summary.big
    const ref = [
      `curl pipe ${wallCpu(b.curlPipe)}`,
      `curl via file ${wallCpu(b.curlFile)}`,
      ...(b.skopeo ? [`skopeo ${wallCpu(b.skopeo)}, RSS ${mb(b.skopeo.maxRssBytes)}`] : [])
    ].join("; ")
    lines.push(
      `| big: one ${gib(b.layerBytes)} layer | ${wallCpu(b.ours)} (${b.throughputMBps["ours"] ?? "–"} MB/s), peak RSS ${
        mb(b.ours?.maxRssBytes ?? NaN)
      } | ${ref} | ${times(b.slowdownVsCurlPipe)} curl pipe's time | RSS < 200 MB, ≤ 1.5× curl | ${verdictOf(3)} |`
    )
  }
  if (summary.wan) {
    const w = summary.wan
    for (const [id, kind, want] of [[5, "warm", 40], [6, "cold", 12]] as const) {
      const pair = w[kind]
      const req = (tool: Tool) => `${w.requestsPerImage[`${tool} ${kind}`]?.total ?? "–"} req/image`
      const what = kind === "warm" ? "all present" : "empty target"
      lines.push(
        `| wan ${kind}: ${w.images} images, ${what}, +${w.delayMs} ms per request | ${wallCpu(pair.ours)}; ${req("ours")} | skopeo sync ${
          wallCpu(pair.skopeo)
        }; ${req("skopeo")} | ${times(pair.ratio)} faster | ≥ ${want}× | ${verdictOf(id)} |`
      )
    }
  }
  if (summary.scale) {
    const s = summary.scale
    const ours = `warm ${wallCpu(s.warm)} (${msEach(s.secondsPerImage.warm)}); dry run ${wallCpu(s.dry)} (${msEach(s.secondsPerImage.dry)}); peak RSS ${
      mb(s.maxRssBytes)
    }`
    const ref = `ours, ${s.baseline.images}-image warm ${wallCpu(s.baseline.ours)} (${msEach(s.secondsPerImage.baseline)})`
    lines.push(
      `| scale: ${s.images} images, ours only | ${ours} | ${ref} | ${times(s.warmVsBaseline)} (warm), ${
        times(s.dryVsBaseline)
      } (dry) the time per image | ≤ 1.3× per image, RSS < 300 MB | ${verdictOf(7)} |`
    )
  }
  if (summary.requests) {
    lines.push("")
    lines.push(
      "Requests per image (both registries; access logs, plus the token server's log in the `requests-*` runs; the `wan-*` runs are counted at the latency proxies):"
    )
    lines.push("")
    lines.push("| run | manifest req | of which HEAD | GET (source GET = pull) | PUT | blob req | /v2/ pings | tokens | other | total |")
    lines.push("|---|---|---|---|---|---|---|---|---|---|")
    for (const [name, p] of Object.entries(summary.requests)) {
      lines.push(
        `| ${name} | ${p.manifestRequests} | ${p.manifestHead} | ${p.manifestGet} (${p.sourceManifestGets}) | ${p.manifestPut} | ${p.blobRequests} | ${p.pings} | ${p.tokens} | ${p.other} | ${p.total} |`
      )
    }
  }
  if (summary.ourCpu) {
    const cpu = summary.ourCpu
    lines.push("")
    lines.push(`Our CPU: start-up (a 1-image no-op run) ${secs(cpu.startupSeconds)}; per image and per request, each run's median CPU less the start-up:`)
    lines.push("")
    lines.push("| run | images | CPU (median) | per image | requests per image | per request |")
    lines.push("|---|---|---|---|---|---|")
    for (const [kind, r] of Object.entries(cpu.runs)) {
      lines.push(
        `| ours ${kind} | ${r.images} | ${secs(r.cpuSeconds)} | ${r.perImageMs.toFixed(2)} ms | ${
          Number.isFinite(r.requestsPerImage) ? r.requestsPerImage : "–"
        } | ${Number.isFinite(r.perRequestMs) ? `${r.perRequestMs.toFixed(3)} ms` : "–"} |`
      )
    }
  }
  lines.push("")
  for (const c of checks) lines.push(`${c.id}. ${verdict(c.pass)}: ${c.text}. ${c.detail}.`)
  return lines.join("\n")
}

/** Writes JSON atomically (temp file + rename). */
export const writeJsonAtomic = async (path: string, value: unknown): Promise<void> => {
  const tmp = `${path}.tmp`
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`)
  await rename(tmp, path)
}

const START = "<!-- bench-results:start -->"
const END = "<!-- bench-results:end -->"

/** Replaces the generated section of a markdown file (between the markers). */
export const updateDoc = async (path: string, table: string, stamp: string): Promise<boolean> => {
  const text = await readFile(path, "utf8").catch(() => undefined)
  if (text === undefined) return false
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  if (start < 0 || end < start) return false
  const body = `${START}\n<!-- generated by \`bun run bench --update-docs\`; ${stamp} -->\n\n${table}\n\n${END}`
  await writeFile(path, text.slice(0, start) + body + text.slice(end + END.length))
  return true
}
