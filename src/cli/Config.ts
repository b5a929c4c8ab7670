/**
 * The environment the command line reads, declared once and read only through Effect's
 * Config: the flags' variables (the original tool's names, design.md) and the few settings
 * that are not flags.
 */
import { Config } from "effect"

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
  cosignPassword: "COSIGN_PASSWORD",
  transport: "SYNCER_TRANSPORT",
  from: "SYNCER_FROM",
  authPlugin: "SYNCER_AUTH_PLUGIN",
  output: "SYNCER_OUTPUT",
  junit: "SYNCER_JUNIT",
  shard: "SYNCER_SHARD",
  signatureFormat: "SYNCER_SIGNATURE_FORMAT",
  signRecursive: "SYNCER_SIGN_RECURSIVE",
  attest: "SYNCER_ATTEST",
  /** tuning, not a flag: a body silent this long (ms) is abandoned (default 30000) */
  stallTimeoutMs: "SYNCER_STALL_TIMEOUT_MS",
  githubStepSummary: "GITHUB_STEP_SUMMARY",
  noColor: "NO_COLOR",
  term: "TERM"
} as const

const optionalString = (name: string) => Config.string(name).pipe(Config.option)

/** The settings a run reads from the environment beside its flags. */
export const RunEnvironment = Config.all({
  /** more auth plugin modules, comma-separated (beside --auth-plugin) */
  authPlugins: Config.string(Env.authPlugin).pipe(
    Config.map((v) => v.split(",").map((s) => s.trim()).filter((s) => s !== "")),
    Config.withDefault<ReadonlyArray<string>>([])
  ),
  stallTimeoutMs: Config.integer(Env.stallTimeoutMs).pipe(
    Config.validate({ message: "must be a positive number of milliseconds", validation: (n) => n > 0 }),
    Config.option
  ),
  githubStepSummary: optionalString(Env.githubStepSummary),
  noColor: optionalString(Env.noColor),
  term: optionalString(Env.term),
  /** the signing key's password: SYNCER_SIGN_KEY_PASSWORD, else COSIGN_PASSWORD, else empty */
  signKeyPassword: Config.string(Env.signKeyPassword).pipe(Config.orElse(() => Config.string(Env.cosignPassword)), Config.withDefault(""))
})

/** What RunEnvironment reads. */
export type RunEnvironment = Config.Config.Success<typeof RunEnvironment>
