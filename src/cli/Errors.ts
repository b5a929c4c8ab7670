/** How a command ends when it does not succeed: the exit status bin.ts gives each. */
import { Data } from "effect"

/** An invalid invocation, definition or key: nothing was contacted (exit 2). */
export class InvalidInput extends Data.TaggedError("InvalidInput")<{ readonly message: string }> {}

/** The run finished and at least one image conflicted or failed (exit 1); everything was printed. */
export class SyncIncomplete extends Data.TaggedError("SyncIncomplete")<{ readonly failed: number }> {
  override get message() {
    return `${this.failed} image(s) conflicted or failed`
  }
}

/** The run finished but its report (or JUnit file) could not be written (exit 1); the error was logged. */
export class ReportNotWritten extends Data.TaggedError("ReportNotWritten")<{ readonly path: string }> {
  override get message() {
    return `could not write ${this.path}`
  }
}

/** `pin` resolved its pins but could not write the definition file (exit 1); the file is unchanged. */
export class DefinitionNotWritten extends Data.TaggedError("DefinitionNotWritten")<{ readonly path: string; readonly reason: string }> {
  override get message() {
    return `could not write ${this.path} (${this.reason}); it is unchanged`
  }
}

/** Any failure with a message, as an invalid invocation (for errors found before anything is contacted). */
export const invalid = (e: { readonly message: string }) => new InvalidInput({ message: e.message })
