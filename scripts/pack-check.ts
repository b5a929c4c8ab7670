/**
 * The package as a user gets it: `npm pack` (no demo or test code in it), installed with bun into an empty directory, then
 * `image-syncer --version` (package.json's version), a dry run against a throwaway local
 * registry, `image-syncer/oci` imported on its own, and examples/embed typechecked against the
 * installed package's declarations.
 * Run by .ci/run; exits non-zero with one line saying what failed.
 */
import { cp, mkdtemp, readdir, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { startRegistry } from "../demo/LocalRegistry.ts"
import { pushImage } from "../demo/SampleImages.ts"

const root = resolve(import.meta.dir, "..")
const version = (await Bun.file(join(root, "package.json")).json() as { version: string }).version

const sh = async (argv: ReadonlyArray<string>, cwd: string, env: Record<string, string | undefined> = process.env) => {
  const proc = Bun.spawn([...argv], { cwd, env, stdout: "pipe", stderr: "pipe" })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${(err || out).trim().split("\n").slice(-5).join(" | ")}`)
  return out
}

const dir = await mkdtemp(join(tmpdir(), "image-syncer-pack-"))
const registry = await startRegistry()
try {
  await sh(["npm", "pack", "--silent", "--pack-destination", dir], root)
  const tarball = (await readdir(dir)).find((f) => f.endsWith(".tgz"))
  if (tarball === undefined) throw new Error("npm pack wrote no tarball")
  // The package is the program: no demo, test, benchmark or script code in it.
  const packed = (await sh(["tar", "-tzf", join(dir, tarball)], dir)).split("\n").filter((f) => f !== "")
  const stray = packed.filter((f) => /^package\/(demo|test|bench|scripts)\//.test(f) || /\.test\.ts$/.test(f))
  if (stray.length > 0) throw new Error(`the package holds demo or test code: ${stray.slice(0, 5).join(", ")}`)
  // Built at prepack: the installed bin starts from it and never builds it.
  if (!packed.includes("package/dist/cli/image-syncer.js")) throw new Error("the package holds no CLI bundle (dist/cli/image-syncer.js)")
  const app = join(dir, "app")
  await sh(["mkdir", "-p", app], dir)
  await writeFile(join(app, "package.json"), JSON.stringify({ name: "pack-check", private: true, type: "module" }))
  await sh(["bun", "add", join(dir, tarball)], app)
  const bin = join(app, "node_modules/.bin/image-syncer")

  const printed = (await sh([bin, "--version"], app)).trim()
  if (!printed.includes(version)) throw new Error(`image-syncer --version printed "${printed}", package.json says ${version}`)

  await pushImage(registry.url, "pack/app", "1", { platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }], seed: "pack" })
  await writeFile(join(app, "images.yaml"), `targetRepoPrefix: "${registry.host}/mirror/"\nimages:\n  - source: "${registry.host}/pack/app:1"\n`)
  const dry = await sh([bin, "-i", "images.yaml", "--dry-run"], app, { PATH: process.env["PATH"], HOME: app, NO_PROXY: "*" })
  if (!/^planned /m.test(dry)) throw new Error(`the dry run planned nothing: ${dry.trim()}`)

  // the OCI client on its own, as image-syncer/oci
  await writeFile(join(app, "oci.ts"), `import { imageAt } from "image-syncer/oci"\nconsole.log(imageAt("busybox").repository)\n`)
  const oci = (await sh(["bun", "oci.ts"], app)).trim()
  if (oci !== "library/busybox") throw new Error(`image-syncer/oci: imageAt("busybox") gave "${oci}"`)

  // examples/embed against the installed package (its published declarations), not the checkout
  const embed = join(app, "embed")
  await cp(join(root, "examples/embed/main.ts"), join(embed, "main.ts"), { recursive: true })
  const config = await Bun.file(join(root, "examples/embed/tsconfig.json")).json() as { compilerOptions: Record<string, unknown> }
  delete config.compilerOptions["paths"]
  await writeFile(
    join(embed, "tsconfig.json"),
    JSON.stringify({ ...config, compilerOptions: { ...config.compilerOptions, typeRoots: [join(root, "node_modules/@types")] } })
  )
  await sh(
    ["bun", "add", "-d", `@types/bun@${(await Bun.file(join(root, "node_modules/@types/bun/package.json")).json() as { version: string }).version}`],
    app
  )
  await sh([join(root, "node_modules/.bin/tsc"), "-p", embed], app)
  console.log(
    `package check: ${tarball} installs; --version ${printed}; a dry run planned the image; image-syncer/oci loads on its own; examples/embed typechecks against it`
  )
} catch (e) {
  console.log(`package check FAILED: ${e instanceof Error ? e.message : String(e)}`)
  process.exitCode = 1
} finally {
  await registry.stop()
  await rm(dir, { recursive: true, force: true })
}
