/**
 * `bun run bench`: our sync against `skopeo sync --all` (and a 1 GiB layer against plain curl)
 * on throwaway loopback `docker-registry` processes, also behind latency proxies (wan), and our
 * sync alone over thousands of images (scale). See docs/benchmark.md for what is measured and
 * how to read the table. Every registry, proxy, child process and temp dir is removed at the
 * end, also on failure or Ctrl-C.
 */
import { existsSync } from "node:fs"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os"
import { join, resolve } from "node:path"
import { startRegistry } from "../demo/LocalRegistry.ts"
import { withEngineEnv } from "../src/cli/Engine.ts"
import type { LocalRegistry, LocalRegistryOptions, LoggedRequest } from "../demo/LocalRegistry.ts"
import { startTokenServer } from "../test/support/TokenServer.ts"
import type { TokenServer } from "../test/support/TokenServer.ts"
import { blobArrivals, countRequests, perImage } from "./accessLog.ts"
import { startLatencyProxy } from "./latencyProxy.ts"
import type { LatencyProxy } from "./latencyProxy.ts"
import { parseOptions, USAGE } from "./options.ts"
import type { BenchOptions } from "./options.ts"
import { buildSummary, judge, mb, renderTable, secs, updateDoc, writeJsonAtomic } from "./report.ts"
import type { RunKind, RunRecord, Tool } from "./report.ts"
import { firstLine, killRunning, tail, timed, verifyTags } from "./tools.ts"
import type { ExpectedTag, TimedRun } from "./tools.ts"
import { pushBigImage, pushImageSet, pushScaleSet } from "./workloads.ts"
import type { BenchImage, BigImage, ImageSet } from "./workloads.ts"

const root = resolve(import.meta.dir, "..")
const log = (line: string) => process.stderr.write(`${line}\n`)

/** A fake GCR-style key: the token server accepts it as the `_json_key` password. */
const KEY = JSON.stringify({ type: "service_account", project_id: "image-syncer-bench", private_key_id: "bench" })

/** Target repositories live under this path, for both tools. */
const MIRROR = "mirror"

/** "127.0.0.1:5000" → "127.0.0.1-5000", as our target naming does it (skopeo is given the same path). */
const hostPath = (host: string) => host.replace(/:/g, "-")

/** Where an image of `sourceHost` lands in the target, for both tools. */
const targetRepository = (sourceHost: string, image: BenchImage) => `${MIRROR}/${hostPath(sourceHost)}/${image.repository}`

/** The target tags a sync of `images` from `sourceHost` must leave. */
const expectedTags = (sourceHost: string, images: ReadonlyArray<BenchImage>): Array<ExpectedTag> =>
  images.map((i) => ({ repository: targetRepository(sourceHost, i), tag: i.tag, digest: i.digest }))

/** Scale's time per image is compared with a warm run of this many images. */
const SCALE_BASELINE = 200

/** The registry or proxy a tool is pointed at. */
interface Endpoint {
  readonly host: string
}

/** Where a run's requests are counted: the registries' access logs, or the latency proxies in front of them. */
interface RequestLog {
  readonly requests: () => ReadonlyArray<LoggedRequest>
  readonly resetRequests: () => Promise<void>
  readonly settle: () => Promise<void>
}

/** Things to undo at the end, newest first. */
class Cleanup {
  private readonly steps: Array<{ readonly name: string; readonly run: () => Promise<void> }> = []
  private done: Promise<void> | undefined
  add(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run })
  }
  remove(run: () => Promise<void>): void {
    const i = this.steps.findIndex((s) => s.run === run)
    if (i >= 0) this.steps.splice(i, 1)
  }
  runAll(): Promise<void> {
    this.done ??= (async () => {
      killRunning()
      for (const step of this.steps.reverse()) {
        await step.run().catch((e) => log(`cleanup: ${step.name}: ${String(e)}`))
      }
    })()
    return this.done
  }
}

