import { describe, expect, test } from "bun:test"
import { Effect, Fiber, TestClock, TestContext } from "effect"
import { join } from "node:path"
import { formatResult } from "../../../src/report/Output.ts"
import { formatBytes, formatDuration } from "../../../src/report/Units.ts"
import { resultLines } from "../../../src/cli/output/ResultLine.ts"
import { summaryTable } from "../../../src/cli/output/Summary.ts"
import { hasControlChars, stripAnsi } from "../../../src/cli/output/Text.ts"
import { makeView, renderLoop, resolveOutput } from "../../../src/cli/output/Views.ts"
import type { OutputMode } from "../../../src/cli/output/Views.ts"
import type { ProgressEvent } from "../../../src/model/Progress.ts"
import { runInPty } from "../../support/Pty.ts"
import { imageResult } from "../../../src/model/Result.ts"
import type { ImageResult, ImageStatus } from "../../../src/model/Result.ts"

const DIGEST = `sha256:${"a".repeat(64)}`
const BLOB = `sha256:${"b".repeat(64)}`

const result = (source: string, status: ImageStatus, extra: Partial<ImageResult> = {}): ImageResult =>
  imageResult({ source, target: `eu.gcr.io/external/library/${source}`, digest: DIGEST, status, durationMs: 1500, ...extra })

const conflict = result("nginx:1.25", "conflict", {
  error: "target already holds sha256:ccc | tags are immutable",
  errorType: "TagConflict"
})
const synced = result("busybox:1.36", "synced", { bytesCopied: 3 * 1024 * 1024 })

/** A fake clock the test moves by hand. */
const clock = () => {
  let t = 1_000_000
  return { now: () => t, advance: (ms: number) => void (t += ms) }
}

/** A view writing into a buffer; `take()` returns what was written since the last call. */
const harness = (mode: OutputMode, color = false, total = 2, detail = true) => {
  const time = clock()
  let out = ""
  let taken = 0
  const view = makeView(mode, (s) => void (out += s), { color, total, now: time.now, width: 100, detail })
  return {
    view,
    time,
    all: () => out,
    take: () => {
      const chunk = out.slice(taken)
      taken = out.length
      return chunk
    }
  }
}

/** The events of a small run: busybox copied (two blobs), nginx a conflict. */
const run = (view: { readonly onEvent: (e: ProgressEvent) => void }, advance: (ms: number) => void) => {
  view.onEvent({ _tag: "ImageStarted", image: 0, source: "busybox:1.36", target: synced.target })
  view.onEvent({ _tag: "ImageStarted", image: 1, source: "nginx:1.25", target: conflict.target })
  view.onEvent({ _tag: "StepStarted", image: 0, step: "resolve" })
  view.onEvent({ _tag: "StepStarted", image: 1, step: "resolve" })
  view.onEvent({ _tag: "StepStarted", image: 0, step: "copy" })
  view.onEvent({ _tag: "BlobStarted", image: 0, digest: BLOB, size: 2 * 1024 * 1024 })
  view.onEvent({ _tag: "BlobStarted", image: 0, digest: DIGEST, size: 1024 * 1024 })
  advance(1000)
  for (let i = 0; i < 16; i++) view.onEvent({ _tag: "BytesCopied", image: 0, bytes: 64 * 1024 })
  view.onEvent({ _tag: "ImageFinished", image: 1, result: conflict })
  advance(1000)
  for (let i = 0; i < 32; i++) view.onEvent({ _tag: "BytesCopied", image: 0, bytes: 64 * 1024 })
  view.onEvent({ _tag: "StepStarted", image: 0, step: "sign" })
  view.onEvent({ _tag: "ImageFinished", image: 0, result: synced })
}

