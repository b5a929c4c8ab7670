/** The SyncSettings service: run-wide switches the pipeline steps read when built. */
import { Context, Layer } from "effect"

/** The most images in flight a run accepts: beyond it, memory grows and nothing gets faster. */
export const MAX_CONCURRENCY = 256

/** Images in flight when the run does not say. */
export const DEFAULT_CONCURRENCY = 8

/** Run-wide settings. */
export interface SyncSettingsShape {
  /** resolve, check and compare; write nothing anywhere */
  readonly dryRun: boolean
  /** images in flight (at most MAX_CONCURRENCY) */
  readonly concurrency: number
  /** dry run only: read the manifests of images to copy to report their size (`plan`) */
  readonly measure?: boolean
  /**
   * what to do about an image's error, in the words of the program running the pipeline (the CLI
   * names its flags: "use --target-repo-auth-key …"); appended to the error in the result
   */
  readonly hint?: (error: { readonly _tag: string }) => string | undefined
}

/** The SyncSettings tag. */
export class SyncSettings extends Context.Tag("syncer/SyncSettings")<SyncSettings, SyncSettingsShape>() {
  /** A layer with the given settings; a concurrency outside 1…MAX_CONCURRENCY is brought within it (the CLI refuses one first). */
  static layer(settings: Partial<SyncSettingsShape> = {}) {
    const concurrency = Math.min(MAX_CONCURRENCY, Math.max(1, Math.floor(settings.concurrency ?? DEFAULT_CONCURRENCY)))
    return Layer.succeed(SyncSettings, { dryRun: false, ...settings, concurrency })
  }
}
