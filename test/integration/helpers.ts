/**
 * Shared helpers of the integration tests: the CLI as a real subprocess, definition files in
 * temp dirs, stdout/report parsing, and access-log queries on the local registries.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { stringify } from "yaml"
import type { LocalRegistry, LoggedRequest } from "../../demo/LocalRegistry.ts"

/** The repository root: the CLI runs with this cwd. */
export const REPO_ROOT = join(import.meta.dir, "..", "..")

/** What one CLI run produced. */
export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** One image line of stdout: `status source -> target digest [: error]`. */
export interface ResultLine {
  readonly status: string
  readonly source: string
  readonly target: string
  readonly digest: string
  /** the error text after " : ", or "" */
  readonly error: string
  readonly line: string
}

/** One image of the `--report` document. */
export interface ReportImage {
  readonly source: string
  readonly target: string
  readonly digest: string | null
  readonly sourceDigest?: string
  readonly status: string
  readonly error?: string
  readonly errorType?: string
  readonly warnings?: ReadonlyArray<string>
}

/** The `--report` document (the parts the tests read). */
export interface Report {
  readonly images: ReadonlyArray<ReportImage>
  readonly summary: Record<string, number>
  readonly dryRun: boolean
  readonly exitCode: number
}

/** A definition file's content. */
export interface DefinitionSpec {
  readonly targetRepoPrefix?: string | ReadonlyArray<string>
  readonly registries?: Record<string, { readonly mirror?: string; readonly insecure?: boolean }>
  readonly platforms?: ReadonlyArray<string>
  readonly images: ReadonlyArray<{
    readonly source: string
    readonly tag?: string
    readonly amd64Only?: boolean
    readonly platforms?: ReadonlyArray<string>
    readonly tags?: { readonly semver?: string; readonly match?: string; readonly exclude?: string; readonly latest?: number; readonly prerelease?: boolean }
  }>
}

/** Creates a temp dir; remember to remove it (removeDir) in afterAll. */
export const makeTempDir = (prefix: string): Promise<string> => mkdtemp(join(tmpdir(), `syncer-it-${prefix}-`))

/** Removes a temp dir; tolerates undefined (a beforeAll that failed early). */
export const removeDir = async (dir: string | undefined): Promise<void> => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
}

/** Writes a definition file as YAML into dir/name and returns its path. */
export const writeDefinition = async (dir: string, name: string, spec: DefinitionSpec): Promise<string> => {
  const path = join(dir, name)
  await writeFile(path, stringify(spec))
  return path
}

/**
 * Runs `bun src/cli/launch.ts …args` (what `bun run sync` runs: the bundled CLI) from the repository root. The environment is minimal and
 * explicit: PATH, HOME and DOCKER_CONFIG point at `home` (an empty temp dir unless the test puts
 * a config.json there), no proxies, and no SYNCER_* variable unless given in `env`.
 */
export const runCli = async (
  args: ReadonlyArray<string>,
  options: {
    readonly home: string
    readonly env?: Readonly<Record<string, string>>
    /** arguments for bun itself, before the script (e.g. --preload FILE) */
    readonly bunArgs?: ReadonlyArray<string>
  }
): Promise<CliRun> => {
  const env: Record<string, string> = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: options.home,
    DOCKER_CONFIG: join(options.home, ".docker"),
    NO_PROXY: "*",
    ...options.env
  }
  const proc = Bun.spawn([process.execPath, ...(options.bunArgs ?? []), "src/cli/launch.ts", ...args], {
    cwd: REPO_ROOT,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited
  ])
  return { code, stdout, stderr }
}

/** A readable dump of a run, for failure messages. */
export const describeRun = (run: CliRun): string => `exit ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`

// Notes may follow the digest: "(created repository)" or "(would create repository)", then "(signed)", "(signature present)" or "(would sign)".
const RESULT_LINE =
  /^(synced|present|planned|conflict|failed)\s+(\S+) -> (\S+) (\S+)(?: \((?:created repository|would create repository)\))?(?: \((?:signed|signature present|would sign)\))?(?: : (.*))?$/

/** The non-empty lines of stdout. */
export const stdoutLines = (run: CliRun): Array<string> => run.stdout.split("\n").filter((l) => l.trim() !== "")

/** The per-image lines of stdout, parsed. */
export const resultLines = (run: CliRun): Array<ResultLine> =>
  stdoutLines(run).flatMap((line) => {
    const m = RESULT_LINE.exec(line)
    if (m === null) return []
    return [{ status: m[1] ?? "", source: m[2] ?? "", target: m[3] ?? "", digest: m[4] ?? "", error: m[5] ?? "", line }]
  })

/** The stdout line of one source; throws with the whole run when there is none or several. */
export const lineFor = (run: CliRun, source: string): ResultLine => {
  const found = resultLines(run).filter((l) => l.source === source)
  if (found.length !== 1) throw new Error(`expected one stdout line for ${source}, found ${found.length}\n${describeRun(run)}`)
  return found[0]!
}

/** status per source, from stdout. */
export const statusBySource = (run: CliRun): Record<string, string> => Object.fromEntries(resultLines(run).map((l) => [l.source, l.status]))

/** Reads and parses a `--report` file. */
export const readReport = async (path: string): Promise<Report> => JSON.parse(await readFile(path, "utf8")) as Report

