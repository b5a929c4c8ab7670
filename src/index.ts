/**
 * image-syncer as a library: one namespace per part of the program (docs/embedding.md lists
 * every name).
 *
 * - `Sync`: the Pipeline service, the layers that wire a run (`pipelineLayer`), run settings, export
 * - `Steps`: the five step services (Resolve, CheckTarget, Compare, Copy, Sign) and tag-rule expansion
 * - `Transports`: the Transport seam, credentials, loading a transport by name or path
 * - `Definitions`: loading and validating the definition file, its schema
 * - `Model`: results, shared errors, references, locations, manifests, platforms, progress events
 * - `Report`: result lines, summary, exit status, the JSON report, JUnit, GitHub summary
 * - `Plugins`: the built-in transports, auth providers and signers
 *
 * The registry client is a library of its own: `image-syncer/oci`.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { BunContext } from "@effect/platform-bun"
 * import { Effect, Layer } from "effect"
 * import { Definitions, Report, Sync } from "image-syncer"
 *
 * const program = Effect.gen(function*() {
 *   const definition = yield* Definitions.loadDefinition("images.yaml")
 *   const results = yield* Effect.flatMap(Sync.Pipeline, (pipeline) => pipeline.syncAll(definition))
 *   for (const r of results) console.log(Report.formatResult(r))
 *   return Report.exitCodeOf(results)
 * }).pipe(
 *   Effect.provide(Sync.pipelineLayer({ dryRun: true, concurrency: 8, credentials: [] })),
 *   Effect.provide(Layer.merge(FetchHttpClient.layer, BunContext.layer))
 * )
 * ```
 *
 * The CLI (`src/cli/`) is one caller of this API and none of it is exported; `examples/embed/`
 * is another caller.
 */

/** The Pipeline service, the layers that wire a run (`pipelineLayer`), run settings, the export into an OCI layout. */
export * as Sync from "./api/Sync.ts"
/** The five step services and tag-rule expansion, for programs that run some steps themselves. */
export * as Steps from "./api/Steps.ts"
/** The Transport seam, what a transport layer may use (registry clients, credentials, processes), loading one by name or path. */
export * as Transports from "./api/Transports.ts"
/** The definition file: load, validate, its schema and JSON Schema, where an entry goes. */
export * as Definitions from "./api/Definitions.ts"
/** Results, shared errors, references and target naming, locations, manifests, digests, platforms, progress events. */
export * as Model from "./api/Model.ts"
/** Result lines, the summary, the exit status, the `--report` document, JUnit XML, the GitHub job summary. */
export * as Report from "./api/Report.ts"
/** The built-in transports, auth providers and signers, each a module exporting its layer. */
export * as Plugins from "./api/Plugins.ts"
