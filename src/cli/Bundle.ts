/**
 * The CLI's bundle: `src/cli/bin.ts` and everything it imports in one file, so start-up
 * parses one module instead of resolving and transpiling hundreds (~0.1 s instead of ~0.4 s).
 * It is built before the program runs — at `prepack` for the package, by `bun run
 * build:bundle` in a checkout — and never by a start of the program.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { isModulePath } from "../model/ModulePath.ts"

/** Where the bundle sits, relative to the package root. */
export const BUNDLE_PATH = "dist/cli/image-syncer.js"

/** What a checkout's bundle is built from: a bundle older than any of them is not used. */
const SOURCES = ["src", "plugins", "package.json", "bun.lock"]

/** The newest modification time (ms) of the given files and of every file under the given directories. */
export const newestMtime = (paths: ReadonlyArray<string>): number => {
  let newest = 0
  for (const path of paths) {
    const stat = statSync(path, { throwIfNoEntry: false })
    if (!stat) continue
    newest = Math.max(newest, stat.mtimeMs)
    if (!stat.isDirectory()) continue
    for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
      if (entry.isDirectory()) continue
      const mtime = statSync(join(entry.parentPath, entry.name), { throwIfNoEntry: false })?.mtimeMs ?? 0
      newest = Math.max(newest, mtime)
    }
  }
  return newest
}

/** True when `bundle` exists and is newer than everything in `sources`. */
export const isFresh = (bundle: string, sources: ReadonlyArray<string>): boolean => {
  const built = statSync(bundle, { throwIfNoEntry: false })
  return built !== undefined && built.mtimeMs > newestMtime(sources)
}

/** Packages only imported when a cloud registry needs them (plugins/auth/ecrApi.ts, gcp.ts). */
export const CLOUD_SDKS = ["@aws-sdk/client-ecr", "google-auth-library"]

/** Bundles `entry` for Bun into `bundle`, written next to it first and renamed, so a concurrent start never sees half a file. */
export const buildBundle = async (entry: string, bundle: string): Promise<void> => {
  mkdirSync(dirname(bundle), { recursive: true })
  const scratch = mkdtempSync(join(dirname(bundle), ".build-"))
  try {
    // Bytecode (JavaScriptCore's, next to the bundle as `.jsc`) spares parsing ~1 MB at every start.
    const result = await Bun.build({
      entrypoints: [entry],
      target: "bun",
      format: "cjs",
      bytecode: true,
      outdir: scratch,
      minify: { syntax: true, whitespace: true },
      // The cloud SDKs stay outside: imported from node_modules on first use, never at start-up.
      external: CLOUD_SDKS
    })
    if (!result.success) throw new Error(result.logs.map(String).join("\n") || "bun build failed")
    const out = join(scratch, `${basename(entry).replace(/\.[cm]?[jt]sx?$/, "")}.js`)
    if (!existsSync(out)) throw new Error(`bun build wrote no ${basename(out)}`)
    // Bun ignores bytecode that does not match its source, so the order only matters for speed.
    if (existsSync(`${out}.jsc`)) renameSync(`${out}.jsc`, `${bundle}.jsc`)
    renameSync(out, bundle)
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

/**
 * True when a module plugin is named (`--transport PATH`, `--auth-plugin PATH`, or their
 * variables): the plugin imports our source modules, so the program must run from source too.
 */
export const usesModulePlugin = (argv: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>>): boolean => {
  if (env["SYNCER_AUTH_PLUGIN"] || isModulePath(env["SYNCER_TRANSPORT"])) return true
  return argv.some((arg, i) =>
    arg === "--auth-plugin" || arg.startsWith("--auth-plugin=")
    || (arg === "--transport" && isModulePath(argv[i + 1]))
    || (arg.startsWith("--transport=") && isModulePath(arg.slice("--transport=".length)))
  )
}

/**
 * The bundle to start from the package at `root`, or undefined to run from source: there is
 * none, a module plugin is named, or — in a checkout, whose sources change — it is older than
 * a source. An installed package's sources never change, so its bundle is used as it is.
 */
export const bundleToRun = (root: string, argv: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>>): string | undefined => {
  if (usesModulePlugin(argv, env)) return undefined
  const bundle = join(root, BUNDLE_PATH)
  if (!existsSync(bundle)) return undefined
  const checkout = existsSync(join(root, ".git"))
  return !checkout || isFresh(bundle, SOURCES.map((p) => join(root, p))) ? bundle : undefined
}
