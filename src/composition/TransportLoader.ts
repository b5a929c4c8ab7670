/**
 * Picks the transport from `--transport NAME|PATH`: a built-in by name, or a module loaded by
 * path that exports `layer: Layer<Transport, never, TransportContext>`. Everything is checked
 * before the first request; a bad name or module is an invalid invocation (exit 2).
 */
import { Cause, Context, Data, Effect, Layer, Option } from "effect"
import { existsSync } from "node:fs"
import { isAbsolute, resolve } from "node:path"
import { TRANSPORT_METHODS, Transport as TransportTag } from "../transport/Transport.ts"
import type { Transport, TransportLayer } from "../transport/Transport.ts"

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

const looksLikePath = (s: string) => s.includes("/") || s.endsWith(".ts") || s.endsWith(".js")

/** Resolves a transport by name or module path. */
export const loadTransport = (nameOrPath: string): Effect.Effect<TransportLayer, TransportUnusable> =>
  Effect.gen(function*() {
    let load = builtins[nameOrPath]
    if (!load) {
      if (!looksLikePath(nameOrPath)) {
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

/**
 * Builds a transport layer once (no request is made: building only wires services) and checks
 * it really provides a Transport, so a broken module is an invalid invocation, not a crash.
 */
export const checkTransport = <R>(
  nameOrPath: string,
  layer: Layer.Layer<Transport, unknown, R>
): Effect.Effect<void, TransportUnusable, R> =>
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
        ? Effect.void
        : Effect.fail(new TransportUnusable({
          transport: nameOrPath,
          reason: Option.isSome(t) && missing.length > 0
            ? `its Transport lacks ${missing.join(", ")} (a Transport has name, ${TRANSPORT_METHODS.join(", ")})`
            : `its \`layer\` does not provide the Transport service (name, ${TRANSPORT_METHODS.join(", ")})`
        }))
    })
  )
