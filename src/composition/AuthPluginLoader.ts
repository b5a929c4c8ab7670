/**
 * Loads a custom auth provider module by path (`--auth-plugin PATH`). The module exports
 * `provider` (a CredentialProvider) or `make` (an Effect producing one). A bad module is an
 * invalid invocation (exit 2).
 */
import { Data, Effect } from "effect"
import { existsSync } from "node:fs"
import { isAbsolute, resolve } from "node:path"
import type { CredentialProvider } from "../transport/Credentials.ts"

/** The auth plugin cannot be used. */
export class AuthPluginUnusable extends Data.TaggedError("AuthPluginUnusable")<{ readonly plugin: string; readonly reason: string }> {
  override get message() {
    return `auth plugin ${this.plugin}: ${this.reason}`
  }
}

const isProvider = (p: unknown): p is CredentialProvider =>
  typeof p === "object" && p !== null && typeof (p as CredentialProvider).name === "string" &&
  typeof (p as CredentialProvider).lookup === "function"

/** Imports the module and returns its provider. */
export const loadAuthPlugin = (path: string): Effect.Effect<CredentialProvider, AuthPluginUnusable> =>
  Effect.gen(function*() {
    const abs = isAbsolute(path) ? path : resolve(process.cwd(), path)
    if (!existsSync(abs)) return yield* new AuthPluginUnusable({ plugin: path, reason: `module ${abs} not found` })
    const mod = yield* Effect.tryPromise({
      try: () => import(abs) as Promise<{ provider?: unknown; make?: unknown }>,
      catch: (e) => new AuthPluginUnusable({ plugin: path, reason: `module failed to load: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}` })
    })
    if (isProvider(mod.provider)) return mod.provider
    if (Effect.isEffect(mod.make)) {
      const made = yield* (mod.make as Effect.Effect<unknown, unknown>).pipe(
        Effect.mapError((e) => new AuthPluginUnusable({ plugin: path, reason: `make failed: ${String(e)}` }))
      )
      if (isProvider(made)) return made
    }
    return yield* new AuthPluginUnusable({
      plugin: path,
      reason: "the module exports neither `provider` (a CredentialProvider) nor `make` (an Effect of one)"
    })
  })
