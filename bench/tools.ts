/**
 * Running the contenders as child processes and measuring them the same way: wall time from
 * spawn to exit, peak RSS and CPU time from the kernel's rusage of the child, and when output
 * appeared. RSS comes from GNU `/usr/bin/time` when it is installed: Bun spawns with
 * vfork semantics, so the rusage Bun reports for a child starts at *this* process's peak RSS
 * (Linux carries the parent's high-water mark across exec); `time` is a small intermediate
 * process whose own wait4() sees the child's true peak.
 */
import type { Subprocess } from "bun"
import { readFileSync } from "node:fs"
import { readFile, rm } from "node:fs/promises"
import { join } from "node:path"

/** What one timed run produced. */
export interface TimedRun {
  readonly seconds: number
  readonly exitCode: number | null
  /** peak resident set size of the child (and its waited-for descendants), bytes */
  readonly maxRssBytes: number
  /** "time": GNU time's %M; "bun": Bun's resourceUsage(), an upper bound (see above) */
  readonly rssSource: "time" | "bun"
  /** user + system CPU, seconds */
  readonly cpuSeconds: number
  /** seconds from spawn to the first byte on stdout (our CLI: the first result line) */
  readonly firstOutputSeconds: number | undefined
  /** seconds from spawn to the last byte on stdout */
  readonly lastOutputSeconds: number | undefined
  readonly stdout: string
  readonly stderr: string
}

const running = new Set<Subprocess>()

/** Direct children of a process (Linux /proc), so `time`'s child dies with it. */
const childrenOf = (pid: number): Array<number> => {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
    return text.split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/** Kills every child still running, and its children, by process id (on SIGINT or a failure). */
export const killRunning = (): void => {
  for (const proc of running) {
    const kill = (pid: number): void => {
      for (const child of childrenOf(pid)) kill(child)
      try {
        process.kill(pid, "SIGKILL")
      } catch {
        // already gone
      }
    }
    kill(proc.pid)
  }
}

/** Collects a stream as text, noting when the first and last chunks arrived (seconds from t0). */
const collect = async (stream: ReadableStream<Uint8Array>, t0: number) => {
  const decoder = new TextDecoder()
  let text = ""
  let first: number | undefined
  let last: number | undefined
  for await (const chunk of stream) {
    const now = (performance.now() - t0) / 1000
    first ??= now
    last = now
    text += decoder.decode(chunk, { stream: true })
  }
  text += decoder.decode()
  return { text, first, last }
}

const GNU_TIME = "/usr/bin/time"
let timeWorks: boolean | undefined
let statCounter = 0

/** Whether GNU time is there and prints %M (checked once). */
const gnuTime = async (): Promise<boolean> => {
  if (timeWorks === undefined) {
    try {
      const proc = Bun.spawn([GNU_TIME, "-f", "%M", "true"], { stdin: "ignore", stdout: "ignore", stderr: "pipe" })
      const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited])
      timeWorks = code === 0 && /^\d+\s*$/.test(err)
    } catch {
      timeWorks = false
    }
  }
  return timeWorks
}

/** Spawns argv and measures it. Never throws for a non-zero exit; the caller decides. */
export const timed = async (
  argv: ReadonlyArray<string>,
  options: { readonly env: Record<string, string>; readonly cwd: string }
): Promise<TimedRun> => {
  const useTime = await gnuTime()
  const statFile = join(options.cwd, `.time-${process.pid}-${++statCounter}`)
  const command = useTime ? [GNU_TIME, "-f", "%M %U %S", "-o", statFile, ...argv] : [...argv]
  const t0 = performance.now()
  const proc = Bun.spawn(command, { env: options.env, cwd: options.cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" })
  running.add(proc)
  try {
    const [out, err, exitCode] = await Promise.all([collect(proc.stdout, t0), collect(proc.stderr, t0), proc.exited])
    const seconds = (performance.now() - t0) / 1000
    const usage = proc.resourceUsage()
    let maxRssBytes = usage?.maxRSS ?? 0
    let cpuSeconds = usage ? Number(usage.cpuTime.total) / 1e6 : 0
    if (useTime) {
      // the last line: "Command exited with non-zero status N" may come first
      const stat = (await readFile(statFile, "utf8").catch(() => "")).trim().split("\n").pop() ?? ""
      const [kb, user, system] = stat.split(" ").map(Number)
      if (kb !== undefined && Number.isFinite(kb)) maxRssBytes = kb * 1024
      if (user !== undefined && system !== undefined && Number.isFinite(user + system)) cpuSeconds = user + system
      await rm(statFile, { force: true })
    }
    return {
      seconds,
      exitCode,
      maxRssBytes,
      rssSource: useTime ? "time" : "bun",
      cpuSeconds,
      firstOutputSeconds: out.first,
      lastOutputSeconds: out.last,
      stdout: out.text,
      stderr: err.text
    }
  } finally {
    running.delete(proc)
  }
}

/** The last lines of a text, for error messages. */
export const tail = (text: string, lines = 15): string => text.trimEnd().split("\n").slice(-lines).join("\n")

/** A command's first line of output (versions); "" when it cannot run. */
export const firstLine = async (argv: ReadonlyArray<string>): Promise<string> => {
  try {
    const proc = Bun.spawn([...argv], { stdin: "ignore", stdout: "pipe", stderr: "pipe" })
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    return (out.trim() || err.trim()).split("\n")[0] ?? ""
  } catch {
    return ""
  }
}

const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json"
].join(", ")

/** One expected target tag. */
export interface ExpectedTag {
  readonly repository: string
  readonly tag: string
  readonly digest: string
}

/**
 * HEADs every expected tag on a registry and returns the ones that are missing or hold
 * another digest. `authorization` gives the header for a repository (token registries).
 */
export const verifyTags = async (
  registryUrl: string,
  expected: ReadonlyArray<ExpectedTag>,
  authorization?: (repository: string) => string
): Promise<Array<string>> => {
  const problems: Array<string> = []
  let next = 0
  const worker = async () => {
    while (next < expected.length) {
      const e = expected[next++]!
      const headers: Record<string, string> = { accept: MANIFEST_ACCEPT }
      if (authorization) headers["authorization"] = authorization(e.repository)
      const res = await fetch(`${registryUrl}/v2/${e.repository}/manifests/${e.tag}`, { method: "HEAD", headers, proxy: false })
      const digest = res.headers.get("docker-content-digest")
      if (res.status !== 200) problems.push(`${e.repository}:${e.tag}: HTTP ${res.status}`)
      else if (digest !== e.digest) problems.push(`${e.repository}:${e.tag}: holds ${digest}, expected ${e.digest}`)
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  return problems
}
