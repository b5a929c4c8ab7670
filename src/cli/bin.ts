#!/usr/bin/env bun
/**
 * Entry point: exit 0 when every image is synced or present, 1 when any conflicted or
 * failed, 2 for an invalid invocation, definition or key (nothing contacted). Results on
 * stdout, logs on stderr, no stack traces for expected errors.
 */
import { ValidationError } from "@effect/cli"
import { BunContext, BunRuntime } from "@effect/platform-bun"
import { Cause, Config, Effect, Exit, Logger, Option } from "effect"
import { shortenMessage } from "../model/Text.ts"
import { INTERRUPTED_EXIT_CODE } from "../report/Output.ts"
import { run, unknownFlag } from "./Cli.ts"
import { Env } from "./Config.ts"
import { stderrLogger } from "./Console.ts"
import { stripAnsi } from "./output/Text.ts"

// @effect/cli colours its help and messages unconditionally; strip that when nobody sees colour.
const noColor = Effect.runSync(Config.string(Env.noColor).pipe(Config.withDefault(""))) !== ""
if (process.stdout.isTTY !== true || noColor) {
  for (const method of ["log", "error", "info", "warn"] as const) {
    const original = console[method].bind(console)
    console[method] = (...args: Array<unknown>) => original(...args.map((a) => (typeof a === "string" ? stripAnsi(a) : a)))
  }
}

const unknown = unknownFlag(process.argv.slice(2))
if (unknown) {
  process.stderr.write(`error: unknown flag ${unknown} (see --help)\n`)
  process.exit(2)
}

const program = run(process.argv).pipe(
  Effect.as(0),
  Effect.catchTags({
    InvalidInput: (e) => Effect.sync(() => process.stderr.write(`error: ${shortenMessage(e.message)}\n`)).pipe(Effect.as(2)),
    SyncIncomplete: () => Effect.succeed(1),
    // already logged where it happened; the results themselves are on stdout
    ReportNotWritten: () => Effect.succeed(1),
    DefinitionNotWritten: (e) => Effect.sync(() => process.stderr.write(`error: ${e.message}\n`)).pipe(Effect.as(1))
  }),
  // @effect/cli has already printed usage errors (with help where relevant).
  Effect.catchIf(ValidationError.isValidationError, () => Effect.succeed(2)),
  Effect.provide(BunContext.layer),
  Effect.provide(Logger.replace(Logger.defaultLogger, stderrLogger))
)

BunRuntime.runMain(program, {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) return onExit(exit.value as number)
    if (Cause.isInterruptedOnly(exit.cause)) return onExit(INTERRUPTED_EXIT_CODE)
    const failure = Cause.failureOption(exit.cause)
    const text = Option.isSome(failure) && failure.value instanceof Error ? failure.value.message : Cause.pretty(exit.cause)
    process.stderr.write(`error: ${text}\n`)
    onExit(1)
  }
})
