/**
 * The command line: flags and environment variables of the original tool (design.md), parsed
 * with @effect/cli. Thin: validate everything, wire the layers, run the pipeline, print.
 */
import { Command, Options } from "@effect/cli"
import { FetchHttpClient } from "@effect/platform"
import { Config, Data, Effect, Either, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import { existsSync, realpathSync, statSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import { dirname, resolve } from "node:path"
import { Env } from "./Config.ts"
import type { CredentialProvider } from "../oci/Credentials.ts"
import { Pipeline } from "../pipeline/Pipeline.ts"
import { formatTarget } from "../model/Target.ts"
import { pipelineLayer, registryClientLayer } from "../composition/Live.ts"
import { MAX_CONCURRENCY } from "../pipeline/SyncSettings.ts"
import * as AccessToken from "../../plugins/auth/accessToken.ts"
import * as DockerConfig from "../../plugins/auth/dockerConfig.ts"
import * as Podman from "../../plugins/auth/podman.ts"
import { loadAuthPlugin } from "../composition/AuthPluginLoader.ts"
import * as JsonKey from "../../plugins/auth/jsonKey.ts"
import * as CosignSigner from "../../plugins/signers/cosign.ts"
import * as KeySigner from "../../plugins/signers/key.ts"
import { Exec } from "../process/Exec.ts"
import { Signer } from "../signing/Signer.ts"
import { checkTransport, loadTransport } from "../composition/TransportLoader.ts"
import * as Layout from "../../plugins/transports/layout.ts"
import { exitCodeOf, formatResult, formatSummary, reportOf } from "../report/Output.ts"
import { formatBytes, makeView, outputFlags, renderLoop, resolveOutput } from "./ProgressView.ts"
import type { OutputFlag } from "./ProgressView.ts"
import { junitXml } from "../report/JUnit.ts"
import { appendGithubSummary, GITHUB_STEP_SUMMARY, githubSummary } from "../report/GithubSummary.ts"
import { formatShard, parseShard, selectShard } from "../definition/Shard.ts"
import type { Shard } from "../definition/Shard.ts"
import type { ProgressEvent } from "../model/Progress.ts"
import type { ImageResult } from "../model/Result.ts"
import { loadDefinition } from "../definition/Load.ts"

/** An invalid invocation, definition or key: nothing was contacted (exit 2). */
export class InvalidInput extends Data.TaggedError("InvalidInput")<{ readonly message: string }> {}

/** The run finished but its report (or JUnit file) could not be written (exit 1); the error was logged. */
export class ReportNotWritten extends Data.TaggedError("ReportNotWritten")<{ readonly path: string }> {
  override get message() {
    return `could not write ${this.path}`
  }
}

/** The run finished and at least one image conflicted or failed (exit 1); everything was printed. */
export class SyncIncomplete extends Data.TaggedError("SyncIncomplete")<{ readonly failed: number }> {
  override get message() {
    return `${this.failed} image(s) conflicted or failed`
  }
}

/** A flag description naming its environment variable. */
export const withEnv = (description: string, env: string) => `${description} [env: ${env}]`

/** Shared with other commands. */
export const imagesFile = Options.text("images-file").pipe(
  Options.withAlias("i"),
  Options.withDescription(withEnv("YAML definition file listing the images to sync (required)", Env.imagesFile)),
  Options.withFallbackConfig(Config.string(Env.imagesFile))
)
/** Shared with other commands. */
export const targetRepoAuthKey = Options.text("target-repo-auth-key").pipe(
  Options.withAlias("t"),
  Options.withDescription(withEnv("JSON key file for the target registry (Basic _json_key)", Env.targetRepoAuthKey)),
  Options.withFallbackConfig(Config.string(Env.targetRepoAuthKey)),
  Options.optional
)
/** Shared with other commands. */
export const accessToken = Options.redacted("access-token").pipe(
  Options.withAlias("a"),
  Options.withDescription(withEnv("bearer token for the target registry", Env.accessToken)),
  Options.withFallbackConfig(Config.redacted(Env.accessToken)),
  Options.optional
)
/** Shared with other commands. */
export const targetRepoPrefix = Options.text("target-repo-prefix").pipe(
  Options.withAlias("r"),
  Options.withDescription(withEnv("overrides the file's targetRepoPrefix", Env.targetRepoPrefix)),
  Options.withFallbackConfig(Config.string(Env.targetRepoPrefix)),
  Options.optional
)
const dryRun = Options.boolean("dry-run").pipe(
  Options.withDescription(withEnv("resolve, check and compare; write nothing anywhere", Env.dryRun)),
  Options.withFallbackConfig(Config.boolean(Env.dryRun))
)
const debug = Options.boolean("debug").pipe(
  Options.withDescription(withEnv("debug logs on stderr (never secrets)", Env.debug)),
  Options.withFallbackConfig(Config.boolean(Env.debug))
)
const report = Options.text("report").pipe(
  Options.withDescription(withEnv("write a JSON report to this file", Env.report)),
  Options.withFallbackConfig(Config.string(Env.report)),
  Options.optional
)
const signKey = Options.text("sign-key").pipe(
  Options.withDescription(withEnv(
    "cosign key: encrypted cosign key file, PKCS#8 PEM, or a KMS reference (gcpkms://, awskms://, azurekms://, hashivault://); password from SYNCER_SIGN_KEY_PASSWORD or COSIGN_PASSWORD",
    Env.signKey
  )),
  Options.withFallbackConfig(Config.string(Env.signKey)),
  Options.optional
)
const transport = Options.text("transport").pipe(
  Options.withDescription(withEnv("how images are moved: oci (default), skopeo, crane, or a module path", Env.transport)),
  Options.withFallbackConfig(Config.string(Env.transport)),
  Options.withDefault("oci")
)
const from = Options.text("from").pipe(
  Options.withDescription(withEnv("read sources from an OCI image layout (directory or .tar) written by `image-syncer export`", Env.from)),
  Options.withFallbackConfig(Config.string(Env.from)),
  Options.optional
)
const authPlugin = Options.text("auth-plugin").pipe(
  Options.withDescription(withEnv("module path of a custom auth provider, asked before docker config (repeatable)", Env.authPlugin)),
  Options.repeated
)
const output = Options.choice("output", outputFlags).pipe(
  Options.withDescription(withEnv("auto (live view on a terminal, plain otherwise), tty, plain, or json (JSON lines)", Env.output)),
  Options.withFallbackConfig(Config.literal(...outputFlags)(Env.output)),
  Options.withDefault("auto" as OutputFlag)
)
const junit = Options.text("junit").pipe(
  Options.withDescription(withEnv("write a JUnit XML report (one test case per image) to this file", Env.junit)),
  Options.withFallbackConfig(Config.string(Env.junit)),
  Options.optional
)
const shardOption = Options.text("shard").pipe(
  Options.withDescription(withEnv("I/N: handle only the images of shard I of N (split by target, no overlap)", Env.shard)),
  Options.withFallbackConfig(Config.string(Env.shard)),
  Options.optional
)
const concurrency = Options.integer("concurrency").pipe(
  Options.withAlias("j"),
  Options.withDescription(withEnv(`images in flight (default 8, at most ${MAX_CONCURRENCY})`, Env.concurrency)),
  Options.withFallbackConfig(Config.integer(Env.concurrency)),
  Options.withDefault(8)
)

/** The parsed flags of a sync run. */
export interface SyncFlags {
  readonly imagesFile: string
  readonly targetRepoAuthKey: Option.Option<string>
  readonly accessToken: Option.Option<Redacted.Redacted<string>>
  readonly targetRepoPrefix: Option.Option<string>
  readonly dryRun: boolean
  readonly debug: boolean
  readonly report: Option.Option<string>
  readonly concurrency: number
  readonly signKey: Option.Option<string>
  readonly transport: string
  readonly from: Option.Option<string>
  readonly authPlugin: ReadonlyArray<string>
  readonly output: OutputFlag
  readonly junit: Option.Option<string>
  readonly shard: Option.Option<string>
}

/** The credential chain from the target flags: key file, else access token, then docker config. */
export const credentialProviders = (flags: {
  readonly targetRepoAuthKey: Option.Option<string>
  readonly accessToken: Option.Option<Redacted.Redacted<string>>
  readonly authPlugins?: ReadonlyArray<string>
}) =>
  Effect.gen(function*() {
    if (Option.isSome(flags.targetRepoAuthKey) && Option.isSome(flags.accessToken)) {
      return yield* new InvalidInput({ message: "use either --target-repo-auth-key or --access-token, not both" })
    }
    if (Option.isSome(flags.accessToken) && Redacted.value(flags.accessToken.value).trim() === "") {
      return yield* new InvalidInput({ message: "--access-token is empty" })
    }
    // A line break would end the Authorization header early; never worth a request.
    if (Option.isSome(flags.accessToken) && /[\u0000-\u001f\u007f]/.test(Redacted.value(flags.accessToken.value))) {
      return yield* new InvalidInput({
        message: `--access-token (${Env.accessToken}) contains a control character such as a line break; give the token alone`
      })
    }
    const providers: Array<CredentialProvider> = []
    if (Option.isSome(flags.targetRepoAuthKey)) {
      const key = yield* JsonKey.load(flags.targetRepoAuthKey.value).pipe(
        Effect.mapError((e) => new InvalidInput({ message: e.message }))
      )
      providers.push(JsonKey.provider(key))
    }
    if (Option.isSome(flags.accessToken)) providers.push(AccessToken.provider(flags.accessToken.value))
    for (const path of flags.authPlugins ?? []) {
      providers.push(yield* loadAuthPlugin(path).pipe(Effect.mapError((e) => new InvalidInput({ message: e.message }))))
    }
    providers.push(yield* DockerConfig.make().pipe(Effect.provide(Exec.layer)))
    const podman = yield* Podman.make
    if (Option.isSome(podman)) providers.push(podman.value)
    return providers
  })

/** Loads the signing key now (a bad key exits 2 before any registry is contacted). */
const signerLayer = (signKey: Option.Option<string>) =>
  Effect.gen(function*() {
    if (Option.isNone(signKey)) return undefined
    const ref = signKey.value
    if (CosignSigner.isKmsReference(ref)) {
      const signer = yield* CosignSigner.make(ref).pipe(
        Effect.provide(Exec.layer),
        Effect.mapError((e) => new InvalidInput({ message: e.message }))
      )
      return Layer.succeed(Signer, signer)
    }
    const key = yield* KeySigner.load(ref, KeySigner.passwordFromEnv()).pipe(
      Effect.mapError((e) => new InvalidInput({ message: e.message }))
    )
    return KeySigner.layer(key, `key ${ref}`)
  })

/** `--concurrency` within 1…MAX_CONCURRENCY, or an invalid invocation. */
export const checkConcurrency = (n: number): Effect.Effect<void, InvalidInput> =>
  Number.isInteger(n) && n >= 1 && n <= MAX_CONCURRENCY
    ? Effect.void
    : Effect.fail(new InvalidInput({ message: `--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY} (got ${n})` }))

/** Writes a line to stdout (results only). */
const out = (line: string) => Effect.sync(() => void process.stdout.write(`${line}\n`))

/** Logs go to stderr, one plain line each. */
export const stderrLogger = Logger.make(({ logLevel, message }) => {
  const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
  process.stderr.write(`${logLevel.label.toLowerCase()}: ${text}\n`)
})

/** Validates everything, then runs the pipeline. Fails with InvalidInput (exit 2) or SyncIncomplete (exit 1). */
export const runSync = (flags: SyncFlags, plan = false) =>
  Effect.gen(function*() {
    yield* checkConcurrency(flags.concurrency)
    yield* checkOutputPaths(flags)
    const shard = Option.isSome(flags.shard)
      ? yield* Either.match(parseShard(flags.shard.value), {
        onLeft: (reason) => Effect.fail(new InvalidInput({ message: `--shard ${flags.shard.pipe(Option.getOrElse(() => ""))}: ${reason}` })),
        onRight: (s) => Effect.succeed(Option.some(s))
      })
      : Option.none<Shard>()
    const loaded = yield* loadDefinition(flags.imagesFile, {
      targetRepoPrefix: Option.getOrUndefined(flags.targetRepoPrefix)
    }).pipe(Effect.mapError((e) => new InvalidInput({ message: e.message })))
    // A shard keeps the images whose target hashes to it: N jobs share the list without overlap.
    const definition = Option.isSome(shard)
      ? { ...loaded, images: selectShard(loaded.images, shard.value, (e) => formatTarget(e.target)) }
      : loaded

    if (Option.isSome(flags.from) && flags.transport !== "oci") {
      return yield* new InvalidInput({ message: "--from reads sources from a layout; it cannot be combined with --transport" })
    }
    const transportLayer = Option.isSome(flags.from)
      ? yield* Layout.layerFrom(flags.from.value).pipe(Effect.mapError((e) => new InvalidInput({ message: e.message })))
      : yield* loadTransport(flags.transport).pipe(Effect.mapError((e) => new InvalidInput({ message: e.message })))
    const envPlugins = process.env[Env.authPlugin]
    const providers = yield* credentialProviders({
      ...flags,
      authPlugins: [...flags.authPlugin, ...(envPlugins ? envPlugins.split(",").filter(Boolean) : [])]
    })
    const signer = yield* signerLayer(flags.signKey)
    if (Option.isNone(flags.from)) {
      // Built once against a read-only client: a module that is not a transport stops here, before any request.
      yield* checkTransport(flags.transport, transportLayer).pipe(
        Effect.provide(Layer.merge(registryClientLayer({ dryRun: true, credentials: providers }), Exec.layer).pipe(
          Layer.provide(FetchHttpClient.layer)
        )),
        Effect.mapError((e) => new InvalidInput({ message: e.message }))
      )
    }

    const stallRaw = process.env[Env.stallTimeoutMs]
    const stallTimeoutMs = stallRaw && /^\d+$/.test(stallRaw) && Number(stallRaw) > 0 ? Number(stallRaw) : undefined
    const startedAt = new Date()
    if (flags.dryRun) yield* Effect.logInfo("dry run: nothing will be written")
    const live = pipelineLayer({
      dryRun: flags.dryRun,
      measure: plan,
      ...(stallTimeoutMs ? { stallTimeoutMs } : {}),
      concurrency: flags.concurrency,
      credentials: providers,
      transport: transportLayer,
      ...(signer ? { signer } : {})
    }).pipe(
      Layer.provide(FetchHttpClient.layer)
    )
    const finished: Array<ImageResult> = []
    const { mode, color } = resolveOutput(flags.output as OutputFlag, process.stdout.isTTY === true, process.env)
    // stdout carries results: in plain mode the per-event lines and the table go to stderr, and
    // stdout keeps one line per image and the one-line summary. tty and json own stdout.
    const viewWrite = mode === "plain" ? (t: string) => void process.stderr.write(t) : (t: string) => void process.stdout.write(t)
    const view = makeView(mode, viewWrite, { color, total: definition.images.length, width: process.stdout.columns ?? 100 })
    const onEvent = (e: ProgressEvent) => {
      if (mode === "plain" && e._tag === "ImageFinished") return
      view.onEvent(e)
    }
    const elapsed = () => Date.now() - startedAt.getTime()
    /** Writes the report files; the path of the first that could not be written, if any. */
    const writeReport = (results: ReadonlyArray<ImageResult>, interrupted: boolean) =>
      Effect.gen(function*() {
        let unwritten: string | undefined
        if (Option.isSome(flags.report)) {
          const doc = {
            ...reportOf(results, { imagesFile: flags.imagesFile, dryRun: flags.dryRun, startedAt, durationMs: elapsed() }),
            ...(Option.isSome(shard) ? { shard: formatShard(shard.value) } : {}),
            ...(interrupted ? { interrupted: true, unfinished: definition.images.length - results.length } : {})
          }
          if (!(yield* writeText(flags.report.value, `${JSON.stringify(doc, null, 2)}\n`, "report"))) unwritten ??= flags.report.value
        }
        if (Option.isSome(flags.junit)) {
          const name = `image-syncer ${flags.imagesFile}${Option.isSome(shard) ? ` shard ${formatShard(shard.value)}` : ""}`
          const xml = junitXml(results, { name, durationMs: elapsed(), timestamp: startedAt })
          if (!(yield* writeText(flags.junit.value, xml, "JUnit report"))) unwritten ??= flags.junit.value
        }
        const summaryPath = process.env[GITHUB_STEP_SUMMARY]
        if (summaryPath) {
          yield* appendGithubSummary(summaryPath, githubSummary(results, { durationMs: elapsed(), dryRun: flags.dryRun })).pipe(
            Effect.catchTag("GithubSummaryFailed", (e) => Effect.logWarning(e.message))
          )
        }
        return unwritten
      })
    const finish = (results: ReadonlyArray<ImageResult>, note: string) =>
      Effect.gen(function*() {
        view.finish(results, elapsed())
        if (mode === "plain") yield* out(`${formatSummary(results)}${note}`)
        if (plan) yield* out(planTable(results))
      })
    const run = Effect.flatMap(Pipeline, (p) =>
      p.syncAll(
        definition,
        (r) => Effect.sync(() => finished.push(r)).pipe(Effect.zipRight(mode === "plain" ? out(formatResult(r)) : Effect.void)),
        onEvent
      ))
    const results = yield* Effect.raceFirst(run, renderLoop(view, mode === "tty" ? 100 : 10_000)).pipe(
      Effect.provide(live),
      // On SIGINT/SIGTERM: in-flight copies stop (their tags were never written), what finished is reported.
      Effect.onInterrupt(() =>
        Effect.gen(function*() {
          const order = new Map(definition.images.map((e, i) => [`${e.source} ${formatTarget(e.target)}`, i]))
          const done = [...finished].sort((a, b) => (order.get(`${a.source} ${a.target}`) ?? 0) - (order.get(`${b.source} ${b.target}`) ?? 0))
          yield* finish(done, ` (interrupted: ${definition.images.length - done.length} not finished)`)
          yield* writeReport(done, true)
        })
      )
    )
    yield* finish(results, "")
    const unwritten = yield* writeReport(results, false)
    const code = exitCodeOf(results)
    if (unwritten !== undefined && code === 0) return yield* new ReportNotWritten({ path: unwritten })
    if (code !== 0) {
      return yield* new SyncIncomplete({ failed: results.filter((r) => r.status === "conflict" || r.status === "failed").length })
    }
  }).pipe(Logger.withMinimumLogLevel(flags.debug ? LogLevel.Debug : LogLevel.Info))

const syncOptions = { imagesFile, targetRepoAuthKey, accessToken, targetRepoPrefix, dryRun, debug, report, concurrency, signKey, transport, from, authPlugin, output, junit, shard: shardOption }

/** The root command: `image-syncer [flags]` syncs, as the original tool did. */
export const command = Command.make("image-syncer", syncOptions, runSync).pipe(
  Command.withDescription("Copies container images into your registry only when absent; target tags are immutable.")
)

/** `image-syncer plan`: a dry run that also says how big each image to copy is. */
export const planCommand = Command.make("plan", syncOptions, (flags) => runSync({ ...flags, dryRun: true }, true)).pipe(
  Command.withDescription("Shows what a sync would copy, with sizes; writes nothing (a dry run).")
)

/** The plan as a readable table. */
export const planTable = (results: ReadonlyArray<ImageResult>): string => {
  const rows = results.map((r) => [r.status, r.source, r.target, r.sizeBytes === undefined ? "-" : formatBytes(r.sizeBytes)])
  const header = ["STATUS", "SOURCE", "TARGET", "SIZE"]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd()
  const toCopy = results.filter((r) => r.status === "planned").reduce((n, r) => n + (r.sizeBytes ?? 0), 0)
  return [line(header), ...rows.map(line), `to copy: ${results.filter((r) => r.status === "planned").length} image(s), ${formatBytes(toCopy)} (blobs already in the target are not copied again)`].join("\n")
}

/** Writes an output file; a failure is logged and counted (the run's exit status says so), the other outputs still go out. */
const writeText = (path: string, text: string, what: string) =>
  Effect.tryPromise(() => writeFile(path, text)).pipe(
    Effect.as(true),
    Effect.catchAll((e) => Effect.logError(`could not write ${what} ${path}: ${describeWriteError(e.error)}`).pipe(Effect.as(false)))
  )

const describeWriteError = (e: unknown): string => {
  const code = (e as { code?: string } | undefined)?.code
  if (code === "EACCES" || code === "EPERM") return "permission denied"
  if (code === "EISDIR") return "it is a directory"
  if (code === "ENOSPC") return "no space left on device"
  if (code === "ENOENT") return "its directory does not exist"
  return e instanceof Error ? e.message : String(e)
}

/** A path as the file system names it (symlinks followed when it exists), to compare paths. */
const canonical = (path: string): string => {
  const absolute = resolve(path)
  try {
    return realpathSync(absolute)
  } catch {
    return absolute
  }
}

/**
 * Output files must not overwrite an input (the definition, a key, a layout, a plugin) or each
 * other, and their directory must exist: checked before anything is contacted.
 */
const checkOutputPaths = (flags: SyncFlags) =>
  Effect.gen(function*() {
    const inputs: Array<readonly [string, string]> = [["--images-file", flags.imagesFile]]
    if (Option.isSome(flags.targetRepoAuthKey)) inputs.push(["--target-repo-auth-key", flags.targetRepoAuthKey.value])
    if (Option.isSome(flags.signKey) && !CosignSigner.isKmsReference(flags.signKey.value)) inputs.push(["--sign-key", flags.signKey.value])
    if (Option.isSome(flags.from)) inputs.push(["--from", flags.from.value])
    for (const plugin of flags.authPlugin) inputs.push(["--auth-plugin", plugin])
    if (flags.transport.includes("/")) inputs.push(["--transport", flags.transport])
    const outputs: Array<readonly [string, string]> = []
    if (Option.isSome(flags.report)) outputs.push(["--report", flags.report.value])
    if (Option.isSome(flags.junit)) outputs.push(["--junit", flags.junit.value])
    for (const [flag, path] of outputs) {
      const dir = dirname(resolve(path))
      if (!existsSync(dir) || !statSync(dir).isDirectory()) {
        return yield* new InvalidInput({ message: `${flag} ${path}: directory ${dir} does not exist` })
      }
      const input = inputs.find(([, other]) => canonical(other) === canonical(path))
      if (input) return yield* new InvalidInput({ message: `${flag} ${path} is also given as ${input[0]}; writing it would destroy that input` })
    }
    if (outputs.length === 2 && canonical(outputs[0]![1]) === canonical(outputs[1]![1])) {
      return yield* new InvalidInput({ message: `--report and --junit name the same file ${outputs[0]![1]}` })
    }
  })

const runRoot = Command.run(command, { name: "image-syncer", version: "0.1.0" })

/** Subcommands, dispatched by name: the root's required flags must not apply to them. */
const subcommands: Record<string, (argv: ReadonlyArray<string>) => ReturnType<typeof runRoot>> = {}

/** Registers a subcommand (done by its module). */
export const registerSubcommand = <Name extends string, R, E, A>(cmd: Command.Command<Name, R, E, A>, name: Name) => {
  const runner = Command.run(cmd, { name: `image-syncer ${name}`, version: "0.1.0" })
  subcommands[name] = (argv) => runner([argv[0]!, argv[1]!, ...argv.slice(3)]) as ReturnType<typeof runRoot>
}

/** Parses argv and runs the root command or a subcommand. */
export const run = (argv: ReadonlyArray<string>) => {
  const sub = argv[2] !== undefined ? subcommands[argv[2]] : undefined
  return sub ? sub(argv) : runRoot(argv)
}

/** Flags that take a value (so the next argument is not a flag of its own). */
const valueFlags = new Set([
  "--images-file", "-i", "--target-repo-auth-key", "-t", "--access-token", "-a", "--target-repo-prefix", "-r",
  "--report", "--concurrency", "-j", "--log-level", "--sign-key", "--key", "--transport", "--from", "--to", "--auth-plugin", "--output", "--junit", "--shard"
])
/** Flags without a value, including @effect/cli's built-ins. */
const switchFlags = new Set(["--dry-run", "--debug", "--help", "-h", "--version", "--wizard", "--completions"])

/**
 * The first unknown flag in argv, if any. @effect/cli stops reading options at an unknown
 * leading flag and then complains about a missing required one, which misleads; we name it.
 */
export const unknownFlag = (args: ReadonlyArray<string>): string | undefined => {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--") return undefined
    if (!arg.startsWith("-") || arg === "-") continue
    const name = arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg
    if (valueFlags.has(name)) {
      if (!arg.includes("=")) i++
      continue
    }
    if (!switchFlags.has(name)) return name
  }
  return undefined
}
