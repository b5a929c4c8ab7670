/**
 * Picks the transport from `--transport NAME|PATH`: a built-in by name, or a module loaded by
 * path that exports `layer: Layer<Transport, never, TransportContext>`. Everything is checked
 * before the first request; a bad name or module is an invalid invocation (exit 2).
 */
import { Cause, Context, Data, Effect, Layer, Option } from "effect"
import { existsSync } from "node:fs"
import { isAbsolute, resolve } from "node:path"
import { isModulePath } from "../model/ModulePath.ts"
import { TRANSPORT_METHODS, Transport as TransportTag } from "../transport/Transport.ts"
import type { Transport, TransportContext, TransportLayer } from "../transport/Transport.ts"
import * as Layout from "../../plugins/transports/layout.ts"
import type { LayoutUnusable } from "../../plugins/transports/layout.ts"

/** The transport cannot be used. */
export class TransportUnusable extends Data.TaggedError("TransportUnusable")<{ readonly transport: string; readonly reason: string }> {
  override get message() {
    return `transport ${this.transport}: ${this.reason}`
  }
}

const builtins: Record<string, () => Promise<{ readonly layer: unknown }>> = {
  oci: () => import("../../plugins/transports/oci.ts").then((m) => ({ layer: m.layer() })),
  skopeo: () => import("../../plugins/transports/skopeo.ts"),
  crane: () => import("../../plugins/transports/crane.ts")
}

/** Names of the built-in transports. */
export const builtinTransports = Object.keys(builtins)

/** Resolves a transport by name or module path. */
export const loadTransport = (nameOrPath: string): Effect.Effect<TransportLayer, TransportUnusable> =>
  Effect.gen(function*() {
    let load = builtins[nameOrPath]
    if (!load) {
      if (!isModulePath(nameOrPath)) {
        return yield* new TransportUnusable({
          transport: nameOrPath,
          reason: `unknown transport; built-in transports are ${builtinTransports.join(", ")}, or give a module path`
        })
      }
      const path = isAbsolute(nameOrPath) ? nameOrPath : resolve(process.cwd(), nameOrPath)
      if (!existsSync(path)) return yield* new TransportUnusable({ transport: nameOrPath, reason: `module ${path} not found` })
      load = () => import(path)
    }
    const mod = yield* Effect.tryPromise({
      try: () => load!(),
      catch: (e) => new TransportUnusable({ transport: nameOrPath, reason: `module failed to load: ${e instanceof Error ? e.message : String(e)}` })
    })
    const candidate = (mod as { layer?: unknown; default?: { layer?: unknown } }).layer ??
      (mod as { default?: { layer?: unknown } }).default?.layer
    if (candidate && typeof candidate === "object" && "~effect/Layer" in (candidate as object)) {
      return yield* new TransportUnusable({
        transport: nameOrPath,
        reason: "its `layer` comes from another major version of effect (this program uses effect 3); install effect@3 next to the module"
      })
    }
    if (!Layer.isLayer(candidate)) {
      return yield* new TransportUnusable({
        transport: nameOrPath,
        reason: "the module does not export `layer` (a Layer providing the Transport service)"
      })
    }
    return candidate as TransportLayer
  })

/** What a checked transport can do, as far as the run must know before it starts. */
export interface TransportFeatures {
  /** the Transport's own name */
  readonly name: string
  /** it writes an index of its own (a platform subset); see `Transport.ownIndexes` */
  readonly ownIndexes: boolean
}

/**
 * Builds a transport layer once (no request is made: building only wires services) and checks
 * it really provides a Transport, so a broken module is an invalid invocation, not a crash.
 */
export const checkTransport = <R>(
  nameOrPath: string,
  layer: Layer.Layer<Transport, unknown, R>
): Effect.Effect<TransportFeatures, TransportUnusable, R> =>
  Effect.scoped(Layer.build(layer)).pipe(
    Effect.sandbox,
    Effect.mapError((cause) =>
      new TransportUnusable({
        transport: nameOrPath,
        reason: `its layer could not be built: ${Cause.pretty(cause).split("\n")[0]}`
      })
    ),
    Effect.flatMap((ctx) => {
      const t = Context.getOption(ctx as Context.Context<Transport>, TransportTag)
      const missing = Option.isSome(t)
        ? TRANSPORT_METHODS.filter((m) => typeof (t.value as unknown as Record<string, unknown>)[m] !== "function")
        : [...TRANSPORT_METHODS]
      const ok = Option.isSome(t) && typeof t.value.name === "string" && missing.length === 0
      return ok
        ? Effect.succeed({ name: t.value.name, ownIndexes: t.value.ownIndexes === true })
        : Effect.fail(
          new TransportUnusable({
            transport: nameOrPath,
            reason: Option.isSome(t) && missing.length > 0
              ? `its Transport lacks ${missing.join(", ")} (a Transport has name, ${TRANSPORT_METHODS.join(", ")})`
              : `its \`layer\` does not provide the Transport service (name, ${TRANSPORT_METHODS.join(", ")})`
          })
        )
    })
  )

/** How a run's transport is chosen. */
export interface TransportChoice {
  /** `--from`: sources from an OCI layout (directory or .tar) */
  readonly from: Option.Option<string>
  /** `--transport`: a built-in name or a module path */
  readonly transport: string
}

/** A run's transport: its layer and what it can do. */
export interface ChosenTransport extends TransportFeatures {
  readonly layer: TransportLayer
}

/**
 * The transport of a run: the layout transport of `--from` (which reads sources; the CLI
 * refuses it together with `--transport`), else the one `--transport` names,
 * built once against `context` (read-only: building makes no request) so that a module that is
 * not a transport stops the run before anything is contacted.
 */
export const chooseTransport = <R>(
  choice: TransportChoice,
  context: Layer.Layer<TransportContext, never, R>
): Effect.Effect<ChosenTransport, TransportUnusable | LayoutUnusable, R> =>
  Effect.gen(function*() {
    // Not built here: building and releasing it would remove the directory a .tar was extracted to.
    if (Option.isSome(choice.from)) return { layer: yield* Layout.layerFrom(choice.from.value), name: "layout", ownIndexes: true }
    const layer = yield* loadTransport(choice.transport)
    return { layer, ...yield* checkTransport(choice.transport, layer).pipe(Effect.provide(context)) }
  })
