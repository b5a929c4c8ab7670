/**
 * `image-syncer pin`: resolves every tagged, unpinned source with a HEAD (no manifest GET) and
 * writes `name:tag@sha256:…` into the definition file in place, changing nothing else.
 * `pin --check` writes nothing: it names unpinned entries and pins whose upstream tag has
 * moved ("drift"), for a pull-request check. Registries, mirrors and credentials as for sync.
 */
import { Command, Options } from "@effect/cli"
import { FetchHttpClient } from "@effect/platform"
import { BunContext } from "@effect/platform-bun"
import { Effect, Either, Layer, Logger, LogLevel, Option } from "effect"
import { stat } from "node:fs/promises"
import { realpathSync } from "node:fs"
import { credentialChain } from "../../composition/CredentialChain.ts"
import { transportLayer } from "../../composition/Live.ts"
import type { Definition, ImageEntry } from "../../definition/Definition.ts"
import { sourceLocation } from "../../definition/Locate.ts"
import { readDefinitionText } from "../../definition/Load.ts"
import { parseDefinition } from "../../definition/Parse.ts"
import { applySourceEdits, pinnedSource, pinState, sourceWithoutDigest } from "../../definition/Pin.ts"
import type { PinState, SourceEdit } from "../../definition/Pin.ts"
import { writeFileAtomic } from "../../model/AtomicFile.ts"
import { describeLocation, withReference } from "../../model/Location.ts"
import { Transport } from "../../transport/Transport.ts"
import type { TransportShape } from "../../transport/Transport.ts"
import { checkConcurrency, checkTargetCredentials } from "../Checks.ts"
import { RunEnvironment } from "../Config.ts"
import { out } from "../Console.ts"
import { DefinitionNotWritten, invalid, InvalidInput, SyncIncomplete } from "../Errors.ts"
import { accessToken, authPlugin, concurrency, debug, imagesFileFor, targetPrefixes, targetRepoAuthKey, targetRepoPrefix } from "../Flags.ts"

const check = Options.boolean("check").pipe(
  Options.withDescription("write nothing: exit 1 naming each entry that is not pinned and each pin whose upstream tag now points elsewhere")
)

/** What the upstream tag of an entry points at now (HEAD only), or why that is not known. */
const headTag = (transport: TransportShape, entry: ImageEntry, definition: Definition, tag: string): Effect.Effect<Either.Either<string, string>> => {
  const location = withReference(sourceLocation(entry, definition), tag)
  return Effect.either(transport.inspect(location)).pipe(
    Effect.map(Either.match({
      onLeft: (e) => Either.left(e.message),
      onRight: Option.match({
        onNone: () => Either.left(`${describeLocation(location)} not found`),
        onSome: (m) => Either.right(m.digest)
      })
    }))
  )
}

const where = (file: string, entry: ImageEntry) => `${file}:${entry.line}`

/** The pin command. */
export const pinCommand = Command.make(
  "pin",
  { imagesFile: imagesFileFor("pin"), check, targetRepoAuthKey, accessToken, targetRepoPrefix, authPlugin, concurrency, debug },
  (flags) =>
    Effect.gen(function*() {
      const env = yield* RunEnvironment.pipe(Effect.mapError(invalid))
      yield* checkConcurrency(flags.concurrency)
      yield* checkTargetCredentials(flags)
      const options = { targetRepoPrefix: yield* targetPrefixes(flags.targetRepoPrefix) }
      const { bom, text } = yield* readDefinitionText(flags.imagesFile).pipe(Effect.mapError(invalid))
      const definition = yield* Either.match(parseDefinition(flags.imagesFile, text, options), {
        onLeft: (e) => Effect.fail(invalid(e)),
        onRight: Effect.succeed
      })
      const credentials = yield* credentialChain({ ...flags, authPlugins: [...flags.authPlugin, ...env.authPlugins], registries: definition.registries }).pipe(
        Effect.mapError(invalid)
      )
      const states = definition.images.map(pinState)
      const live = transportLayer({ dryRun: true, credentials }).pipe(Layer.provide(Layer.merge(FetchHttpClient.layer, BunContext.layer)))

      const work = Effect.gen(function*() {
        const transport = yield* Transport
        return flags.check
          ? yield* checkPins(transport, definition, states, flags.concurrency)
          : yield* writePins(transport, definition, states, flags.concurrency, { bom, text, options })
      })
      const failed = yield* work.pipe(Effect.provide(live))
      if (failed > 0) return yield* new SyncIncomplete({ failed })
    }).pipe(Logger.withMinimumLogLevel(flags.debug ? LogLevel.Debug : LogLevel.Info))
).pipe(Command.withDescription("Pins every tagged source to the digest its tag points at now (name:tag@sha256:…), in place; --check only reports."))

