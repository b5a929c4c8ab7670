/**
 * `image-syncer export --images-file F --to DIR|FILE.tar`: the connected side of an
 * air-gapped sync. Every entry's source (through `registries` mirrors) is written into an
 * OCI image layout with its upstream signatures; `image-syncer --from DIR|FILE.tar` then
 * syncs from it on the other side. Re-running refreshes the layout and downloads only blobs
 * it does not have. Exit 0 all exported, 1 some failed, 2 invalid input (nothing contacted).
 */
import { Command, Options } from "@effect/cli"
import { FetchHttpClient } from "@effect/platform"
import { Config, Effect, Layer, Logger, LogLevel, Option } from "effect"
import { existsSync, statSync } from "node:fs"
import { mkdir, rm } from "node:fs/promises"
import { basename, dirname, join, resolve } from "node:path"
import { exportAll } from "../../pipeline/Export.ts"
import type { ExportOutcome } from "../../pipeline/Export.ts"
import { openWriter } from "../../layout/LayoutWriter.ts"
import { ioReason, OCI_LAYOUT_FILE } from "../../layout/OciLayout.ts"
import { packLayout, unpackLayout } from "../../layout/Tar.ts"
import { exportLayer } from "../../composition/Live.ts"
import { BunContext } from "@effect/platform-bun"
import { checkConcurrency } from "../Checks.ts"
import { Env, RunEnvironment } from "../Config.ts"
import { out } from "../Console.ts"
import { invalid, InvalidInput, SyncIncomplete } from "../Errors.ts"
import { debug, imagesFileFor, targetPrefixes, targetRepoPrefixFor, withEnv } from "../Flags.ts"
import { credentialChain } from "../../composition/CredentialChain.ts"
import { loadDefinition } from "../../definition/Load.ts"

const imagesFile = imagesFileFor("export")
const to = Options.text("to").pipe(
  Options.withDescription("OCI image layout to write: a directory, or a file ending in .tar (created or refreshed)")
)
const targetRepoPrefix = targetRepoPrefixFor("overrides the file's targetRepoPrefix (validated like the sync does)")
const concurrency = Options.integer("concurrency").pipe(
  Options.withAlias("j"),
  Options.withDescription(withEnv("images in flight (default 4)", Env.concurrency)),
  Options.withFallbackConfig(Config.integer(Env.concurrency)),
  Options.withDefault(4)
)
const authPlugin = Options.text("auth-plugin").pipe(
  Options.withDescription(withEnv("module path of a custom auth provider for the sources, asked before docker config (repeatable)", Env.authPlugin)),
  Options.repeated
)

/** The parsed flags of an export. */
export interface ExportFlags {
  readonly imagesFile: string
  readonly to: string
  readonly targetRepoPrefix: ReadonlyArray<string>
  readonly concurrency: number
  readonly debug: boolean
  readonly authPlugin: ReadonlyArray<string>
}

/** `exported <source> <digest> [(+ upstream …)]` or `failed <source> : <error>` */
export const formatExport = (o: ExportOutcome): string =>
  "result" in o
    ? [
      "exported".padEnd(8),
      o.entry.source,
      o.result.digest,
      ...(o.result.upstream.length > 0 ? [`(+ ${o.result.upstream.join(", ")})`] : [])
    ].join(" ")
    : ["failed".padEnd(8), o.entry.source, "-", `: ${o.error}`].join(" ")

/** "3 images: 2 exported, 1 failed" */
export const formatExportSummary = (outcomes: ReadonlyArray<ExportOutcome>): string => {
  const failed = outcomes.filter((o) => "error" in o).length
  return `${outcomes.length} image${outcomes.length === 1 ? "" : "s"}: ${outcomes.length - failed} exported, ${failed} failed`
}

const isTarPath = (path: string) => path.toLowerCase().endsWith(".tar")

/** Where the export writes, and what happens to it at the end. */
interface Destination {
  /** the layout directory written to */
  readonly dir: string
  /** the archive to (re)write from `dir`, for `--to X.tar` */
  readonly archive: Option.Option<string>
  /** runs at the end; `packed`: the archive now holds everything */
  readonly release: (packed: boolean) => Effect.Effect<void>
}

/**
 * The directory itself; or for a .tar, the work dir `.X.tar.export` next to it holding the
 * old archive's content, packed and renamed over the archive at the end. A run that is
 * interrupted before that keeps the work dir, so the next run resumes with its blobs.
 */
