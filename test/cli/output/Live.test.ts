/**
 * The live view as a person sees it: the CLI runs in a real terminal (tmux, 80×24 and 200×24)
 * syncing the seed's five images (two of them amd64Only, two pinned by digest) and one whose
 * target tag already holds other content (a planted conflict), at -j 8, and the screen it
 * leaves — scrollback included — is read back with `tmux capture-pane`. The target prefix is
 * named once; each image's source name and tag stand whole on its one result line, within the
 * width; the conflict's full reason is readable under it; nothing of the status block survives.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { stringify } from "yaml"
import { startRegistry } from "../../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../../demo/LocalRegistry.ts"
import { pushImage } from "../../../demo/SampleImages.ts"
import type { PushedImage } from "../../../demo/SampleImages.ts"
import { SMALL, TWO_PLATFORMS } from "../../integration/helpers.ts"
import { pushSeed, seedImages } from "../../support/SeedSet.ts"
import type { SeededImage } from "../../support/SeedSet.ts"

const ROOT = join(import.meta.dir, "..", "..", "..")
const socket = `syncer-live-${process.pid}`
/** the planted conflict: the source's nginx:1.27, and what the target tag already holds */
const CONFLICT = { repository: "library/nginx", tag: "1.27", source: "nginx:1.27" }

let source: LocalRegistry
let dir: string
let seed: ReadonlyArray<SeededImage> = []
let upstream: PushedImage
const targets: Array<LocalRegistry> = []

/** A digest as the screen shows it. */
const short = (digest: string) => `${digest.slice(0, 19)}…`
/** A source as its result line shows it: a digest pin with 12 hex digits. */
const shown = (source: string) => source.replace(/@sha256:([0-9a-f]{12})[0-9a-f]+$/, "@sha256:$1")

const tmux = async (...args: ReadonlyArray<string>): Promise<string> => {
  const proc = Bun.spawn(["tmux", "-L", socket, "-f", "/dev/null", ...args], { stdout: "pipe", stderr: "pipe" })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`tmux ${args.join(" ")}: ${err}`)
  return out
}

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`

/** Runs a sync in a `columns`×24 terminal; returns every row of the screen and its scrollback once the CLI has exited, and what the conflict's target held. */
const screenAfter = async (
  columns: number
): Promise<{ readonly rows: ReadonlyArray<string>; readonly code: string; readonly host: string; readonly planted: string }> => {
  const target = await startRegistry()
  targets.push(target)
  const planted = await pushImage(target.url, `external/${CONFLICT.repository}`, CONFLICT.tag, {
    platforms: TWO_PLATFORMS,
    seed: `live-planted-${columns}`,
    ...SMALL
  })
  const file = join(dir, `live-${columns}.yaml`)
  await writeFile(
    file,
    stringify({
      targetRepoPrefix: `${target.host}/external/`,
      registries: { "docker.io": { mirror: source.host } },
      images: [
        ...seed.map(({ image, source }) => ({
          source,
          ...(image.tag === undefined ? {} : { tag: image.tag }),
          ...(image.amd64Only === undefined ? {} : { amd64Only: image.amd64Only })
        })),
        { source: CONFLICT.source }
      ]
    })
  )
  const env = { PATH: process.env["PATH"] ?? "", HOME: dir, DOCKER_CONFIG: join(dir, "docker"), TERM: "xterm-256color", NO_COLOR: "1" }
  const cli = [process.execPath, join(ROOT, "src/cli/launch.ts"), "-i", file, "-j", "8"].map(quote).join(" ")
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
  return { rows, code: /^EXIT:(\d+)/m.exec(screen)?.[1] ?? "none", host: target.host, planted: planted.digest }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "syncer-live-"))
  source = await startRegistry()
  seed = await pushSeed(source.url, seedImages("live"))
  upstream = await pushImage(source.url, CONFLICT.repository, CONFLICT.tag, { platforms: TWO_PLATFORMS, seed: "live-nginx", ...SMALL })
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
    let host = ""
    let planted = ""
    beforeAll(async () => {
      ;({ rows, code, host, planted } = await screenAfter(columns))
    }, 90_000)
    const all = () => rows.join("\n")
    /** the result line of a source, and the continuation lines under it */
    const linesOf = (source: string) => {
      const at = rows.findIndex((r) => /^(synced|present|conflict|failed) +/.test(r) && r.split(" ").filter((w) => w !== "")[1] === shown(source))
      const under: Array<string> = []
      for (let i = at + 1; at >= 0 && i < rows.length && rows[i]!.startsWith("         "); i++) under.push(rows[i]!)
      return { line: at >= 0 ? rows[at]! : "", under }
    }

    test("the run exits 1 (the planted conflict)", () => {
      expect(code, all()).toBe("1")
    })

    test("the target prefix is named once, above the results", () => {
      expect(rows.filter((r) => r.startsWith("→ ")), all()).toEqual([`→ ${host}/external/`])
    })

    test("each image's source name and tag appear whole on its one result line, with the status and the short digest", () => {
      for (const { source, pushed } of seed) {
        const matching = rows.filter((r) => r.startsWith("synced   ") && (r.includes(` ${shown(source)} `) || r.endsWith(` ${shown(source)}`)))
        expect(matching, `${source}\n${all()}`).toHaveLength(1)
        // a digest pin already is the short digest
        expect(matching[0]).toContain(source.includes("@") ? shown(source) : short(pushed.digest))
      }
      expect(linesOf(CONFLICT.source).line, all()).toStartWith(`conflict ${CONFLICT.source} `)
      expect(linesOf(CONFLICT.source).line).toContain(short(upstream.digest))
    })

    test("the conflict's full reason is readable under its line: both digests short, and 'left untouched'", () => {
      const { under } = linesOf(CONFLICT.source)
      const reason = under.map((l) => l.trim()).join(" ")
      expect(reason, all()).toBe(`already holds ${short(planted)}, but the source is ${short(upstream.digest)}; target tags are immutable, left untouched`)
    })

    test(`no row is wider than ${columns} columns`, () => {
      expect(rows.filter((r) => r.length > columns)).toEqual([])
    })

    test("nothing of the status block is left: no in-flight line, no ETA, no fragments", () => {
      expect(rows.filter((r) => /in flight|ETA|elapsed|\/s$| \/ /.test(r))).toEqual([])
      // the screen holds the prefix, the result lines with their continuations, the summary and the exit marker
      const summaryAt = rows.indexOf("Summary")
      expect(summaryAt).toBeGreaterThan(0)
      const above = rows.slice(0, summaryAt).filter((r) => r !== "")
      expect(above.every((r) => /^(→ |synced {3}|present {2}|conflict | {9})/.test(r)), above.join("\n")).toBe(true)
      expect(above.filter((r) => /^(synced|conflict) /.test(r))).toHaveLength(6)
      expect(rows).toContain("6 images: 5 synced, 0 present, 0 planned, 1 conflict, 0 failed")
    })

    test("the closing summary line is on the screen once", () => {
      expect(rows.filter((r) => / images: \d+ synced/.test(r))).toHaveLength(1)
    })
  })
}
