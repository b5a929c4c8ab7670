/**
 * Builds what the package starts from, before it is packed (`prepack`) or run from a checkout:
 * `bun scripts/build.ts bundle` writes the CLI's bundle (dist/cli/image-syncer.js, which
 * src/cli/launch.ts starts); `bun scripts/build.ts bin` writes a standalone executable
 * (dist/bin/image-syncer: Bun and the program in one file, for machines without Bun).
 */
import { resolve } from "node:path"
import { BUNDLE_PATH, buildBundle } from "../src/cli/Bundle.ts"

const root = resolve(import.meta.dir, "..")
const entry = resolve(root, "src/cli/bin.ts")
const what = process.argv[2]

if (what === "bundle") {
  await buildBundle(entry, resolve(root, BUNDLE_PATH))
  console.error(`built ${BUNDLE_PATH}`)
} else if (what === "bin") {
  const outfile = resolve(root, "dist/bin/image-syncer")
  const proc = Bun.spawn([process.execPath, "build", "--compile", "--minify", "--bytecode", entry, "--outfile", outfile], {
    cwd: root,
    stdout: "inherit",
    stderr: "inherit"
  })
  if ((await proc.exited) !== 0) process.exit(1)
  console.error("built dist/bin/image-syncer")
} else {
  console.error("usage: bun scripts/build.ts bundle|bin")
  process.exit(2)
}
