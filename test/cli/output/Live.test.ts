/**
 * The live view as a person sees it: the CLI runs in a real terminal (tmux, 80×24 and 200×24)
 * syncing images with long names, and the screen it leaves — scrollback included — is read
 * back with `tmux capture-pane`. Every result line must be there once, whole and within the
 * width, and nothing of the status block may survive.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startRegistry } from "../../../src/demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../../src/demo/LocalRegistry.ts"
import { pushImage } from "../../../src/demo/SampleImages.ts"

const ROOT = join(import.meta.dir, "..", "..", "..")
const COUNT = 5
const LONG = "with-a-rather-long-repository-name-for-a-narrow-terminal"
const TAG = "1.2.3-debian-12-r42"
const socket = `syncer-live-${process.pid}`

let source: LocalRegistry
let dir: string
const targets: Array<LocalRegistry> = []

const tmux = async (...args: ReadonlyArray<string>): Promise<string> => {
  const proc = Bun.spawn(["tmux", "-L", socket, "-f", "/dev/null", ...args], { stdout: "pipe", stderr: "pipe" })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`tmux ${args.join(" ")}: ${err}`)
  return out
}

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`

/** Runs a sync in a `columns`×24 terminal; returns every row of the screen and its scrollback once the CLI has exited. */
const screenAfter = async (columns: number): Promise<{ readonly rows: ReadonlyArray<string>; readonly code: string }> => {
  const target = await startRegistry()
  targets.push(target)
  const file = join(dir, `live-${columns}.yaml`)
  const images = Array.from({ length: COUNT }, (_, i) => `  - source: "app${i}-${LONG}:${TAG}"`)
  await writeFile(file, `targetRepoPrefix: "${target.host}/mirror/"\nregistries:\n  docker.io:\n    mirror: "${source.host}"\nimages:\n${images.join("\n")}\n`)
  const env = { PATH: process.env["PATH"] ?? "", HOME: dir, DOCKER_CONFIG: join(dir, "docker"), TERM: "xterm-256color", NO_COLOR: "1" }
  const cli = [process.execPath, join(ROOT, "src/cli/launch.ts"), "-i", file, "-j", "2"].map(quote).join(" ")
  const envs = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`).join(" ")
  const session = `live-${columns}`
  // The pane stays open after the CLI exits (the shell waits on `read`), so its screen can be read.
  await tmux("new-session", "-d", "-s", session, "-x", String(columns), "-y", "24", `cd ${quote(ROOT)} && env ${envs} ${cli}; echo "EXIT:$?"; read done`)
  let screen = ""
  // Wait for the exit marker; each look is a capture of the pane, not a fixed delay.
  for (let look = 0; look < 600 && !/^EXIT:\d+/m.test(screen); look++) {
    await Bun.sleep(100)
    screen = await tmux("capture-pane", "-p", "-S", "-", "-t", session)
  }
  await tmux("kill-session", "-t", session)
  const rows = screen.split("\n").map((r) => r.trimEnd())
  return { rows, code: /^EXIT:(\d+)/m.exec(screen)?.[1] ?? "none" }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "syncer-live-"))
  source = await startRegistry()
  for (let i = 0; i < COUNT; i++) {
    await pushImage(source.url, `library/app${i}-${LONG}`, TAG, {
      platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }],
      seed: `live-${i}`,
      layerSize: 300_000
    })
  }
}, 60_000)

afterAll(async () => {
  await tmux("kill-server").catch(() => "")
  await Promise.all([source?.stop(), ...targets.map((t) => t.stop())])
  await rm(dir, { recursive: true, force: true })
}, 60_000)

for (const columns of [80, 200]) {
  describe(`the live view in a ${columns}×24 terminal`, () => {
    let rows: ReadonlyArray<string> = []
    let code = ""
    beforeAll(async () => {
      ;({ rows, code } = await screenAfter(columns))
    }, 90_000)

    test("the run exits 0", () => {
      expect(code, rows.join("\n")).toBe("0")
    })

    test("each image's result line is on the screen once, whole: status, source start, target end, short digest", () => {
      for (let i = 0; i < COUNT; i++) {
        const lines = rows.filter((r) => r.startsWith(`synced   app${i}-`))
        expect(lines, rows.join("\n")).toHaveLength(1)
        expect(lines[0]).toMatch(new RegExp(`^synced   app${i}-.* -> .*-r42 sha256:[0-9a-f]{12}…$`))
      }
    })

    test(`no row is wider than ${columns} columns`, () => {
      expect(rows.filter((r) => r.length > columns)).toEqual([])
    })

    test("nothing of the status block is left: no in-flight line, no ETA, no fragments", () => {
      expect(rows.filter((r) => /in flight|ETA|elapsed|\/s$| \/ /.test(r))).toEqual([])
      // the screen holds the result lines, the summary and the exit marker, nothing else
      const summaryAt = rows.indexOf("Summary")
      expect(summaryAt).toBeGreaterThan(0)
      const above = rows.slice(0, summaryAt).filter((r) => r !== "")
      expect(above.every((r) => r.startsWith("synced   ")), above.join("\n")).toBe(true)
      expect(rows).toContain(`${COUNT} images: ${COUNT} synced, 0 present, 0 planned, 0 conflict, 0 failed`)
    })

    test("the closing summary line is on the screen once", () => {
      expect(rows.filter((r) => / images: \d+ synced/.test(r))).toHaveLength(1)
    })
  })
}
