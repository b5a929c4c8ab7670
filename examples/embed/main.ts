/**
 * Embedding image-syncer in your own Effect program, through the package's public API only.
 *
 *   bun examples/embed/main.ts images.yaml [--dry-run]
 *
 * 1. Its own layers: a CredentialProvider of its own (Basic credentials for the target from
 *    EMBED_TARGET_USERNAME / EMBED_TARGET_PASSWORD) and its own Transport layer (the oci
 *    transport, wrapped to report each copy on stderr).
 * 2. A preflight that runs the Resolve, CheckTarget and Compare steps itself, read-only, and
 *    handles their typed errors with `Effect.catchTag` (`TagConflict`) and `Effect.catchTags`.
 * 3. The whole pipeline (`Pipeline.syncAll`), which never fails: every image's outcome, conflicts
 *    included, is an `ImageResult`.
 * Exit status: 0 all synced/present/planned, 1 some conflicted or failed, 2 bad definition.
 */
import { FetchHttpClient } from "@effect/platform"
import { BunContext, BunRuntime } from "@effect/platform-bun"
import { Console, Effect, Layer, Option, Redacted } from "effect"
import { Definitions, Model, Plugins, Report, Steps, Sync, Transports } from "image-syncer"

type Credential = Transports.Credential
type CredentialProvider = Transports.CredentialProvider
type Definition = Definitions.Definition
type ImageEntry = Definitions.ImageEntry

const { CheckTarget, Compare, Resolve } = Steps
const { Transport } = Transports

// == our own layers

/** Basic credentials for the target registry from the environment; nothing for sources (anonymous). */
const envCredentials: CredentialProvider = {
  name: "embed-env (EMBED_TARGET_USERNAME, EMBED_TARGET_PASSWORD)",
  lookup: (_host, role) =>
    Effect.sync(() => {
      const username = process.env["EMBED_TARGET_USERNAME"]
      const password = process.env["EMBED_TARGET_PASSWORD"]
      if (role !== "target" || !username || password === undefined) return Option.none<Credential>()
      return Option.some<Credential>({ _tag: "Basic", username, password: Redacted.make(password) })
    })
}

const credentials: ReadonlyArray<CredentialProvider> = [envCredentials]

/** Our own Transport layer: the oci transport, with every finished copy reported on stderr. */
const reportingTransport: Transports.TransportLayer = Layer.effect(
  Transport,
  Effect.gen(function*() {
    const oci = yield* Plugins.OciTransport.make()
    return Transport.of({
      ...oci,
      name: "oci+report",
      copy: (source, target, manifest) =>
        oci.copy(source, target, manifest).pipe(
          Effect.tap((r) =>
            Console.error(
              `copied ${Model.describeLocation(target)}: ${r.blobsCopied} blobs copied, ${r.blobsMounted} mounted, ${r.blobsSkipped} present`
            )
          )
        )
    })
  })
)

/** The three read-only steps on the oci transport over a read-only registry client: what the preflight runs on. */
const preflightLayer = Layer.mergeAll(Resolve.layer, CheckTarget.layer, Compare.layer).pipe(
  Layer.provide(Sync.transportLayer({ dryRun: true, credentials }))
)

// == the preflight: the steps, run by hand, with their typed errors

/** Resolve → CheckTarget → Compare for one entry; a conflict or a missing source is an answer, not a crash. */
const preflightOne = (entry: ImageEntry, definition: Definition) =>
  Effect.gen(function*() {
    const resolve = yield* Resolve
    const checkTarget = yield* CheckTarget
    const compare = yield* Compare
    const image = yield* resolve.resolve(entry, definition)
    const existing = yield* checkTarget.check(image)
    const decision = yield* compare.compare(image, existing)
    return decision === "copy" ? `would copy ${entry.source} (${image.manifest.digest})` : `present    ${entry.source}`
  }).pipe(
    // Compare's typed error: the target tag holds other content (tags are immutable).
    Effect.catchTag("TagConflict", (e) => Effect.succeed(`conflict   ${entry.source}: ${e.target} holds ${e.targetDigest}, the source is ${e.sourceDigest}`)),
    // Resolve's: the source is missing, or not something this entry may copy.
    Effect.catchTags({
      SourceNotFound: (e) => Effect.succeed(`missing    ${entry.source}: ${e.message}`),
      PlatformMismatch: (e) => Effect.succeed(`platform   ${entry.source}: ${e.detail}`)
    })
  )
// Registry trouble (Unauthorized, RegistryUnavailable, …) is left in the error channel: it ends the program.

const preflight = (definition: Definition) =>
  Effect.forEach(definition.images, (entry) => preflightOne(entry, definition), { concurrency: 4 }).pipe(
    Effect.provide(preflightLayer)
  )

// == the program

const program = Effect.gen(function*() {
  const args = process.argv.slice(2)
  const file = args.find((a) => !a.startsWith("-"))
  if (file === undefined) {
    yield* Console.error("usage: bun examples/embed/main.ts images.yaml [--dry-run]")
    return 2
  }
  const dryRun = args.includes("--dry-run")
  const definition = yield* Definitions.loadDefinition(file)

  yield* Console.log("preflight:")
  for (const line of yield* preflight(definition)) yield* Console.log(`  ${line}`)

  yield* Console.log(dryRun ? "sync (dry run):" : "sync:")
  const results = yield* Effect.flatMap(Sync.Pipeline, (pipeline) => pipeline.syncAll(definition, (result) => Console.log(`  ${Report.formatResult(result)}`)))
    .pipe(
      Effect.provide(Sync.pipelineLayer({ dryRun, concurrency: 4, credentials, transport: reportingTransport }))
    )
  yield* Console.log(Report.formatSummary(results))
  return Report.exitCodeOf(results)
}).pipe(
  Effect.catchTag("DefinitionError", (e) => Console.error(e.message).pipe(Effect.as(2))),
  Effect.provide(Layer.merge(FetchHttpClient.layer, BunContext.layer))
)

BunRuntime.runMain(
  program.pipe(Effect.flatMap((code) => Effect.sync(() => void (process.exitCode = code)))),
  { disableErrorReporting: false }
)
