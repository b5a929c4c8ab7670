#!/usr/bin/env bun
/**
 * What `bun run sync` and the `image-syncer` bin start: the CLI (src/cli/bin.ts) from its
 * bundle in dist/cli/, built on first use and whenever a source is newer. It runs from source
 * instead when the bundle cannot be written (read-only install) or a module plugin is given:
 * a plugin imports our source modules, and must share them with the program that loads it.
 * It runs before the program and reads the two plugin variables straight from the
 * environment: importing Effect here (for Config) would load it twice and double start-up.
 */
import { resolve } from "node:path"
import { buildBundle, isFresh, usesModulePlugin } from "./Bundle.ts"

const root = resolve(import.meta.dir, "../..")
const entry = resolve(root, "src/cli/bin.ts")
const bundle = resolve(root, "dist/cli/image-syncer.js")
const sources = ["src", "plugins", "package.json", "bun.lock"].map((p) => resolve(root, p))

const fromBundle = async (): Promise<boolean> => {
  if (usesModulePlugin(process.argv.slice(2), process.env)) return false
  try {
    if (!isFresh(bundle, sources)) await buildBundle(entry, bundle)
    return true
  } catch {
    // e.g. a read-only install: the source works, only slower to start
    return false
  }
}

await import(await fromBundle() ? bundle : entry)
