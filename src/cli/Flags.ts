/** The command-line flags, each with its environment variable (read through Config), shared by the commands. */
import { Options } from "@effect/cli"
import type { Option, Redacted } from "effect"
import { Config, Effect } from "effect"
import { invalid } from "./Errors.ts"
import type { InvalidInput } from "./Errors.ts"
import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY } from "../pipeline/SyncSettings.ts"
import { SIGNATURE_FORMATS } from "../signing/Formats.ts"
import type { SignatureFormat } from "../signing/Formats.ts"
import { Env } from "./Config.ts"
import { outputFlags } from "./output/Views.ts"
import type { OutputFlag } from "./output/Views.ts"

/** A flag description naming its environment variable. */
export const withEnv = (description: string, env: string) => `${description} [env: ${env}]`

/** `-i, --images-file`: the definition file; `purpose` says what its images are for ("sync", "export"). */
export const imagesFileFor = (purpose: string) =>
  Options.text("images-file").pipe(
    Options.withAlias("i"),
    Options.withDescription(withEnv(`YAML definition file listing the images to ${purpose} (required)`, Env.imagesFile)),
    Options.withFallbackConfig(Config.string(Env.imagesFile))
  )
/** The definition file of a sync. */
export const imagesFile = imagesFileFor("sync")
/** `-t, --target-repo-auth-key FILE`. */
export const targetRepoAuthKey = Options.text("target-repo-auth-key").pipe(
  Options.withAlias("t"),
  Options.withDescription(withEnv("JSON key file for the target registry (Basic _json_key)", Env.targetRepoAuthKey)),
  Options.withFallbackConfig(Config.string(Env.targetRepoAuthKey)),
  Options.optional
)
/** `-a, --access-token TOKEN`. */
export const accessToken = Options.redacted("access-token").pipe(
  Options.withAlias("a"),
  Options.withDescription(withEnv("bearer token for the target registry", Env.accessToken)),
  Options.withFallbackConfig(Config.redacted(Env.accessToken)),
  Options.optional
)
/** `-r, --target-repo-prefix PREFIX` (repeatable): `what` says what the prefixes are for. */
export const targetRepoPrefixFor = (what: string) =>
  Options.text("target-repo-prefix").pipe(
    Options.withAlias("r"),
    Options.withDescription(withEnv(`${what}; repeat it for several targets (the variable: comma-separated)`, Env.targetRepoPrefix)),
    Options.repeated
  )
/** `-r, --target-repo-prefix PREFIX` of a sync. */
export const targetRepoPrefix = targetRepoPrefixFor("overrides the file's targetRepoPrefix")

/**
 * The target prefixes the command line gives: every `-r`, else SYNCER_TARGET_REPO_PREFIX split
 * at commas; none: the file's. (@effect/cli does not fall back to a variable for a repeated flag.)
 */
