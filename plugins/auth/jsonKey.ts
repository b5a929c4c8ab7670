/**
 * Auth provider: a JSON key file for the target (`--target-repo-auth-key`), sent as Basic
 * `_json_key` + the file's exact content, as GCR and Artifact Registry expect.
 */
import { Data, Effect, Option, Redacted } from "effect"
import { readTextCapped } from "../../src/model/InputFile.ts"
import type { CredentialProvider } from "../../src/transport/Credentials.ts"

/** The key file is missing, unreadable or empty (an invocation error: exit 2). */
export class AuthKeyUnusable extends Data.TaggedError("AuthKeyUnusable")<{ readonly path: string; readonly reason: string }> {
  override get message() {
    return `target repo auth key ${this.path}: ${this.reason}`
  }
}

/** Reads the key file now, so a bad one is reported before any registry is contacted. */
export const load = (path: string): Effect.Effect<Redacted.Redacted<string>, AuthKeyUnusable> =>
  Effect.tryPromise({
    try: () => readTextCapped(path),
    catch: (e) => {
      const code = (e as { code?: string }).code
      const reason = code === "ENOENT"
        ? "file not found"
        : code === "EACCES"
        ? "permission denied"
        : code === "EISDIR"
        ? "is a directory, not a file"
        : code === "ETOOBIG"
        ? "larger than 4 MiB: not a key file"
        : "cannot be read"
      return new AuthKeyUnusable({ path, reason })
    }
  }).pipe(
    Effect.filterOrFail((text) => text.trim().length > 0, () => new AuthKeyUnusable({ path, reason: "file is empty" })),
    Effect.map(Redacted.make)
  )

/** The provider: answers for the target registry only. */
export const provider = (key: Redacted.Redacted<string>): CredentialProvider => ({
  name: "target-repo-auth-key",
  lookup: (_host, role) => Effect.succeed(role === "target" ? Option.some({ _tag: "Basic" as const, username: "_json_key", password: key }) : Option.none())
})