describe("stripAnsi / hasControlChars", () => {
  test("strips colours, cursor movement and OSC sequences", () => {
    expect(stripAnsi("\u001b[32msynced\u001b[0m \u001b[2K\u001b[3Aok\u001b]0;title\u0007!")).toBe("synced ok!")
  })

  test("newlines are allowed; escape, carriage return, tab and C1 are not", () => {
    expect(hasControlChars("a line\nanother\n")).toBe(false)
    for (const c of ["\u001b", "\r", "\t", "\u0007", "\u0000", "\u007f", "\u009b"]) expect(hasControlChars(`x${c}y`)).toBe(true)
  })
})

describe("formatBytes / formatDuration", () => {
  test("binary units", () => {
    expect([0, 512, 1536, 3 * 1024 * 1024, 123.4 * 1024 * 1024, 2 * 1024 ** 3].map(formatBytes)).toEqual([
      "0 B",
      "512 B",
      "1.50 KiB",
      "3.00 MiB",
      "123 MiB",
      "2.00 GiB"
    ])
  })

  test("milliseconds, seconds, minutes, hours", () => {
    expect([850, 12_345, 245_000, 3_720_000].map(formatDuration)).toEqual(["850ms", "12.3s", "4m05s", "1h02m"])
  })
})

describe("plain with --debug (detail)", () => {
  const h = harness("plain")
  run(h.view, h.time.advance)
  h.view.finish([synced, conflict], 2000)
  const lines = h.all().split("\n").filter((l) => l !== "")

  test("no control characters at all", () => {
    expect(hasControlChars(h.all())).toBe(false)
  })

  test("one stable line per event; byte counts coalesced before the image's next event", () => {
    expect(lines.slice(0, 9)).toEqual([
      `[1/2] start busybox:1.36 -> ${synced.target}`,
      `[2/2] start nginx:1.25 -> ${conflict.target}`,
      "[1/2] step busybox:1.36 resolve",
      "[2/2] step nginx:1.25 resolve",
      "[1/2] step busybox:1.36 copy",
      `[1/2] blob busybox:1.36 ${BLOB} 2097152`,
      `[1/2] blob busybox:1.36 ${DIGEST} 1048576`,
      formatResult(conflict),
      `[1/2] bytes busybox:1.36 3145728/3145728`
    ])
    expect(lines[9]).toBe("[1/2] step busybox:1.36 sign")
    expect(lines[10]).toBe(formatResult(synced))
  })

  test("render() writes byte counts that changed since the last record, once", () => {
    const p = harness("plain", false, 1)
    p.view.onEvent({ _tag: "ImageStarted", image: 0, source: "a:1", target: "t/a:1" })
    p.view.onEvent({ _tag: "BlobStarted", image: 0, digest: BLOB, size: 100 })
    p.take()
    p.view.onEvent({ _tag: "BytesCopied", image: 0, bytes: 40 })
    p.view.onEvent({ _tag: "BytesCopied", image: 0, bytes: 20 })
    p.view.render()
    expect(p.take()).toBe("[1/1] bytes a:1 60/100\n")
    p.view.render()
    expect(p.take()).toBe("")
  })

  test("finish prints the summary table: counts, bytes moved, duration; the one-line summary is stdout's, not said again", () => {
    const table = lines.slice(lines.indexOf("Summary"))
    expect(table).toEqual([
      "Summary",
      "  synced       1",
      "  present      0",
      "  planned      0",
      "  conflict     1",
      "  failed       0",
      "  total        2",
      "  bytes moved  3.00 MiB (3145728 bytes)",
      "  duration     2.0s"
    ])
    expect(table).toEqual(summaryTable([synced, conflict], 2000).slice(0, -1))
  })

  test("control characters coming from outside (an error body) never reach the output", () => {
    const p = harness("plain", false, 1)
    const evil = result("evil:1", "failed", { error: "boom\u001b[2J\r\nsecond line\tand a bell\u0007" })
    p.view.onEvent({ _tag: "ImageStarted", image: 0, source: "evil:1", target: evil.target })
    p.view.onEvent({ _tag: "ImageFinished", image: 0, result: evil })
    p.view.finish([evil], 10)
    expect(hasControlChars(p.all())).toBe(false)
    expect(p.all()).toContain("boom [2J  second line and a bell")
  })
})