export const targetPrefixes = (flag: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<string>, InvalidInput> =>
  flag.length > 0
    ? Effect.succeed(flag)
    : Config.string(Env.targetRepoPrefix).pipe(
      Config.withDefault(""),
      Effect.map((v) => v.split(",").map((p) => p.trim()).filter((p) => p !== "")),
      Effect.mapError(invalid)
    )
/** `--dry-run`: resolve, check and compare; write nothing. */
export const dryRun = Options.boolean("dry-run").pipe(
  Options.withDescription(withEnv("resolve, check and compare; write nothing anywhere", Env.dryRun)),
  Options.withFallbackConfig(Config.boolean(Env.dryRun))
)
/** `--debug`: debug logs on stderr. */
export const debug = Options.boolean("debug").pipe(
  Options.withDescription(withEnv("debug logs on stderr (never secrets)", Env.debug)),
  Options.withFallbackConfig(Config.boolean(Env.debug))
)
/** `--report FILE`: the JSON report. */
export const report = Options.text("report").pipe(
  Options.withDescription(withEnv("write a JSON report to this file", Env.report)),
  Options.withFallbackConfig(Config.string(Env.report)),
  Options.optional
)
/** `--sign-key FILE|KMS-URI`. */
export const signKey = Options.text("sign-key").pipe(
  Options.withDescription(withEnv(
    "cosign key: encrypted cosign key file, PKCS#8 PEM, or a KMS reference (gcpkms://, awskms://, azurekms://, hashivault://); password from SYNCER_SIGN_KEY_PASSWORD or COSIGN_PASSWORD",
    Env.signKey
  )),
  Options.withFallbackConfig(Config.string(Env.signKey)),
  Options.optional
)
/** `--signature-format F` as `verify` reads it: absent, either format satisfies it. */
export const signatureFormatChoice = (description: string) =>
  Options.choice("signature-format", SIGNATURE_FORMATS).pipe(
    Options.withDescription(withEnv(description, Env.signatureFormat)),
    Options.withFallbackConfig(Config.literal(...SIGNATURE_FORMATS)(Env.signatureFormat)),
    Options.optional
  )
/** `--signature-format legacy|bundle|both`: which signatures a sync writes (default legacy). */
export const signatureFormat = Options.choice("signature-format", SIGNATURE_FORMATS).pipe(
  Options.withDescription(withEnv(
    "legacy (cosign's sha256-<hex>.sig tag, the default), bundle (a sigstore bundle as an OCI 1.1 referrer, as cosign v3 writes), or both",
    Env.signatureFormat
  )),
  Options.withFallbackConfig(Config.literal(...SIGNATURE_FORMATS)(Env.signatureFormat)),
  Options.withDefault("legacy" as SignatureFormat)
)
/** `--sign-recursive`: sign every child manifest of an index too. */
export const signRecursiveFor = (description: string) =>
  Options.boolean("sign-recursive").pipe(
    Options.withDescription(withEnv(description, Env.signRecursive)),
    Options.withFallbackConfig(Config.boolean(Env.signRecursive))
  )
/** `--sign-recursive` of a sync. */
export const signRecursive = signRecursiveFor("sign every child manifest of an index too (what runtimes verify when they pull one platform)")
/** `--attest`: a signed provenance attestation of each copy (needs --sign-key). */
export const attestFor = (description: string) =>
  Options.boolean("attest").pipe(
    Options.withDescription(withEnv(description, Env.attest)),
    Options.withFallbackConfig(Config.boolean(Env.attest))
  )
/** `--attest` of a sync. */
export const attest = attestFor("a signed SLSA provenance attestation of each image: source, resolved digest, target, tool; needs --sign-key")
/** `--transport NAME|PATH`. */
export const transport = Options.text("transport").pipe(
  Options.withDescription(withEnv("how images are moved: oci (default), skopeo, crane, or a module path", Env.transport)),
  Options.withFallbackConfig(Config.string(Env.transport)),
  Options.withDefault("oci")
)
/** `--from DIR|FILE.tar`: sources from an OCI layout. */
export const from = Options.text("from").pipe(
  Options.withDescription(withEnv("read sources from an OCI image layout (directory or .tar) written by `image-syncer export`", Env.from)),
  Options.withFallbackConfig(Config.string(Env.from)),
  Options.optional
)
/** `--auth-plugin PATH` (repeatable). */
export const authPlugin = Options.text("auth-plugin").pipe(
  Options.withDescription(withEnv("module path of a custom auth provider, asked before docker config (repeatable)", Env.authPlugin)),
  Options.repeated
)
/** `--output MODE`. */
export const output = Options.choice("output", outputFlags).pipe(
  Options.withDescription(withEnv("auto (live view on a terminal, plain otherwise), tty, plain, or json (JSON lines)", Env.output)),
  Options.withFallbackConfig(Config.literal(...outputFlags)(Env.output)),
  Options.withDefault("auto" as OutputFlag)
)
/** `--junit FILE`. */
export const junit = Options.text("junit").pipe(
  Options.withDescription(withEnv("write a JUnit XML report (one test case per image) to this file", Env.junit)),
  Options.withFallbackConfig(Config.string(Env.junit)),
  Options.optional
)
/** `--shard I/N`. */
export const shardOption = Options.text("shard").pipe(
  Options.withDescription(withEnv("I/N: handle only the images of shard I of N (split by target, no overlap)", Env.shard)),
  Options.withFallbackConfig(Config.string(Env.shard)),
  Options.optional
)
/** `-j, --concurrency N`. */
export const concurrency = Options.integer("concurrency").pipe(
  Options.withAlias("j"),
  Options.withDescription(withEnv(`images in flight (default ${DEFAULT_CONCURRENCY}, at most ${MAX_CONCURRENCY})`, Env.concurrency)),
  Options.withFallbackConfig(Config.integer(Env.concurrency)),
  Options.withDefault(DEFAULT_CONCURRENCY)
)

/** Every flag of a sync (and `plan`). */
export const syncOptions = {
  imagesFile,
  targetRepoAuthKey,
  accessToken,
  targetRepoPrefix,
  dryRun,
  debug,
  report,
  concurrency,
  signKey,
  signatureFormat,
  signRecursive,
  attest,
  transport,
  from,
  authPlugin,
  output,
  junit,
  shard: shardOption
}

/** The parsed flags of a sync run. */
export interface SyncFlags {
  readonly imagesFile: string
  readonly targetRepoAuthKey: Option.Option<string>
  readonly accessToken: Option.Option<Redacted.Redacted<string>>
  readonly targetRepoPrefix: ReadonlyArray<string>
  readonly dryRun: boolean
  readonly debug: boolean
  readonly report: Option.Option<string>
  readonly concurrency: number
  readonly signKey: Option.Option<string>
  readonly signatureFormat: SignatureFormat
  readonly signRecursive: boolean
  readonly attest: boolean
  readonly transport: string
  readonly from: Option.Option<string>
  readonly authPlugin: ReadonlyArray<string>
  readonly output: OutputFlag
  readonly junit: Option.Option<string>
  readonly shard: Option.Option<string>
}