/** Facts about this machine for the table and results.json. */
const machineInfo = async () => {
  const cpu = cpus()
  const [skopeo, registry, curl] = await Promise.all([
    firstLine(["skopeo", "--version"]),
    firstLine(["docker-registry", "--version"]),
    firstLine(["curl", "--version"])
  ])
  return {
    cpu: cpu[0]?.model ?? "unknown",
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    bun: Bun.version,
    skopeo,
    registry,
    curl: curl.split(" ").slice(0, 2).join(" ")
  }
}

/** The commit of the checkout holding the syncer, and whether it has local changes. */
const syncerVersion = async (syncer: string) => {
  const dir = resolve(syncer, "..")
  const commit = await firstLine(["git", "-C", dir, "rev-parse", "--short", "HEAD"])
  if (!/^[0-9a-f]{4,}$/.test(commit)) return { commit: undefined, dirty: undefined }
  const proc = Bun.spawn(["git", "-C", dir, "status", "--porcelain", "--", "src", "plugins"], { stdout: "pipe", stderr: "ignore" })
  const status = await new Response(proc.stdout).text()
  await proc.exited
  return { commit, dirty: status.trim().length > 0 }
}

const main = async (): Promise<number> => {
  let options: BenchOptions | "help"
  try {
    options = parseOptions(process.argv.slice(2), process.env, root)
  } catch (e) {
    log(`error: ${(e as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (options === "help") {
    process.stdout.write(USAGE)
    return 0
  }
  const opts = options
  for (const tool of ["skopeo", "docker-registry", "curl"]) {
    if (Bun.which(tool) === null) {
      log(`error: ${tool} not found (bash scripts/install.sh installs it)`)
      return 2
    }
  }
  if (!existsSync(opts.syncer)) {
    log(`error: our CLI not found at ${opts.syncer}`)
    return 2
  }

  // Once, untimed: the first start of a checkout builds the CLI's bundle (as a user's first run does).
  const warmUp = Bun.spawn([process.execPath, opts.syncer, "--version"], { stdout: "ignore", stderr: "pipe" })
  if ((await warmUp.exited) !== 0) {
    log(`error: ${opts.syncer} --version failed: ${(await new Response(warmUp.stderr).text()).trim()}`)
    return 2
  }

  const startedAt = new Date()
  const machine = await machineInfo()
  const syncer = { path: opts.syncer, ...(await syncerVersion(opts.syncer)) }
  const machineLine =
    `${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB RAM, ${machine.os}; bun ${machine.bun}, ${machine.skopeo}, ${machine.registry}, ${machine.curl}`
  log(`machine: ${machineLine}`)
  log(`our CLI: ${syncer.path}${syncer.commit ? ` (commit ${syncer.commit}${syncer.dirty ? ", with local changes" : ""})` : ""}`)
  log(
    `workloads: ${[...opts.only].join(", ")}; ${opts.images} images, ${opts.rounds} round(s), big layer ${mb(opts.bigSize)}` +
      (opts.only.has("wan") ? `; wan ${opts.wanImages} images at +${opts.delayMs} ms per request` : "") +
      (opts.only.has("scale") ? `; scale ${opts.scaleImages} images` : "")
  )
  const loadAtStart = loadavg()[0] ?? 0
  if (loadAtStart > machine.cores * 0.5) {
    log(`warning: load average ${loadAtStart.toFixed(1)} on ${machine.cores} cores: other work on this machine will skew the times`)
  }

  const cleanup = new Cleanup()
  let interrupted = false
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true
    log(`\n${signal}: stopping registries and removing temp files`)
    void cleanup.runAll().finally(() => process.exit(130))
  }
  process.once("SIGINT", onSignal)
  process.once("SIGTERM", onSignal)

  const work = await mkdtemp(join(tmpdir(), "image-syncer-bench-"))
  cleanup.add("work dir", async () => {
    if (opts.keep) log(`kept ${work}`)
    else await rm(work, { recursive: true, force: true })
  })
  const home = join(work, "home")
  const scratch = join(work, "tmp")
  await Promise.all([mkdir(home), mkdir(scratch), mkdir(join(work, "run"))])
  // children see no docker config, no auth files, no proxies, no SYNCER_* settings of the caller
  const childEnv: Record<string, string> = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: home,
    TMPDIR: scratch,
    XDG_RUNTIME_DIR: join(work, "run"),
    NO_COLOR: "1",
    // our CLI's engine settings, as its launcher gives them (src/cli/Engine.ts); the caller's
    // JavaScriptCore variables (BUN_JSC_*) win, to measure another setting
    ...withEngineEnv(Object.fromEntries(Object.entries(process.env).filter((e) => e[0].startsWith("BUN_JSC_"))))
  }

  const startReg = async (registryOptions?: LocalRegistryOptions): Promise<LocalRegistry> => {
    const registry = await startRegistry(registryOptions)
    cleanup.add(`registry ${registry.host}`, registry.stop)
    return registry
  }
  const stopReg = async (registry: LocalRegistry): Promise<void> => {
    await registry.stop()
    cleanup.remove(registry.stop)
  }
  const startProxy = (registry: LocalRegistry): LatencyProxy => {
    const proxy = startLatencyProxy(registry.url, opts.delayMs)
    cleanup.add(`latency proxy ${proxy.host}`, proxy.stop)
    return proxy
  }
  const stopProxy = async (proxy: LatencyProxy): Promise<void> => {
    await proxy.stop()
    cleanup.remove(proxy.stop)
  }

  const runs: Array<RunRecord> = []
  const generation: Record<string, number> = {}
  let big: BigImage | undefined
  let completed = false
  let counter = 0
  const file = (name: string) => join(work, `${++counter}-${name}`)

  /** Our CLI over `images` of `sourceHost` into `target`. */
  const ours = (target: Endpoint, sourceHost: string, images: ReadonlyArray<BenchImage>, extra: ReadonlyArray<string> = []) => async (): Promise<TimedRun> => {
    const definition = file("images.yaml")
    await writeFile(
      definition,
      [
        `targetRepoPrefix: "${target.host}/${MIRROR}/"`,
        "images:",
        ...images.map((i) => `  - source: "${sourceHost}/${i.repository}:${i.tag}"`),
        ""
      ].join("\n")
    )
    const concurrency = opts.concurrency === undefined ? [] : ["-j", String(opts.concurrency)]
    return timed([process.execPath, opts.syncer, "--images-file", definition, ...concurrency, ...extra], { env: childEnv, cwd: work })
  }

  /**
   * `skopeo sync --all` over the same images, into the same target paths. `namedAs`: the
   * source host the target paths are named after, when skopeo reads from another one.
   */
  const skopeo =
    (target: Endpoint, sourceHost: string, images: ReadonlyArray<BenchImage>, extra: ReadonlyArray<string> = [], namedAs = sourceHost) =>
    async (): Promise<TimedRun> => {
      const yaml = file("skopeo.yaml")
      await writeFile(
        yaml,
        [
          `${sourceHost}:`,
          "  tls-verify: false",
          "  images:",
          ...images.flatMap((i) => [`    ${i.repository}:`, `      - "${i.tag}"`]),
          ""
        ].join("\n")
      )
      // without --scoped, skopeo puts each image at DEST/<last path component>:<tag>
      const dest = `${target.host}/${MIRROR}/${hostPath(namedAs)}/bench`
      return timed(["skopeo", "sync", "--all", "--src", "yaml", "--dest", "docker", "--dest-tls-verify=false", ...extra, yaml, dest], {
        env: childEnv,
        cwd: work
      })
    }

  /** Untimed: copies `images` with skopeo (digests are identical either way) and checks the target. */
  const fillWithSkopeo = async (target: LocalRegistry, sourceHost: string, images: ReadonlyArray<BenchImage>, namedAs = sourceHost): Promise<number> => {
    const prep = await skopeo(target, sourceHost, images, [], namedAs)()
    const problems = await verifyTags(target.url, expectedTags(namedAs, images))
    if (prep.exitCode !== 0 || problems.length > 0) {
      throw new Error(`preparing a warm target with skopeo failed (exit ${prep.exitCode}): ${problems.slice(0, 3).join("; ")}\n${tail(prep.stderr)}`)
    }
    return prep.seconds
  }

  /** Runs one contender with request logs cleared before and read after, then verifies the target. */
  const measure = async (p: {
    readonly kind: RunKind
    readonly round: number
    readonly tool: Tool
    readonly source: LocalRegistry
    readonly target: LocalRegistry
    readonly images: ReadonlyArray<BenchImage>
    readonly run: () => Promise<TimedRun>
    readonly tokens?: TokenServer
    /** blob whose arrivals in the target are counted */
    readonly arrivalsOf?: string
    /** checks instead of the image tags (curl copies a blob only) */
    readonly verify?: () => Promise<Array<string>>
    /** wan: the proxies the tool was pointed at; requests are counted there, tags are verified on the registry */
    readonly via?: { readonly source: LatencyProxy; readonly target: LatencyProxy }
  }): Promise<RunRecord> => {
    const logs: { readonly source: RequestLog; readonly target: RequestLog } = p.via ?? { source: p.source, target: p.target }
    const sourceHost = p.via?.source.host ?? p.source.host
    await logs.source.resetRequests()
    await logs.target.resetRequests()
    // the proxies run in this process, which otherwise only waits for the child
    const benchCpuBefore = process.cpuUsage()
    const tokensBefore = p.tokens?.requests().length ?? 0
    const loadBefore = loadavg()[0] ?? 0
    const registryCpu = () => {
      const [s, t] = [p.source.cpuSeconds(), p.target.cpuSeconds()]
      return s === undefined || t === undefined ? undefined : s + t
    }
    const cpuBefore = registryCpu()
    const result = await p.run()
    const cpuAfter = registryCpu()
    const benchCpu = process.cpuUsage(benchCpuBefore)
    await Promise.all([logs.source.settle(), logs.target.settle()])
    const sourceLog = logs.source.requests()
    const targetLog = logs.target.requests()
    const tokenCount = (p.tokens?.requests().length ?? 0) - tokensBefore
    const expected = expectedTags(sourceHost, p.images)
    const auth = p.tokens
      ? (repository: string) => `Bearer ${p.tokens!.mint([{ type: "repository", name: repository, actions: ["pull"] }])}`
      : undefined
    const problems = p.verify ? await p.verify() : await verifyTags(p.target.url, expected, auth)
    if (result.exitCode !== 0) problems.unshift(`exit ${result.exitCode}: ${tail(result.stderr || result.stdout)}`)
    const source = countRequests(sourceLog)
    const target = countRequests(targetLog)
    const record: RunRecord = {
      kind: p.kind,
      round: p.round,
      tool: p.tool,
      images: p.images.length,
      seconds: result.seconds,
      exitCode: result.exitCode,
      ok: problems.length === 0,
      problems: problems.slice(0, 10),
      maxRssBytes: result.maxRssBytes,
      rssSource: result.rssSource,
      cpuSeconds: result.cpuSeconds,
      registryCpuSeconds: cpuBefore === undefined || cpuAfter === undefined ? undefined : Math.round((cpuAfter - cpuBefore) * 100) / 100,
      firstOutputSeconds: result.firstOutputSeconds,
      lastOutputSeconds: result.lastOutputSeconds,
      loadBefore: Math.round(loadBefore * 100) / 100,
      requests: { source, target, tokens: tokenCount, perImage: perImage(source, target, tokenCount, Math.max(1, p.images.length)) },
      ...(p.arrivalsOf ? { arrivals: blobArrivals(targetLog, p.arrivalsOf) } : {}),
      ...(p.via
        ? {
          proxies: {
            delayMs: p.via.source.delayMs,
            source: p.via.source.counts(),
            target: p.via.target.counts(),
            cpuSeconds: Math.round((benchCpu.user + benchCpu.system) / 1e4) / 100
          }
        }
        : {})
    }
    runs.push(record)
    const rss = p.kind === "big" || p.kind.startsWith("scale") ? `, peak RSS ${mb(result.maxRssBytes)}` : ""
    const perRun = p.via ? `, ${record.requests?.perImage.total} req/image at the proxies` : ""
    log(`  ${p.kind} round ${p.round + 1} ${p.tool}: ${secs(result.seconds)}${rss}${perRun}${record.ok ? "" : `  FAILED: ${problems[0]?.split("\n")[0]}`}`)
    if (!record.ok) { for (const line of problems.slice(0, 5)) log(`    ${line.split("\n").join("\n    ")}`) }
    return record
  }

  /** Alternates who goes first: round r runs tools rotated by r. */
  const rotate = <A>(items: ReadonlyArray<A>, r: number): Array<A> => items.map((_, i) => items[(i + r) % items.length]!)

  try {
    const source = await startReg()
    log(`source registry ${source.host}`)
    const needImages = opts.only.has("warm") || opts.only.has("cold") || opts.only.has("requests")
    let set: ImageSet | undefined
    if (needImages) {
      log(`generating ${opts.images} two-platform images sharing a ${mb(opts.baseSize)} base layer (not timed)…`)
      set = await pushImageSet(source.url, opts.images, opts.baseSize)
      generation["images"] = set.seconds
      log(`  pushed in ${secs(set.seconds)}; base layer ${set.baseDigest.slice(0, 19)}… (${mb(set.baseBytes)})`)
    }

    if (opts.only.has("startup")) {
      // What every run of ours pays before its first image: a 1-image run, the image present.
      const one = (set?.images ?? (await pushImageSet(source.url, 1, opts.baseSize)).images).slice(0, 1)
      log("startup: our CLI on one image already present (5 runs per round)")
      const target = await startReg()
      await fillWithSkopeo(target, source.host, one)
      for (let r = 0; r < opts.rounds; r++) {
        for (let k = 0; k < 5; k++) await measure({ kind: "startup", round: r, tool: "ours", source, target, images: one, run: ours(target, source.host, one) })
      }
      await stopReg(target)
    }

    if (opts.only.has("warm") && set) {
      const images = set.images
      log("warm: every image already present in the target")
      const target = await startReg()
      // prepared with skopeo itself, then checked
      generation["warmTarget"] = await fillWithSkopeo(target, source.host, images)
      for (let r = 0; r < opts.rounds; r++) {
        for (const tool of rotate(["ours", "skopeo"] as const, r)) {
          await measure({
            kind: "warm",
            round: r,
            tool,
            source,
            target,
            images,
            run: tool === "ours" ? ours(target, source.host, images) : skopeo(target, source.host, images)
          })
        }
      }
      await stopReg(target)
    }

    if (opts.only.has("cold") && set) {
      const images = set.images
      log("cold: the same images into an empty target (a fresh registry for every run)")
      for (let r = 0; r < opts.rounds; r++) {
        for (const tool of rotate(["ours", "skopeo"] as const, r)) {
          const target = await startReg()
          await measure({
            kind: "cold",
            round: r,
            tool,
            source,
            target,
            images,
            arrivalsOf: set.baseDigest,
            run: tool === "ours" ? ours(target, source.host, images) : skopeo(target, source.host, images)
          })
          await stopReg(target)
        }
      }
    }

    if (opts.only.has("big")) {
      log(`big: one image with a ${mb(opts.bigSize)} layer (generating, not timed)…`)
      big = await pushBigImage(source.url, join(work, "big-layer.tar.gz"), opts.bigSize)
      generation["big"] = big.seconds
      log(`  pushed in ${secs(big.seconds)}; layer ${mb(big.layerBytes)}`)
      const image = big
      const blobUrl = (registry: LocalRegistry, repository: string) => `${registry.url}/v2/${repository}/blobs/${image.layerDigest}`
      /** curl copies: a fresh upload session, then curl's GET piped into curl's PUT (or via a file). */
      const curlCopy = (target: LocalRegistry, mode: "pipe" | "file") => async (): Promise<TimedRun> => {
        const repository = targetRepository(source.host, image)
        const start = await fetch(`${target.url}/v2/${repository}/blobs/uploads/`, { method: "POST", proxy: false })
        await start.arrayBuffer()
        const location = start.headers.get("location")
        if (start.status !== 202 || location === null) throw new Error(`curl baseline: POST upload: HTTP ${start.status}`)
        const put = new URL(location, target.url)
        put.searchParams.set("digest", image.layerDigest)
        const env = { ...childEnv, SRC: blobUrl(source, image.repository), DST: put.href, FILE: join(scratch, "curl-blob") }
        const curl = "curl -sS -f --noproxy '*'"
        const upload = `${curl} -o /dev/null -w '%{http_code}\\n' -H 'Content-Type: application/octet-stream'`
        const script = mode === "pipe"
          ? `${curl} "$SRC" | ${upload} -T - "$DST"`
          : `${curl} -o "$FILE" "$SRC" && ${upload} -T "$FILE" "$DST"; s=$?; rm -f "$FILE"; exit $s`
        return timed(["bash", "-o", "pipefail", "-c", script], { env, cwd: work })
      }
      const blobArrived = (target: LocalRegistry) => async (): Promise<Array<string>> => {
        const res = await fetch(blobUrl(target, targetRepository(source.host, image)), { method: "HEAD", proxy: false })
        const size = Number(res.headers.get("content-length"))
        return res.status === 200 && size === image.layerBytes ? [] : [`blob in target: HTTP ${res.status}, ${size} bytes`]
      }
      const tools: Array<Tool> = ["ours", "curl-pipe", "curl-file", ...(opts.bigSkopeo ? ["skopeo" as const] : [])]
      for (let r = 0; r < opts.rounds; r++) {
        for (const tool of rotate(tools, r)) {
          const target = await startReg()
          const run = tool === "ours"
            ? ours(target, source.host, [image])
            : tool === "skopeo"
            ? skopeo(target, source.host, [image])
            : curlCopy(target, tool === "curl-pipe" ? "pipe" : "file")
          await measure({
            kind: "big",
            round: r,
            tool,
            source,
            target,
            images: [image],
            run,
            arrivalsOf: image.layerDigest,
            ...(tool.startsWith("curl") ? { verify: blobArrived(target) } : {})
          })
          await stopReg(target)
        }
      }
    }

    if (opts.only.has("requests") && set) {
      const images = set.images
      log("requests: token-auth registries (anonymous pull on the source, like Docker Hub; a key for the target), cold then warm")
      const tokens = await startTokenServer({ users: { _json_key: KEY }, anonymousPull: true })
      cleanup.add("token server", tokens.stop)
      const tokenAuth = { token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle } }
      const authSource = await startReg(tokenAuth)
      // the same content as the plain source: hard links of its storage (blobs are never rewritten)
      await mkdir(join(authSource.dir, "data"), { recursive: true })
      const copy = Bun.spawn(["cp", "-al", join(source.dir, "data", "docker"), join(authSource.dir, "data")], { stderr: "pipe" })
      if ((await copy.exited) !== 0) throw new Error(`copying the source storage: ${await new Response(copy.stderr).text()}`)
      const keyFile = join(work, "key.json")
      await writeFile(keyFile, KEY, { mode: 0o600 })
      for (const tool of ["ours", "skopeo"] as const) {
        const target = await startReg(tokenAuth)
        for (const kind of ["requests-cold", "requests-warm"] as const) {
          const run = tool === "ours"
            ? ours(target, authSource.host, images, ["-t", keyFile])
            : skopeo(target, authSource.host, images, ["--dest-creds", `_json_key:${KEY}`])
          await measure({ kind, round: 0, tool, source: authSource, target, images, run, tokens })
        }
        await stopReg(target)
      }
    }

    if (opts.only.has("wan")) {
      log(
        `wan: ${opts.wanImages} images behind latency proxies that hold every request ${opts.delayMs} ms; ${
          mb(opts.wanBaseSize)
        } base layer (generating, not timed)…`
      )
      // a source of its own: these images have another base layer under the same repository names
      const wanSource = await startReg()
      const wanSet = await pushImageSet(wanSource.url, opts.wanImages, opts.wanBaseSize)
      generation["wan"] = wanSet.seconds
      log(`  pushed in ${secs(wanSet.seconds)}; base layer ${wanSet.baseDigest.slice(0, 19)}… (${mb(wanSet.baseBytes)})`)
      const images = wanSet.images
      const sourceProxy = startProxy(wanSource)
      // both tools see only the proxies: the source by the proxy's host, the target by its proxy
      const runOf = (tool: "ours" | "skopeo", targetProxy: LatencyProxy) =>
        tool === "ours" ? ours(targetProxy, sourceProxy.host, images) : skopeo(targetProxy, sourceProxy.host, images)

      log("wan warm: every image already present in the target")
      const target = await startReg()
      const targetProxy = startProxy(target)
      // filled without the delay, under the paths the proxied source host gives
      generation["wanWarmTarget"] = await fillWithSkopeo(target, wanSource.host, images, sourceProxy.host)
      for (let r = 0; r < opts.rounds; r++) {
        for (const tool of rotate(["ours", "skopeo"] as const, r)) {
          await measure({
            kind: "wan-warm",
            round: r,
            tool,
            source: wanSource,
            target,
            images,
            via: { source: sourceProxy, target: targetProxy },
            run: runOf(tool, targetProxy)
          })
        }
      }
      await stopProxy(targetProxy)
      await stopReg(target)

      log("wan cold: the same images into an empty target (a fresh registry and proxy for every run)")
      for (let r = 0; r < opts.rounds; r++) {
        for (const tool of rotate(["ours", "skopeo"] as const, r)) {
          const coldTarget = await startReg()
          const coldProxy = startProxy(coldTarget)
          await measure({
            kind: "wan-cold",
            round: r,
            tool,
            source: wanSource,
            target: coldTarget,
            images,
            arrivalsOf: wanSet.baseDigest,
            via: { source: sourceProxy, target: coldProxy },
            run: runOf(tool, coldProxy)
          })
          await stopProxy(coldProxy)
          await stopReg(coldTarget)
        }
      }
      await stopProxy(sourceProxy)
      await stopReg(wanSource)
    }

    if (opts.only.has("scale")) {
      log(`scale: ${opts.scaleImages} images, all one small two-platform image (generating, not timed)…`)
      const scale = await pushScaleSet(source, opts.scaleImages)
      generation["scale"] = scale.seconds
      log(`  pushed in ${secs(scale.seconds)}`)
      const images = scale.images
      const target = await startReg()
      // untimed: our own sync fills the target, so the timed warm runs find every image present
      log(`  filling the target with our sync (not timed)…`)
      const fill = await ours(target, source.host, images)()
      const fillProblems = fill.exitCode === 0 ? await verifyTags(target.url, expectedTags(source.host, images)) : []
      if (fill.exitCode !== 0 || fillProblems.length > 0) {
        throw new Error(`filling the scale target failed (exit ${fill.exitCode}): ${fillProblems.slice(0, 3).join("; ")}\n${tail(fill.stderr || fill.stdout)}`)
      }
      generation["scaleTarget"] = fill.seconds
      log(`  filled in ${secs(fill.seconds)}`)
      // the dry run writes nothing, so one empty target serves every round
      const empty = await startReg()
      const wroteNothing = async (): Promise<Array<string>> => {
        const c = countRequests(empty.requests()).byClass
        const writes = c.manifestPut + c.uploadStart + c.mount + c.uploadPatch + c.uploadPut
        return writes === 0 ? [] : [`the dry run sent ${writes} write request(s) to the target`]
      }
      // the warm workload's own run is the baseline only when it had 200 images; else 200 of these (present too)
      const warmIsBaseline = opts.only.has("warm") && opts.images === SCALE_BASELINE && runs.some((r) => r.kind === "warm" && r.tool === "ours" && r.ok)
      const baseline = images.slice(0, SCALE_BASELINE)
      if (!warmIsBaseline) log(`  baseline: ${baseline.length} of these images, warm (the warm workload did not run ${SCALE_BASELINE} images here)`)
      const kinds = ["scale-warm", "scale-dry", ...(warmIsBaseline ? [] : ["scale-baseline" as const])] as const
      for (let r = 0; r < opts.rounds; r++) {
        for (const kind of rotate(kinds, r)) {
          if (kind === "scale-dry") {
            await measure({
              kind,
              round: r,
              tool: "ours",
              source,
              target: empty,
              images,
              verify: wroteNothing,
              run: ours(empty, source.host, images, ["--dry-run"])
            })
          } else {
            const these = kind === "scale-warm" ? images : baseline
            await measure({ kind, round: r, tool: "ours", source, target, images: these, run: ours(target, source.host, these) })
          }
        }
      }
      await stopReg(empty)
      await stopReg(target)
    }
    completed = true
  } catch (e) {
    // after Ctrl-C the registries are gone under the running step: that error is expected
    if (!interrupted) log(`error: ${(e as Error).stack ?? String(e)}`)
  } finally {
    await cleanup.runAll()
    process.removeListener("SIGINT", onSignal)
    process.removeListener("SIGTERM", onSignal)
  }
  // an interrupted run leaves the previous results.json alone
  if (interrupted) return 130

  const summary = buildSummary(runs, big?.layerBytes)
  const checks = judge(runs, summary, opts.images, completed, machine.cores)
  const maxLoad = Math.max(loadAtStart, ...runs.map((r) => r.loadBefore))
  const busy = maxLoad > machine.cores * 0.5 ? `; load average up to ${maxLoad.toFixed(1)} during the runs (other work on the machine skews times)` : ""
  const table = renderTable(summary, checks, opts.images, `${machineLine}${busy}`)
  const finishedAt = new Date()
  await writeJsonAtomic(opts.json, {
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    command: ["bun", "run", "bench", ...process.argv.slice(2)].join(" "),
    machine: { ...machine, loadAverageAtStart: Math.round(loadAtStart * 100) / 100, maxLoadAverageBeforeRuns: Math.round(maxLoad * 100) / 100 },
    syncer,
    config: {
      images: opts.images,
      rounds: opts.rounds,
      baseSize: opts.baseSize,
      bigSize: opts.bigSize,
      wanImages: opts.wanImages,
      wanBaseSize: opts.wanBaseSize,
      delayMs: opts.delayMs,
      scaleImages: opts.scaleImages,
      only: [...opts.only],
      concurrency: opts.concurrency ?? null,
      bigSkopeo: opts.bigSkopeo
    },
    generationSeconds: generation,
    completed,
    mustHold: checks,
    summary,
    runs
  })
  process.stdout.write(`\n${table}\n\nresults: ${opts.json}\n`)
  if (opts.updateDocs && completed) {
    const stamp = `${finishedAt.toISOString().slice(0, 10)}, ${opts.images} images, ${opts.rounds} rounds, our CLI at ${syncer.commit ?? syncer.path}${
      syncer.dirty ? " (with local changes)" : ""
    }`
    const updated = await updateDoc(join(root, "docs/benchmark.md"), table, stamp)
    log(updated ? "updated docs/benchmark.md" : "docs/benchmark.md has no bench-results markers: not updated")
  }
  return completed ? 0 : 1
}

process.exit(await main())
