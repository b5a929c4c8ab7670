/**
 * The JavaScriptCore settings the CLI runs with. The engine reads them from the environment
 * when the process starts, so they cannot be set by the program: the launcher's shebang
 * (src/cli/launch.ts), `bun run sync` (package.json) and whoever spawns the CLI (the demo, the
 * bench) give them, and a test keeps those in agreement with this list.
 *
 * Without the optimizing JIT (DFG, and FTL above it) a run of a few hundred images spends about
 * a quarter less CPU, a 2,000-image run a sixth less, and a 1 GiB copy none more: most of a
 * run's code runs a few hundred times, too few to repay compiling it (docs/benchmark.md).
 */

/** The environment variables that set the engine up for the CLI. */
export const ENGINE_ENV: Readonly<Record<string, string>> = { BUN_JSC_useDFGJIT: "0" }

/** `env` with the CLI's engine settings added; a setting `env` already has is kept (to measure another). */
export const withEngineEnv = (env: Readonly<Record<string, string | undefined>>): Record<string, string> => {
  const out: Record<string, string> = { ...ENGINE_ENV }
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value
  return out
}