describe("plain without --debug (quiet)", () => {
  test("no line per event: not a start, step, blob or bytes line; only the result lines", () => {
    const q = harness("plain", false, 2, false)
    run(q.view, q.time.advance)
    expect(q.all()).toBe(`${formatResult(conflict)}\n${formatResult(synced)}\n`)
  })

  test("render() says nothing during the first 10 s, then one progress line per call: done/total, bytes, rate, ETA", () => {
    const q = harness("plain", false, 4, false)
    q.view.onEvent({ _tag: "ImageStarted", image: 0, source: "a:1", target: "t/a:1" })
    q.view.onEvent({ _tag: "BlobStarted", image: 0, digest: BLOB, size: 20 * 1024 * 1024 })
    q.view.onEvent({ _tag: "BytesCopied", image: 0, bytes: 10 * 1024 * 1024 })
    q.view.onEvent({ _tag: "ImageFinished", image: 0, result: synced })
    expect(q.take()).toBe(`${formatResult(synced)}\n`)
    q.time.advance(5_000)
    q.view.render()
    expect(q.take()).toBe("")
    q.time.advance(5_000)
    q.view.render()
    expect(q.take()).toBe("[1/4] 10.0 MiB moved, 1.00 MiB/s, ETA 30.0s\n")
  })

  test("finish prints the table, without the one-line summary (stdout's last line)", () => {
    const q = harness("plain", false, 2, false)
    run(q.view, q.time.advance)
    q.take()
    q.view.finish([synced, conflict], 2000)
    expect(q.take().trimEnd().split("\n")).toEqual(summaryTable([synced, conflict], 2000).slice(0, -1))
  })
})

describe("json", () => {
  const h = harness("json")
  run(h.view, h.time.advance)
  h.view.finish([synced, conflict], 2000)
  const lines = h.all().split("\n").filter((l) => l !== "")
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>)

  test("every line parses as one JSON object; no control characters", () => {
    expect(hasControlChars(h.all())).toBe(false)
    expect(h.all().endsWith("\n")).toBe(true)
    for (const r of records) {
      expect(typeof r).toBe("object")
      expect(typeof r["event"]).toBe("string")
    }
  })

  test("one object per event, byte counts coalesced, then the summary", () => {
    expect(records.map((r) => r["event"])).toEqual([
      "ImageStarted",
      "ImageStarted",
      "StepStarted",
      "StepStarted",
      "StepStarted",
      "BlobStarted",
      "BlobStarted",
      "ImageFinished",
      "BytesCopied",
      "StepStarted",
      "ImageFinished",
      "Summary"
    ])
    expect(records[5]).toMatchObject({ image: 0, source: "busybox:1.36", digest: BLOB, size: 2 * 1024 * 1024 })
    expect(records[8]).toMatchObject({ image: 0, bytes: 3 * 1024 * 1024, copied: 3 * 1024 * 1024, total: 3 * 1024 * 1024 })
    expect(typeof records[0]!["time"]).toBe("string")
  })

  test("ImageFinished carries the result's fields", () => {
    expect(records[7]).toMatchObject({
      event: "ImageFinished",
      image: 1,
      source: "nginx:1.25",
      target: conflict.target,
      digest: DIGEST,
      status: "conflict",
      error: conflict.error!,
      errorType: "TagConflict",
      signed: false,
      bytesCopied: 0,
      durationMs: 1500
    })
  })

  test("the summary is a JSON object too", () => {
    expect(records.at(-1)).toEqual({
      event: "Summary",
      total: 2,
      synced: 1,
      present: 0,
      planned: 0,
      conflict: 1,
      failed: 0,
      bytesMoved: 3 * 1024 * 1024,
      durationMs: 2000,
      time: expect.any(String)
    })
  })
})

