/**
 * The files a sync writes when asked: the JSON report (`--report`), JUnit (`--junit`), and the
 * GitHub step summary (`GITHUB_STEP_SUMMARY`). What they hold comes from src/report; here is
 * only where they go and what happens when one cannot be written (logged, counted, the others
 * still written).
 */
import { Effect, Option } from "effect"
import { writeFile } from "node:fs/promises"
import type { Shard } from "../definition/Shard.ts"
import { formatShard } from "../definition/Shard.ts"
import type { ImageResult } from "../model/Result.ts"
import type { RegistryQuotaReport } from "../report/Quota.ts"
import { appendGithubSummary, githubSummary } from "../report/GithubSummary.ts"
import { junitXml } from "../report/JUnit.ts"
import { reportOf } from "../report/Output.ts"
import type { UnfinishedImage } from "../report/Output.ts"

/** What the report files say about the run beside its results. */
export interface RunFacts {
  readonly imagesFile: string
  readonly dryRun: boolean
  readonly startedAt: Date
  readonly durationMs: number
  readonly shard: Option.Option<Shard>
  /** set when the run was interrupted: the images that did not finish */
  readonly unfinished?: ReadonlyArray<UnfinishedImage>
  /** pull quotas per registry (report `registries`), when any registry was pulled from or announced one */
  readonly registries?: Readonly<Record<string, RegistryQuotaReport>>
}

/** Where the files go. */
export interface ReportPaths {
  readonly report: Option.Option<string>
  readonly junit: Option.Option<string>
  readonly githubStepSummary: Option.Option<string>
}

const describeWriteError = (e: unknown): string => {
  const code = (e as { code?: string } | undefined)?.code
  if (code === "EACCES" || code === "EPERM") return "permission denied"
  if (code === "EISDIR") return "it is a directory"
  if (code === "ENOSPC") return "no space left on device"
  if (code === "ENOENT") return "its directory does not exist"
  return e instanceof Error ? e.message : String(e)
}

/** Writes one file; false (and an error logged) when it could not be written. */
const writeText = (path: string, text: string, what: string) =>
  Effect.tryPromise(() => writeFile(path, text)).pipe(
    Effect.as(true),
    Effect.catchAll((e) => Effect.logError(`could not write ${what} ${path}: ${describeWriteError(e.error)}`).pipe(Effect.as(false)))
  )

/** Writes every file asked for; the path of the first that could not be written, if any. */
export const writeReportFiles = (
  results: ReadonlyArray<ImageResult>,
  facts: RunFacts,
  paths: ReportPaths
): Effect.Effect<string | undefined> =>
  Effect.gen(function*() {
    let unwritten: string | undefined
    const shard = Option.map(facts.shard, formatShard)
    if (Option.isSome(paths.report)) {
      const doc = {
        ...reportOf(results, facts),
        ...(Option.isSome(shard) ? { shard: shard.value } : {}),
        ...(facts.registries !== undefined && Object.keys(facts.registries).length > 0 ? { registries: facts.registries } : {})
      }
      if (!(yield* writeText(paths.report.value, `${JSON.stringify(doc, null, 2)}\n`, "report"))) unwritten ??= paths.report.value
    }
    if (Option.isSome(paths.junit)) {
      const name = `image-syncer ${facts.imagesFile}${Option.isSome(shard) ? ` shard ${shard.value}` : ""}`
      const xml = junitXml(results, {
        name,
        durationMs: facts.durationMs,
        timestamp: facts.startedAt,
        ...(facts.unfinished !== undefined ? { unfinished: facts.unfinished } : {})
      })
      if (!(yield* writeText(paths.junit.value, xml, "JUnit report"))) unwritten ??= paths.junit.value
    }
    if (Option.isSome(paths.githubStepSummary) && paths.githubStepSummary.value !== "") {
      yield* appendGithubSummary(
        paths.githubStepSummary.value,
        githubSummary(results, {
          durationMs: facts.durationMs,
          dryRun: facts.dryRun,
          ...(facts.unfinished !== undefined ? { unfinished: facts.unfinished } : {})
        })
      ).pipe(
        Effect.catchTag("GithubSummaryFailed", (e) => Effect.logWarning(e.message))
      )
    }
    return unwritten
  })