/** `pin --check`: prints each unpinned entry and each drifted pin; the count of them. */
const checkPins = (transport: TransportShape, definition: Definition, states: ReadonlyArray<PinState>, concurrency: number) =>
  Effect.gen(function*() {
    const file = definition.file
    let unpinned = 0
    let drifted = 0
    let failed = 0
    let current = 0
    for (const state of states) {
      if (state._tag !== "Unpinned") continue
      unpinned++
      yield* out(`not pinned: ${state.entry.source} (${where(file, state.entry)})`)
    }
    const pinned = states.filter((s): s is Extract<PinState, { _tag: "Pinned" }> => s._tag === "Pinned")
    yield* Effect.forEach(pinned, (state) =>
      Effect.flatMap(headTag(transport, state.entry, definition, state.tag), (now) => {
        const name = sourceWithoutDigest(state.entry.source)
        if (Either.isLeft(now)) {
          failed++
          return out(`failed: ${name} (${where(file, state.entry)}): ${now.left}`)
        }
        if (now.right === state.digest) {
          current++
          return Effect.void
        }
        drifted++
        return out(`drift: ${name} is now ${now.right}, pinned ${state.digest} (${where(file, state.entry)})`)
      }), { concurrency, discard: true })
    const parts = [`${current} pinned and current`, `${unpinned} not pinned`, `${drifted} drifted`, ...(failed > 0 ? [`${failed} not checked`] : [])]
    const total = pinned.length + unpinned
    yield* out(`${total} entr${total === 1 ? "y" : "ies"}: ${parts.join(", ")}`)
    return unpinned + drifted + failed
  })

/** `pin`: resolves the unpinned tags and writes the pins; prints one line per change; the count of failures. */
const writePins = (
  transport: TransportShape,
  definition: Definition,
  states: ReadonlyArray<PinState>,
  concurrency: number,
  original: { readonly bom: boolean; readonly text: string; readonly options: { readonly targetRepoPrefix: ReadonlyArray<string> } }
) =>
  Effect.gen(function*() {
    const file = definition.file
    const unpinned = states.filter((s): s is Extract<PinState, { _tag: "Unpinned" }> => s._tag === "Unpinned")
    if (unpinned.length === 0) {
      yield* Effect.logInfo(`nothing to pin in ${file}: every tagged source is pinned`)
      return 0
    }
    const resolved = yield* Effect.forEach(unpinned, (state) =>
      Effect.map(headTag(transport, state.entry, definition, state.tag), (digest) => ({ state, digest })), { concurrency })
    const edits: Array<SourceEdit & { readonly entry: ImageEntry }> = []
    let failed = 0
    for (const { state, digest } of resolved) {
      if (Either.isLeft(digest)) {
        failed++
        yield* out(`failed: ${state.entry.source} (${where(file, state.entry)}): ${digest.left}`)
        continue
      }
      edits.push({ index: state.entry.index, source: pinnedSource(state.entry.source, digest.right), entry: state.entry })
    }
    if (edits.length === 0) {
      return failed
    }
    const edited = applySourceEdits(original.text, edits)
    if (Either.isLeft(edited)) {
      const problems = edited.left.map((p) =>
        `${file}:${p.line}: images[${p.index}]: ${p.message}`
      )
      return yield* new InvalidInput({ message: `cannot pin:\n  ${problems.join("\n  ")}` })
    }
    // The edited text must still be the same definition, with the new sources: checked before writing.
    const again = parseDefinition(file, edited.right, original.options)
    const same = Either.isRight(again) && again.right.images.length === definition.images.length &&
      edits.every((e) => again.right.images[e.index]?.source === e.source)
    if (!same) return yield* new InvalidInput({ message: `cannot pin ${file}: the edited file would not read back as the same definition; nothing written` })
    const path = realpathSync(file)
    const mode = (yield* Effect.promise(() => stat(path))).mode & 0o7777
    yield* Effect.tryPromise({
      try: () => writeFileAtomic(path, original.bom ? `\uFEFF${edited.right}` : edited.right, mode),
      catch: (e) => new DefinitionNotWritten({ path: file, reason: e instanceof Error ? e.message : String(e) })
    })
    for (const e of edits) yield* out(`${where(file, e.entry)}: ${e.entry.source} -> ${e.source}`)
    yield* Effect.logInfo(`pinned ${edits.length} of ${unpinned.length} unpinned entries in ${file}`)
    return failed
  })