describe("tty", () => {
  test("renders a block in place: cursor up and clear line, and the block changes between renders", () => {
    const h = harness("tty", false)
    h.view.onEvent({ _tag: "ImageStarted", image: 0, source: "busybox:1.36", target: synced.target })
    h.view.onEvent({ _tag: "ImageStarted", image: 1, source: "nginx:1.25", target: conflict.target })
    h.view.onEvent({ _tag: "StepStarted", image: 0, step: "copy" })
    h.view.onEvent({ _tag: "BlobStarted", image: 0, digest: BLOB, size: 4 * 1024 * 1024 })
    // events alone draw nothing: the CLI's timer calls render()
    expect(h.take()).toBe("")
    h.view.render()
    const first = h.take()
    expect(first).toContain("\u001b[2K")
    expect(stripAnsi(first)).toContain("copy     busybox:1.36  0 B / 4.00 MiB")
    expect(stripAnsi(first)).toContain("0/2 done | 2 in flight")
    expect(stripAnsi(first)).toContain("ETA --")

    h.time.advance(2000)
    h.view.onEvent({ _tag: "BytesCopied", image: 0, bytes: 2 * 1024 * 1024 })
    h.view.render()
    const second = h.take()
    // back up over the three lines drawn before, then redraw them
    expect(second.startsWith("\r\u001b[3A")).toBe(true)
    expect(second).not.toBe(first)
    expect(stripAnsi(second)).toContain("2.00 MiB / 4.00 MiB  1.00 MiB/s")

    h.time.advance(1000)
    h.view.onEvent({ _tag: "ImageFinished", image: 1, result: conflict })
    const finishedLine = stripAnsi(h.take())
    // the finished image scrolls above the block, and the block shrinks to one image + the overall line;
    // its lines fit the width (99 columns: one is left free), with a short digest and the reason under it
    const shown = resultLines(conflict, 99, false)
    expect(finishedLine).toContain(`${shown.join("\n")}\n`)
    expect(shown.every((l) => l.length <= 99)).toBe(true)
    expect(shown[0]).toContain("sha256:aaaaaaaaaaaa…")
    expect(shown[1]).toBe("         target already holds sha256:ccc | tags are immutable")
    expect(finishedLine).toContain("1/2 done (1 conflict/failed) | 1 in flight")
    expect(finishedLine).toContain("ETA 3.0s")
    h.view.render()
    expect(h.take().startsWith("\r\u001b[2A")).toBe(true)
  })

  test("clear() erases the block for a log line; the next render draws it afresh", () => {
    const h = harness("tty", false)
    h.view.onEvent({ _tag: "ImageStarted", image: 0, source: "busybox:1.36", target: synced.target })
    h.view.render()
    h.take()
    h.view.clear()
    expect(h.take()).toBe("\r\u001b[2A\u001b[J")
    h.view.clear()
    expect(h.take()).toBe("")
    h.view.render()
    expect(h.take().startsWith("\r\u001b[2K")).toBe(true)
    // plain and json have no block to clear
    const p = harness("plain")
    p.view.clear()
    expect(p.all()).toBe("")
  })

  test("colour only when asked", () => {
    const plain = harness("tty", false)
    const coloured = harness("tty", true)
    for (const h of [plain, coloured]) {
      run(h.view, h.time.advance)
      h.view.finish([synced, conflict], 2000)
    }
    expect(/\u001b\[[0-9;]*m/.test(plain.all())).toBe(false)
    expect(plain.all()).toContain("\u001b[2K")
    expect(/\u001b\[3[0-9]m/.test(coloured.all())).toBe(true)
    expect(stripAnsi(coloured.all())).toBe(stripAnsi(plain.all()))
  })

  test("finish clears the block and prints the summary table", () => {
    const h = harness("tty", false)
    run(h.view, h.time.advance)
    h.view.render()
    h.take()
    h.view.finish([synced, conflict], 2000)
    const out = h.take()
    expect(out.startsWith("\r\u001b[1A")).toBe(true)
    expect(stripAnsi(out).split("\n").map((l) => l.trim()).filter((l) => l !== "")).toEqual(
      summaryTable([synced, conflict], 2000).map((l) => l.trim())
    )
    // nothing is drawn after finish
    h.view.render()
    h.view.onEvent({ _tag: "StepStarted", image: 0, step: "sign" })
    expect(h.take()).toBe("")
  })

  test("lines are cut to the terminal width so the block never wraps", () => {
    const time = clock()
    let out = ""
    const view = makeView("tty", (s) => void (out += s), { color: true, total: 1, now: time.now, width: 40 })
    view.onEvent({ _tag: "ImageStarted", image: 0, source: `registry.example.com/${"x".repeat(80)}:1`, target: "t" })
    view.render()
    const lengths = stripAnsi(out).replace(/\r/g, "").split("\n").map((l) => l.length)
    expect(Math.max(...lengths)).toBe(39)
  })
})

describe("a result the end-of-run read-back revises", () => {
  const written = result("busybox:1.36", "synced")
  const replaced = result("busybox:1.36", "conflict", {
    error: `${written.target} was replaced by another writer after this run wrote it: it now holds sha256:${"d".repeat(64)}, not ${DIGEST}`,
    errorType: "TagTaken"
  })
  const warned = { ...written, warnings: ["not read back at the end: the run was interrupted"] }
  const feed = (view: { readonly onEvent: (e: ProgressEvent) => void }, revision: ImageResult) => {
    view.onEvent({ _tag: "ImageStarted", image: 0, source: written.source, target: written.target })
    view.onEvent({ _tag: "ImageFinished", image: 0, result: written })
    view.onEvent({ _tag: "ImageRevised", image: 0, result: revision })
  }

  test("json: ImageFinished as it finished, then ImageRevised with the final result's fields", () => {
    const h = harness("json", false, 1)
    feed(h.view, replaced)
    const records = h.all().trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(records.map((r) => `${r["event"]} ${r["status"] ?? ""}`.trim())).toEqual(["ImageStarted", "ImageFinished synced", "ImageRevised conflict"])
    expect(records[2]).toMatchObject({ image: 0, source: written.source, target: written.target, errorType: "TagTaken", error: replaced.error! })
  })

  test("plain: one more line when the status changes, none for a warning", () => {
    const q = harness("plain", false, 1, false)
    feed(q.view, replaced)
    expect(q.all()).toBe(`${formatResult(written)}\n${formatResult(replaced)}\n`)
    const w = harness("plain", false, 1, false)
    feed(w.view, warned)
    expect(w.all()).toBe(`${formatResult(written)}\n`)
  })

  test("tty: the revised line scrolls above the block with its reason; the counts follow the final word", () => {
    const h = harness("tty", false, 1)
    feed(h.view, replaced)
    const text = stripAnsi(h.all())
    expect(text).toContain(`${resultLines(written, 99, false)[0]}\n`)
    expect(text).toContain(`${resultLines(replaced, 99, false).join("\n")}\n`)
    expect(text).toContain("replaced by another writer after this run wrote it")
    expect(text.trimEnd().split("\n").at(-1)).toContain("1/1 done (1 conflict/failed)")
    const w = harness("tty", false, 1)
    feed(w.view, warned)
    expect(stripAnsi(w.all()).match(/^synced /gm)).toHaveLength(1)
  })
})

describe("resolveOutput", () => {
  test("auto: tty on a terminal, plain on a pipe or a dumb terminal", () => {
    expect(resolveOutput("auto", true, {})).toEqual({ mode: "tty", color: true })
    expect(resolveOutput("auto", false, {})).toEqual({ mode: "plain", color: false })
    expect(resolveOutput("auto", true, { TERM: "dumb" })).toEqual({ mode: "plain", color: false })
  })

  test("NO_COLOR (any non-empty value) turns colour off, not the live view", () => {
    expect(resolveOutput("auto", true, { NO_COLOR: "1" })).toEqual({ mode: "tty", color: false })
    expect(resolveOutput("auto", true, { NO_COLOR: "" })).toEqual({ mode: "tty", color: true })
  })

  test("an explicit mode wins; colour still needs a terminal", () => {
    expect(resolveOutput("plain", true, {})).toEqual({ mode: "plain", color: false })
    expect(resolveOutput("json", true, {})).toEqual({ mode: "json", color: false })
    expect(resolveOutput("tty", false, {})).toEqual({ mode: "tty", color: false })
  })
})

describe("renderLoop", () => {
  test("redraws on every tick until interrupted", async () => {
    let renders = 0
    const view = { onEvent: () => {}, render: () => void renders++, clear: () => {}, finish: () => {} }
    const counted = await Effect.runPromise(
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(renderLoop(view, 100))
        yield* TestClock.adjust("1 second")
        yield* Fiber.interrupt(fiber)
        const seen = renders
        yield* TestClock.adjust("1 second")
        return [seen, renders] as const
      }).pipe(Effect.provide(TestContext.TestContext))
    )
    // the first render is immediate, then one per 100 ms
    expect(counted).toEqual([11, 11])
  })
})

