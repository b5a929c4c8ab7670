/**
 * `bun run demo`: the main job on throwaway local registries. Starts a source and a target
 * `docker-registry` on loopback, pushes sample images into the source under Docker Hub names,
 * writes a definition in the original tool's format that reads docker.io through a mirror,
 * then runs the real command three times: a first sync, a second (all present) and one that
 * meets a conflicting target tag. Cleans up whatever happens.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { withEngineEnv } from "../src/cli/Engine.ts"
import { startRegistry } from "./LocalRegistry.ts"
import type { LocalRegistry } from "./LocalRegistry.ts"
import { pushImage } from "./SampleImages.ts"

const bin = resolve(import.meta.dir, "../src/cli/launch.ts")

const bold = process.stdout.isTTY && !process.env["NO_COLOR"]
const say = (text: string) => process.stdout.write(bold ? `\n\x1b[1m== ${text}\x1b[0m\n` : `\n== ${text}\n`)

/** Runs the real command line; returns its exit code (its output goes straight to ours). */
const syncer = async (args: ReadonlyArray<string>): Promise<number> => {
  process.stdout.write(`$ image-syncer ${args.join(" ")}\n`)
  const child = Bun.spawn([process.execPath, bin, ...args], { stdout: "inherit", stderr: "inherit", env: withEngineEnv(process.env) })
  const code = await child.exited
  process.stdout.write(`(exit ${code})\n`)
  return code
}

const main = async (): Promise<number> => {
  const registries: Array<LocalRegistry> = []
  const work = await mkdtemp(join(tmpdir(), "image-syncer-demo-"))
  try {
    say("starting a source and a target docker-registry on 127.0.0.1")
    const source = await startRegistry()
    registries.push(source)
    const target = await startRegistry()
    registries.push(target)
    process.stdout.write(`source ${source.host} (stands in for docker.io), target ${target.host}\n`)

    say("pushing sample images into the source")
    const both = [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }]
    const amd64 = [{ os: "linux", architecture: "amd64" }]
    const base = { seed: "demo-base", size: 64 * 1024 }
    const app = await pushImage(source.url, "bitnami/keycloak-gatekeeper", "9.0.3", { platforms: both, seed: "gatekeeper", sharedBaseLayer: base })
    const exporter = await pushImage(source.url, "bitnami/postgres-exporter", "0.11.1-debian-11-r69", {
      platforms: amd64,
      index: false,
      seed: "exporter",
      sharedBaseLayer: base
    })
    const busybox = await pushImage(source.url, "library/busybox", "1.32.0", { platforms: both, format: "docker", seed: "busybox" })
    // Each digest on a line of its own: within 80 columns.
    process.stdout.write(`multi-platform index   bitnami/keycloak-gatekeeper:9.0.3\n  ${app.digest}\n`)
    process.stdout.write(`single-platform amd64  bitnami/postgres-exporter:0.11.1-debian-11-r69\n  ${exporter.digest}\n`)
    process.stdout.write(`pinned by digest       busybox\n  ${busybox.digest}\n`)

    const definition = join(work, "images.yaml")
    const report = join(work, "report.json")
    await writeFile(
      definition,
      [
        `targetRepoPrefix: "${target.host}/external/"`,
        "registries:",
        "  docker.io:",
        `    mirror: "${source.host}"`,
        "images:",
        `  - source: "bitnami/keycloak-gatekeeper:9.0.3"`,
        `  - source: "busybox@${busybox.digest}"`,
        `    tag: "1.32.0-v1"`,
        `  - source: "bitnami/postgres-exporter:0.11.1-debian-11-r69"`,
        "    amd64Only: true",
        ""
      ].join("\n")
    )
    process.stdout.write(`\n${definition}:\n${await Bun.file(definition).text()}`)

    say("first run: everything is copied")
    const first = await syncer(["--images-file", definition, "--report", report])
    say("second run: everything is already present, nothing is written")
    const second = await syncer(["--images-file", definition])

    say("someone re-pushed busybox:1.32.0 upstream with other content; a new entry maps it onto the existing target tag")
    await pushImage(source.url, "library/busybox", "1.32.0", { platforms: both, format: "docker", seed: "busybox-repushed" })
    await writeFile(
      definition,
      `${await Bun.file(definition).text()}  - source: "busybox:1.32.0"\n    tag: "1.32.0-v1"\n`.replace(
        `  - source: "busybox@${busybox.digest}"\n    tag: "1.32.0-v1"\n`,
        ""
      )
    )
    const third = await syncer(["--images-file", definition, "--dry-run"])
    const fourth = await syncer(["--images-file", definition])

    say("summary")
    const ok = first === 0 && second === 0 && third === 1 && fourth === 1
    process.stdout.write(
      ok
        ? "first run synced, second run found everything present,\nthe conflicting tag was refused and left untouched (exit 1).\n"
        : `unexpected exit codes: ${first}, ${second}, ${third}, ${fourth}\n`
    )
    process.stdout.write(`report of the first run: ${(await Bun.file(report).text()).length} bytes of JSON (removed with the demo)\n`)
    return ok ? 0 : 1
  } finally {
    await Promise.all(registries.map((r) => r.stop()))
    await rm(work, { recursive: true, force: true })
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`)
    process.exit(1)
  }
)
