/**
 * The standalone executable as a user without Bun gets it (`bun run build:bin` builds
 * dist/bin/image-syncer): `--version` (package.json's version), then a dry run against a
 * throwaway local registry, with an environment that has no Bun on its PATH. Run by .ci/run;
 * exits non-zero with one line saying what failed.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { startRegistry } from "../demo/LocalRegistry.ts"
import { pushImage } from "../demo/SampleImages.ts"

const root = resolve(import.meta.dir, "..")
const bin = join(root, "dist/bin/image-syncer")
const version = (await Bun.file(join(root, "package.json")).json() as { version: string }).version

const run = async (argv: ReadonlyArray<string>, cwd: string) => {
  // No Bun on the PATH: the executable carries its own.
  const env = { PATH: join(cwd, "no-bin"), HOME: cwd, NO_PROXY: "*" }
  const proc = Bun.spawn([bin, ...argv], { cwd, env, stdout: "pipe", stderr: "pipe" })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`image-syncer ${argv.join(" ")} exited ${code}: ${(err || out).trim().split("\n").slice(-5).join(" | ")}`)
  return out
}

const dir = await mkdtemp(join(tmpdir(), "image-syncer-bin-"))
const registry = await startRegistry()
try {
  if (!(await Bun.file(bin).exists())) throw new Error(`${bin} is missing: run bun run build:bin`)
  const printed = (await run(["--version"], dir)).trim()
  if (!printed.includes(version)) throw new Error(`image-syncer --version printed "${printed}", package.json says ${version}`)
  await pushImage(registry.url, "bin/app", "1", { platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }], seed: "bin" })
  await writeFile(join(dir, "images.yaml"), `targetRepoPrefix: "${registry.host}/mirror/"\nimages:\n  - source: "${registry.host}/bin/app:1"\n`)
  const dry = await run(["-i", "images.yaml", "--dry-run"], dir)
  if (!/^planned /m.test(dry)) throw new Error(`the dry run planned nothing: ${dry.trim()}`)
  console.log(`executable check: dist/bin/image-syncer --version ${printed}; a dry run planned the image`)
} catch (e) {
  console.log(`executable check FAILED: ${e instanceof Error ? e.message : String(e)}`)
  process.exitCode = 1
} finally {
  await registry.stop()
  await rm(dir, { recursive: true, force: true })
}