describe("under a real terminal and through a pipe", () => {
  const ROOT = join(import.meta.dir, "..", "..", "..")
  // What the CLI does: choose the mode from the stream, feed events, render between them.
  const driver = `
    import { makeView, resolveOutput } from ${JSON.stringify(join(ROOT, "src/cli/output/Views.ts"))}
    const { mode, color } = resolveOutput("auto", process.stdout.isTTY === true, process.env)
    const view = makeView(mode, (s) => void process.stdout.write(s), { color, total: 1, width: process.stdout.columns || 80 })
    const result = ${JSON.stringify(synced)}
    view.onEvent({ _tag: "ImageStarted", image: 0, source: result.source, target: result.target })
    view.onEvent({ _tag: "StepStarted", image: 0, step: "copy" })
    view.onEvent({ _tag: "BlobStarted", image: 0, digest: "sha256:${"c".repeat(64)}", size: 300 })
    for (let i = 0; i < 3; i++) {
      view.onEvent({ _tag: "BytesCopied", image: 0, bytes: 100 })
      view.render()
    }
    view.onEvent({ _tag: "ImageFinished", image: 0, result })
    view.finish([result], 1234)
  `
  const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/tmp" }

  test("a terminal gets a live view that updates in place, in colour", async () => {
    const run = await runInPty([process.execPath, "-e", driver], { env, columns: 100 })
    expect(run.code).toBe(0)
    expect(run.output).toContain("\u001b[2K")
    expect(run.output).toMatch(/\u001b\[\d+A/)
    expect(/\u001b\[3\dm/.test(run.output)).toBe(true)
    const text = stripAnsi(run.output)
    for (const bytes of ["100 B / 300 B", "200 B / 300 B", "300 B / 300 B"]) expect(text).toContain(bytes)
    expect(text).toContain("1/1 done")
    expect(text).toContain("1 image: 1 synced, 0 present, 0 planned, 0 conflict, 0 failed")
  })

  test("NO_COLOR keeps the live view and drops the colours", async () => {
    const run = await runInPty([process.execPath, "-e", driver], { env: { ...env, NO_COLOR: "1" }, columns: 100 })
    expect(run.output).toContain("\u001b[2K")
    expect(/\u001b\[[0-9;]*m/.test(run.output)).toBe(false)
  })

  test("a pipe gets plain lines without a single control character", async () => {
    const proc = Bun.spawn([process.execPath, "-e", driver], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" })
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
    expect(code).toBe(0)
    expect(hasControlChars(out)).toBe(false)
    // quiet without --debug: the result line, no per-event lines
    expect(out).not.toContain("[1/1] bytes")
    expect(out).not.toContain("[1/1] step")
    expect(out).toContain(`${formatResult(synced)}\n`)
  })
})
