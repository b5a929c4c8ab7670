/**
 * `image-syncer [flags]` (the root command) and `plan`: validate everything (flags, the
 * definition, the transport, credentials, the signing key) before the first request, wire the
 * run in the composition root, show it with the view of the output mode, write the report
 * files, and end with the exit status of design.md. Interrupted: what finished is reported.
 */
import { Effect, Logger, LogLevel, Option } from "effect"
import { credentialChain } from "../../composition/CredentialChain.ts"
import { pipelineLayer, transportContextLayer } from "../../composition/Live.ts"
import { repositoriesFor, runEcrApi } from "../../composition/Cloud.ts"
import { loadSigner } from "../../composition/SignerLoader.ts"
import { chooseTransport } from "../../composition/TransportLoader.ts"
import { loadDefinition } from "../../definition/Load.ts"
import { selectShard } from "../../definition/Shard.ts"
import type { ProgressEvent } from "../../model/Progress.ts"
import { failsRun } from "../../model/Result.ts"
import type { ImageResult } from "../../model/Result.ts"
import { formatTarget } from "../../model/Target.ts"
import { Pipeline } from "../../pipeline/Pipeline.ts"
import { exitCodeOf, formatResult, formatSummary } from "../../report/Output.ts"
import type { UnfinishedImage } from "../../report/Output.ts"
import { errorHints } from "../Hints.ts"
import { checkAttest, checkConcurrency, checkFrom, checkOutputPaths, checkPlatformSubsets, checkShard, checkTargetCredentials } from "../Checks.ts"
import { RunEnvironment } from "../Config.ts"
import { out } from "../Console.ts"
import { invalid, ReportNotWritten, SyncIncomplete } from "../Errors.ts"
import { targetPrefixes } from "../Flags.ts"
import type { SyncFlags } from "../Flags.ts"
import { makeView, renderLoop, resolveOutput } from "../output/Views.ts"
import { PROGRESS_EVERY_MS } from "../output/Plain.ts"
import { makePullQuota } from "../../oci/http/PullQuota.ts"
import { quotaLines, quotaReport } from "../../report/Quota.ts"
import type { ProgressView } from "../output/Views.ts"
import { writeReportFiles } from "../ReportFiles.ts"
import { VERSION } from "../Version.ts"
import { planTable } from "./PlanTable.ts"

/** Everything checked and built before the first request: the definition (this shard of it), and the run's layers. */
const prepare = (flags: SyncFlags, plan: boolean) =>
  Effect.gen(function*() {
    const env = yield* RunEnvironment.pipe(Effect.mapError(invalid))
    yield* checkConcurrency(flags.concurrency)
    yield* checkOutputPaths(flags)
    yield* checkTargetCredentials(flags)
    yield* checkFrom(flags)
    yield* checkAttest(flags)
    const shard = yield* checkShard(flags.shard)
    const loaded = yield* loadDefinition(flags.imagesFile, { targetRepoPrefix: yield* targetPrefixes(flags.targetRepoPrefix) }).pipe(
      Effect.mapError(invalid)
    )
    // A shard keeps the images whose target hashes to it: N jobs share the list without overlap.
    const definition = Option.isSome(shard)
      ? { ...loaded, images: selectShard(loaded.images, shard.value, (e) => formatTarget(e.target)) }
      : loaded
    // One ECR API for the run (its SDK imported on first use): credentials and repositories created on demand share it.
    const ecr = runEcrApi()
    const credentials = yield* credentialChain({ ...flags, authPlugins: [...flags.authPlugin, ...env.authPlugins], registries: definition.registries, ecr })
      .pipe(Effect.mapError(invalid))
    const repositories = repositoriesFor(definition, ecr)
    // Built once against a read-only client: a module that is not a transport stops here, before any request.
    const readOnlyContext = transportContextLayer({ dryRun: true, credentials })
    const { layer: transport, ...features } = yield* chooseTransport(flags, readOnlyContext).pipe(Effect.mapError(invalid))
    yield* checkPlatformSubsets(loaded, features)
    const signer = Option.isSome(flags.signKey) ? yield* loadSigner(flags.signKey.value, env.signKeyPassword).pipe(Effect.mapError(invalid)) : undefined

    // Filled by the HTTP stack as registries answer; shown in the summary and the report.
    const quota = makePullQuota()
    const live = pipelineLayer({
      quota,
      dryRun: flags.dryRun,
      measure: plan,
      ...(Option.isSome(env.stallTimeoutMs) ? { stallTimeoutMs: env.stallTimeoutMs.value } : {}),
      concurrency: flags.concurrency,
      credentials,
      transport,
      hint: errorHints(definition),
      ...(signer
        ? {
          signer,
          signing: { format: flags.signatureFormat, recursive: flags.signRecursive, attest: flags.attest, tool: { name: "image-syncer", version: VERSION } }
        }
        : {}),
      ...(repositories ? { repositories } : {})
    })
    return { env, shard, definition, quota, live }
  })

