/** Every environment variable the command line reads, declared once. */

/** Environment variable names, as in the original tool and design.md. */
export const Env = {
  imagesFile: "SYNCER_IMAGES_FILE",
  targetRepoAuthKey: "SYNCER_TARGET_REPO_AUTH_KEY",
  accessToken: "SYNCER_ACCESS_TOKEN",
  targetRepoPrefix: "SYNCER_TARGET_REPO_PREFIX",
  dryRun: "SYNCER_DRY_RUN",
  debug: "SYNCER_DEBUG",
  report: "SYNCER_REPORT",
  concurrency: "SYNCER_CONCURRENCY",
  signKey: "SYNCER_SIGN_KEY",
  signKeyPassword: "SYNCER_SIGN_KEY_PASSWORD",
  transport: "SYNCER_TRANSPORT",
  from: "SYNCER_FROM",
  authPlugin: "SYNCER_AUTH_PLUGIN",
  output: "SYNCER_OUTPUT",
  junit: "SYNCER_JUNIT",
  shard: "SYNCER_SHARD",
  /** tuning, not a flag: a blob body silent this long (ms) is abandoned and resumed (default 30000) */
  stallTimeoutMs: "SYNCER_STALL_TIMEOUT_MS"
} as const
