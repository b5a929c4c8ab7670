/**
 * The checked process runner: every external tool (skopeo, crane, cosign, credential
 * helpers) runs through it. Exit codes are checked, stderr is kept for the error, stdin can
 * be fed, and children are killed when the calling fiber is interrupted.
 */
import { Command, CommandExecutor } from "@effect/platform"
import { Context, Data, Effect, Layer, Stream } from "effect"

/** A process could not start or exited non-zero. */
export class ProcessFailed extends Data.TaggedError("ProcessFailed")<{
  /** the program and arguments, secrets never among them */
  readonly argv: ReadonlyArray<string>
  readonly exitCode: number | undefined
  readonly stderr: string
  readonly stdout: string
}> {
  override get message() {
    const what = this.exitCode === undefined ? "could not be started" : `exited with ${this.exitCode}`
    const why = this.stderr.trim().split("\n").slice(-3).join(" ").slice(0, 500)
    return `${this.argv[0]} ${what}${why ? `: ${why}` : ""}`
  }
}

/** Options of one run. */
export interface ExecOptions {
  readonly stdin?: string
  /** extra environment (added to the inherited one) */
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
}

/** The output of a successful run. */
export interface ExecResult {
  readonly stdout: string
  readonly stderr: string
}

/** The Exec service. */
export class Exec extends Context.Tag("syncer/Exec")<Exec, {
  /** Runs argv; fails with ProcessFailed unless it exits 0 (or with `allowFailure`, returns the failure as a value). */
  readonly run: (argv: ReadonlyArray<string>, options?: ExecOptions) => Effect.Effect<ExecResult, ProcessFailed>
}>() {
  /** The live runner on the platform CommandExecutor. */
  static layer = Layer.effect(
    Exec,
    Effect.gen(function*() {
      const executor = yield* CommandExecutor.CommandExecutor
      const run = (argv: ReadonlyArray<string>, options: ExecOptions = {}) =>
        Effect.scoped(
          Effect.gen(function*() {
            let cmd = Command.make(argv[0]!, ...argv.slice(1))
            if (options.env) cmd = Command.env(cmd, options.env)
            if (options.cwd) cmd = Command.workingDirectory(cmd, options.cwd)
            if (options.stdin !== undefined) cmd = Command.feed(cmd, options.stdin)
            const proc = yield* executor.start(cmd)
            const [stdout, stderr, exitCode] = yield* Effect.all(
              [
                Stream.mkString(Stream.decodeText(proc.stdout)),
                Stream.mkString(Stream.decodeText(proc.stderr)),
                proc.exitCode
              ],
              { concurrency: "unbounded" }
            )
            if (exitCode !== 0) return yield* new ProcessFailed({ argv, exitCode, stderr, stdout })
            return { stdout, stderr }
          })
        ).pipe(
          Effect.catchTag("SystemError", (e) => Effect.fail(new ProcessFailed({ argv, exitCode: undefined, stderr: e.message, stdout: "" }))),
          Effect.catchTag("BadArgument", (e) => Effect.fail(new ProcessFailed({ argv, exitCode: undefined, stderr: e.message, stdout: "" })))
        )
      return { run }
    })
  )
}