/** Validates everything, then runs the pipeline. Fails with InvalidInput (exit 2), SyncIncomplete or ReportNotWritten (exit 1). */
export const runSync = (flags: SyncFlags, plan = false) =>
  Effect.gen(function*() {
    const { definition, env, live, quota, shard } = yield* prepare(flags, plan)
    const startedAt = new Date()
    if (flags.dryRun) yield* Effect.logInfo("dry run: nothing will be written")

    const finished: Array<ImageResult> = []
    const { mode, color } = resolveOutput(flags.output, process.stdout.isTTY === true, {
      TERM: Option.getOrUndefined(env.term),
      NO_COLOR: Option.getOrUndefined(env.noColor)
    })
    // stdout carries results: in plain mode the per-event lines and the table go to stderr, and
    // stdout keeps one line per image and the one-line summary. tty and json own stdout.
    const viewWrite = mode === "plain" ? (t: string) => void process.stderr.write(t) : (t: string) => void process.stdout.write(t)
    const elapsed = () => Date.now() - startedAt.getTime()
    const writeReports = (results: ReadonlyArray<ImageResult>, unfinished?: ReadonlyArray<UnfinishedImage>) =>
      writeReportFiles(
        results,
        {
          imagesFile: flags.imagesFile,
          dryRun: flags.dryRun,
          startedAt,
          durationMs: elapsed(),
          shard,
          registries: quotaReport(quota.snapshot()),
          ...(unfinished !== undefined ? { unfinished } : {})
        },
        { report: flags.report, junit: flags.junit, githubStepSummary: env.githubStepSummary }
      )
    // Known once `tags` rules are expanded; until then the run has done nothing to show.
    let view: ProgressView | undefined
    let images: ReadonlyArray<{ readonly source: string; readonly target: string }> = definition.images.map((e) => ({
      source: e.source,
      target: formatTarget(e.target)
    }))
    const finish = (results: ReadonlyArray<ImageResult>, unfinished?: number) =>
      Effect.gen(function*() {
        view?.finish(results, elapsed(), unfinished)
        const quotas = quotaLines(quota.snapshot())
        if (mode !== "json" && quotas.length > 0) viewWrite(`${quotas.join("\n")}\n`)
        if (mode === "plain") yield* out(formatSummary(results, unfinished))
        if (plan) yield* out(planTable(results, [...quota.snapshot()].map(([registry, q]) => [registry, q.manifestGets] as const)))
      })
    const run = Effect.gen(function*() {
      const pipeline = yield* Pipeline
      const expanded = yield* pipeline.expand(definition)
      images = expanded.images
      const shown = makeView(mode, viewWrite, {
        color,
        total: expanded.images.length,
        // asked at every redraw: a resized terminal is followed
        width: () => process.stdout.columns ?? 100,
        detail: flags.debug,
        prefixes: definition.targetRepoPrefixes
      })
      view = shown
      const onEvent = (e: ProgressEvent) => {
        if (mode === "plain" && (e._tag === "ImageFinished" || e._tag === "ImageRevised")) return
        shown.onEvent(e)
      }
      // Each image's line as it finishes; a result the end-of-run read-back revises replaces it,
      // with one more line when its status changed (a tag another writer replaced).
      const onResult = (r: ImageResult, revised: boolean) =>
        Effect.suspend(() => {
          const at = revised ? finished.findIndex((f) => f.source === r.source && f.target === r.target) : -1
          const before = at >= 0 ? finished[at] : undefined
          if (at >= 0) finished[at] = r
          else finished.push(r)
          return mode === "plain" && before?.status !== r.status ? out(formatResult(r)) : Effect.void
        })
      const sync = pipeline.syncExpanded(expanded, onResult, onEvent)
      return yield* Effect.raceFirst(sync, renderLoop(shown, mode === "tty" ? 100 : PROGRESS_EVERY_MS))
    })
    const results = yield* run.pipe(
      Effect.provide(live),
      // On SIGINT/SIGTERM: in-flight copies stop (their tags were never written), what finished is reported.
      Effect.onInterrupt(() =>
        Effect.gen(function*() {
          const order = new Map(images.map((e, i) => [`${e.source} ${e.target}`, i]))
          const done = [...finished].sort((a, b) => (order.get(`${a.source} ${a.target}`) ?? 0) - (order.get(`${b.source} ${b.target}`) ?? 0))
          const seen = new Set(done.map((r) => `${r.source} ${r.target}`))
          const unfinished = images.filter((e) => !seen.has(`${e.source} ${e.target}`))
          yield* finish(done, unfinished.length)
          yield* writeReports(done, unfinished)
        })
      )
    )
    yield* finish(results)
    const unwritten = yield* writeReports(results)
    const code = exitCodeOf(results)
    if (unwritten !== undefined && code === 0) return yield* new ReportNotWritten({ path: unwritten })
    if (code !== 0) return yield* new SyncIncomplete({ failed: results.filter((r) => failsRun(r.status)).length })
  }).pipe(Logger.withMinimumLogLevel(flags.debug ? LogLevel.Debug : LogLevel.Info))
