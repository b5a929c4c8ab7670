#!/usr/bin/env -S BUN_JSC_useDFGJIT=0 bun
/**
 * What `bun run sync` and the `image-syncer` bin start: the CLI (src/cli/bin.ts) from its
 * bundle in dist/cli/ when there is one to use (Bundle.ts `bundleToRun`), else from source. It
 * never builds the bundle. The shebang gives the engine the settings of src/cli/Engine.ts (read
 * when the process starts, so they cannot be set from here). It runs before the program and reads the two plugin variables
 * straight from the environment: importing Effect here (for Config) would load it twice and
 * double start-up.
 */
import { resolve } from "node:path"
import { bundleToRun } from "./Bundle.ts"

const root = resolve(import.meta.dir, "../..")

await import(bundleToRun(root, process.argv.slice(2), process.env) ?? resolve(root, "src/cli/bin.ts"))