const prepareDestination = (path: string): Effect.Effect<Destination, InvalidInput> =>
  Effect.gen(function*() {
    const target = resolve(path)
    if (!isTarPath(target)) {
      if (existsSync(target) && !statSync(target).isDirectory()) {
        return yield* new InvalidInput({ message: `--to ${path}: exists and is not a directory (a layout archive must end in .tar)` })
      }
      return { dir: target, archive: Option.none(), release: () => Effect.void }
    }
    const parent = dirname(target)
    if (!existsSync(parent) || !statSync(parent).isDirectory()) {
      return yield* new InvalidInput({ message: `--to ${path}: directory ${parent} does not exist` })
    }
    if (existsSync(target) && !statSync(target).isFile()) {
      return yield* new InvalidInput({ message: `--to ${path}: exists and is not a file` })
    }
    const work = join(parent, `.${basename(target)}.export`)
    if (existsSync(work) && !statSync(work).isDirectory()) {
      return yield* new InvalidInput({ message: `--to ${path}: ${work} is in the way (not a directory)` })
    }
    const resumed = existsSync(work)
    if (resumed) yield* Effect.logInfo(`resuming the interrupted export kept in ${work}`)
    yield* Effect.tryPromise({
      try: () => mkdir(work, { recursive: true }),
      catch: (e) => new InvalidInput({ message: `--to ${path}: cannot create the work dir ${work}: ${ioReason(e)}` })
    })
    const remove = Effect.promise(() => rm(work, { recursive: true, force: true }))
    const release = (packed: boolean) => packed ? remove : Effect.logWarning(`export not finished: kept ${work}; the next export to ${path} resumes from it`)
    if (existsSync(target)) {
      // The old archive's content is the starting point: its blobs are reused, its entries kept or replaced.
      yield* unpackLayout(target, work).pipe(
        Effect.tapError(() => (resumed ? Effect.void : remove)),
        Effect.mapError((e) => new InvalidInput({ message: `--to ${path}: the existing archive cannot be read: ${e.detail}` }))
      )
      // Never replace an archive that is something else with a layout.
      if (!existsSync(join(work, OCI_LAYOUT_FILE))) {
        if (!resumed) yield* remove
        return yield* new InvalidInput({ message: `--to ${path}: exists and is not an OCI image layout archive; refusing to replace it` })
      }
    }
    return { dir: work, archive: Option.some(target), release }
  })

/** Validates everything, then exports. Fails with InvalidInput (exit 2) or SyncIncomplete (exit 1). */
export const runExport = (flags: ExportFlags) =>
  Effect.gen(function*() {
    yield* checkConcurrency(flags.concurrency)
    if (flags.to.trim() === "") return yield* new InvalidInput({ message: "--to is empty" })
    const definition = yield* loadDefinition(flags.imagesFile, {
      targetRepoPrefix: yield* targetPrefixes(flags.targetRepoPrefix)
    }).pipe(Effect.mapError((e) => new InvalidInput({ message: e.message })))
    const env = yield* RunEnvironment.pipe(Effect.mapError(invalid))
    // Sources only: docker config (and auth plugins) answer; there is no target, so no -t/-a.
    const providers = yield* credentialChain({
      targetRepoAuthKey: Option.none(),
      accessToken: Option.none(),
      authPlugins: [...flags.authPlugin, ...env.authPlugins],
      registries: definition.registries
    }).pipe(Effect.mapError(invalid))
    let packed = false
    return yield* Effect.acquireUseRelease(
      prepareDestination(flags.to),
      (destination) =>
        Effect.gen(function*() {
          const layout = yield* openWriter(destination.dir).pipe(
            Effect.mapError((e) => new InvalidInput({ message: `--to ${flags.to}: ${e.message}` }))
          )
          const outcomes = yield* exportAll(definition, flags.concurrency, (o) => out(formatExport(o))).pipe(
            Effect.provide(
              exportLayer(definition, layout, { credentials: providers }).pipe(Layer.provide(Layer.merge(FetchHttpClient.layer, BunContext.layer)))
            )
          )
          if (Option.isSome(destination.archive)) {
            // What was exported is kept even when some images failed: a later run adds the rest.
            yield* packLayout(destination.dir, destination.archive.value).pipe(
              Effect.tapError((e) => Effect.logError(`could not write ${flags.to}: ${e.detail}`)),
              Effect.mapError(() => new SyncIncomplete({ failed: outcomes.length }))
            )
          }
          packed = true
          yield* out(formatExportSummary(outcomes))
          const failed = outcomes.filter((o) => "error" in o).length
          if (failed > 0) return yield* new SyncIncomplete({ failed })
        }),
      (destination) => destination.release(packed)
    )
  }).pipe(Logger.withMinimumLogLevel(flags.debug ? LogLevel.Debug : LogLevel.Info))

/** The export command. */
export const exportCommand = Command.make("export", { imagesFile, to, targetRepoPrefix, concurrency, debug, authPlugin }, runExport).pipe(
  Command.withDescription("Writes every listed source image, with its upstream signatures, into an OCI image layout for an air-gapped sync (--from).")
)