/** The report entry of one source. */
export const reportFor = (report: Report, source: string): ReportImage => {
  const found = report.images.filter((i) => i.source === source)
  if (found.length !== 1) throw new Error(`expected one report entry for ${source}, found ${found.length}: ${JSON.stringify(report)}`)
  return found[0]!
}

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"])

/** Every write request (POST/PUT/PATCH/DELETE) in the registry's log; settles first so the log is complete. */
export const writeRequests = async (registry: LocalRegistry): Promise<Array<LoggedRequest>> => {
  await registry.settle()
  return registry.requests().filter((r) => WRITE_METHODS.has(r.method))
}

/** The request log, complete up to now. */
export const settledRequests = async (registry: LocalRegistry): Promise<ReadonlyArray<LoggedRequest>> => {
  await registry.settle()
  return registry.requests()
}

/** The log path with its query decoded, so `digest=sha256%3A…` reads as `digest=sha256:…`. */
export const decodedPath = (request: LoggedRequest): string => {
  try {
    return decodeURIComponent(request.path)
  } catch {
    return request.path
  }
}

/** A fetch to a loopback registry that never goes through a proxy. */
export const loopbackFetch = (url: string, init: { readonly method?: string; readonly headers?: Record<string, string> } = {}) =>
  fetch(url, { method: init.method ?? "GET", headers: init.headers ?? {}, proxy: false })

const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json"
].join(", ")

/** HEAD a manifest (by tag or digest); status and Docker-Content-Digest. */
export const headManifest = async (
  registryUrl: string,
  repository: string,
  reference: string,
  headers: Record<string, string> = {}
): Promise<{ readonly status: number; readonly digest: string | null; readonly mediaType: string | null }> => {
  const res = await loopbackFetch(`${registryUrl}/v2/${repository}/manifests/${reference}`, {
    method: "HEAD",
    headers: { accept: ACCEPT, ...headers }
  })
  await res.arrayBuffer()
  return { status: res.status, digest: res.headers.get("docker-content-digest"), mediaType: res.headers.get("content-type") }
}

/** HEAD a blob; the status. */
export const headBlob = async (
  registryUrl: string,
  repository: string,
  digest: string,
  headers: Record<string, string> = {}
): Promise<number> => {
  const res = await loopbackFetch(`${registryUrl}/v2/${repository}/blobs/${digest}`, { method: "HEAD", headers })
  await res.arrayBuffer()
  return res.status
}

/** `Authorization: Bearer …` header object. */
export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

/** `Authorization: Basic …` header object. */
export const basic = (username: string, password: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`
})

/** A small image spec (one 1 KiB layer per platform) to keep the suite fast. */
export const SMALL = { layers: 1, layerSize: 1024 } as const

/** The two platforms of the sample multi-platform indexes. */
export const TWO_PLATFORMS = [
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "arm64", variant: "v8" }
] as const

/** linux/amd64 only. */
export const AMD64 = [{ os: "linux", architecture: "amd64" }] as const

/** A CLI subprocess whose output can be waited on while it runs. */
export interface LiveCli {
  readonly pid: number
  readonly kill: (signal: NodeJS.Signals) => void
  /** resolves once stderr (progress events, logs) satisfies `done` (or the process ended) */
  readonly waitForStderr: (done: (stderr: string) => boolean) => Promise<void>
  /** resolves once stdout (result lines) satisfies `done` (or the process ended) */
  readonly waitForStdout: (done: (stdout: string) => boolean) => Promise<void>
  /** the finished run and performance.now() when it exited */
  readonly finished: Promise<CliRun & { readonly exitedAt: number }>
}

/**
 * Starts `bun src/cli/bin.ts …args` (the CLI from source) with the same minimal environment as
 * runCli, its stdout and stderr read as they come so a test can act mid-run (send a signal
 * once some output is there).
 */
export const startLiveCli = (
  args: ReadonlyArray<string>,
  options: { readonly home: string; readonly env?: Readonly<Record<string, string>> }
): LiveCli => {
  const proc = Bun.spawn([process.execPath, "src/cli/bin.ts", ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: options.home, DOCKER_CONFIG: join(options.home, ".docker"), NO_PROXY: "*", ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  const text = { stdout: "", stderr: "" }
  const waiters: Array<{ stream: "stdout" | "stderr"; done: (s: string) => boolean; resolve: () => void }> = []
  const check = () => {
    for (const w of [...waiters]) {
      if (w.done(text[w.stream])) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  }
  const read = async (stream: "stdout" | "stderr", from: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder()
    for await (const chunk of from) {
      text[stream] += decoder.decode(chunk, { stream: true })
      check()
    }
  }
  const reading = Promise.all([read("stdout", proc.stdout), read("stderr", proc.stderr)])
  const finished = (async () => {
    const code = await proc.exited
    const exitedAt = performance.now()
    await reading
    for (const w of waiters.splice(0)) w.resolve()
    return { code, stdout: text.stdout, stderr: text.stderr, exitedAt }
  })()
  const waitFor = (stream: "stdout" | "stderr") => (done: (s: string) => boolean) =>
    new Promise<void>((resolve) => {
      waiters.push({ stream, done, resolve })
      check()
    })
  return { pid: proc.pid, kill: (signal) => proc.kill(signal), waitForStderr: waitFor("stderr"), waitForStdout: waitFor("stdout"), finished }
}
