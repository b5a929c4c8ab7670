/**
 * Starts and stops a real distribution v2.8 registry (Debian's `docker-registry`)
 * on 127.0.0.1 with an OS-chosen port, in a temp directory. Used by the demo and tests.
 */
import { randomBytes } from "node:crypto"
import { readFileSync, rmSync } from "node:fs"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { stringify } from "yaml"

/** One request line from the registry's access log. */
export interface LoggedRequest {
  readonly method: string
  readonly path: string
  readonly status: number
}

/** A running docker-registry on 127.0.0.1 with an OS-chosen port. */
export interface LocalRegistry {
  /** "127.0.0.1:PORT" */
  readonly host: string
  /** "http://127.0.0.1:PORT", or https://… with tls */
  readonly url: string
  /** temp dir holding data, config and htpasswd */
  readonly dir: string
  /** request lines seen so far, parsed from the registry's access log; call settle() first for completeness */
  readonly requests: () => ReadonlyArray<LoggedRequest>
  /** waits for every request answered so far to be logged, then clears the log (so a test can count requests of one run) */
  readonly resetRequests: () => Promise<void>
  /** waits until every request answered before this call appears in requests() */
  readonly settle: () => Promise<void>
  /** CPU seconds (user + system) the registry process has used so far; undefined where /proc is not available */
  readonly cpuSeconds: () => number | undefined
  /** kills the process, waits for exit, removes the dir; idempotent */
  readonly stop: () => Promise<void>
}

/** Options of startRegistry: auth (htpasswd or token), TLS (optionally mutual), deletes. */
export interface LocalRegistryOptions {
  readonly htpasswd?: { readonly username: string; readonly password: string }
  readonly token?: {
    readonly realm: string
    readonly service: string
    readonly issuer: string
    /** PEM path */
    readonly rootCertBundle: string
  }
  /** PEM paths */
  readonly tls?: {
    readonly certificate: string
    readonly key: string
    /** CAs (PEM paths) whose client certificates are required (`http.tls.clientcas`): a client without one is refused in the handshake */
    readonly clientCas?: ReadonlyArray<string>
    /** the client certificate and key (PEM paths) the launcher's own probes present; required with clientCas */
    readonly probeClient?: { readonly certificate: string; readonly key: string }
  }
  readonly deleteEnabled?: boolean
}

// bcrypt's base64 alphabet differs from the standard one only by the character mapping
const STANDARD_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
const BCRYPT_B64 = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/** A random 22-character bcrypt salt (16 random bytes in bcrypt's base64). */
const bcryptSalt = (): string =>
  Array.from(randomBytes(16).toString("base64").replace(/=+$/, ""))
    .map((c) => BCRYPT_B64[STANDARD_B64.indexOf(c)])
    .join("")

/**
 * One htpasswd line `user:$2y$05$…` (bcrypt, the only kind distribution accepts).
 * Uses perl's crypt(3) (libxcrypt supports bcrypt) since there is no bcrypt in node:crypto
 * and no npm dependency is allowed; the password goes through the environment, never argv.
 */
export const bcryptHtpasswdLine = async (username: string, password: string): Promise<string> => {
  if (username.includes(":")) throw new Error(`htpasswd user name must not contain ":": ${username}`)
  const perl = Bun.which("perl", { PATH: process.env["PATH"] ?? "" })
  if (perl === null) throw new Error("perl not found: it is needed to make bcrypt htpasswd entries")
  const proc = Bun.spawn([perl, "-e", "print crypt($ENV{HTPASSWD_PW}, $ENV{HTPASSWD_SALT})"], {
    env: { PATH: process.env["PATH"] ?? "", HTPASSWD_PW: password, HTPASSWD_SALT: `$2y$05$${bcryptSalt()}` },
    stdout: "pipe",
    stderr: "pipe"
  })
  const [hash, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited
  ])
  // crypt(3) without bcrypt support returns "*0"/undef rather than failing loudly
  if (code !== 0 || !/^\$2y\$05\$[./A-Za-z0-9]{53}$/.test(hash)) {
    throw new Error(`perl crypt() did not produce a bcrypt hash (exit ${code}): ${stderr.trim() || JSON.stringify(hash)}`)
  }
  return `${username}:${hash}`
}

// gorilla/handlers combined log format, written to stdout for every request (router 404s too):
// 127.0.0.1 - - [26/Nov/2026:15:57:43 +0000] "GET /v2/?x=1 HTTP/1.1" 200 2 "" "curl/7.88.1"
const ACCESS_LINE = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) /
const SENTINEL = /^\/v2\/\?sentinel=(\d+)$/
const LISTENING = /listening on 127\.0\.0\.1:(\d+)/
const STARTUP_TIMEOUT_MS = 20_000
const SETTLE_TIMEOUT_MS = 10_000
const STOP_GRACE_MS = 5_000

/** Calls onLine for each complete line of a byte stream; resolves at end of stream. */
const readLines = async (stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> => {
  const decoder = new TextDecoder()
  let pending = ""
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true })
    const lines = pending.split("\n")
    pending = lines.pop() ?? ""
    for (const line of lines) onLine(line)
  }
  pending += decoder.decode()
  if (pending !== "") onLine(pending)
}

/** A fetch for the launcher's own requests: no proxy, the loopback certificate accepted, the client certificate presented where one is required. */
type Probe = (url: string) => Promise<Response>

const makeProbe = (tls: LocalRegistryOptions["tls"]): Probe => {
  const client = tls?.probeClient === undefined ? {} : { cert: Bun.file(tls.probeClient.certificate), key: Bun.file(tls.probeClient.key) }
  return (url) => fetch(url, { proxy: false, tls: { rejectUnauthorized: false, ...client } })
}

/** Starts docker-registry (`docker-registry serve cfg.yml`, http.addr 127.0.0.1:0, parse "listening on" from stderr, then poll GET /v2/ until 200 or 401). Fails with a clear message if the binary is missing ("docker-registry not found: apt-get install docker-registry"). */
export const startRegistry = async (options: LocalRegistryOptions = {}): Promise<LocalRegistry> => {
  // PATH passed explicitly: Bun.which does not see later changes to process.env
  const binary = Bun.which("docker-registry", { PATH: process.env["PATH"] ?? "" })
  if (binary === null) throw new Error("docker-registry not found: apt-get install docker-registry")
  if (options.htpasswd !== undefined && options.token !== undefined) {
    throw new Error("startRegistry: htpasswd and token auth are mutually exclusive")
  }
  if ((options.tls?.clientCas?.length ?? 0) > 0 && options.tls?.probeClient === undefined) {
    throw new Error("startRegistry: tls.clientCas needs tls.probeClient, the certificate the launcher's readiness probes present")
  }
  const dir = await mkdtemp(join(tmpdir(), "local-registry-"))
  try {
    const config = await writeConfig(dir, options)
    return await launch(binary, dir, config, options.tls !== undefined, makeProbe(options.tls))
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

/** Writes config.yml (and htpasswd) into dir; returns the config path. */
const writeConfig = async (dir: string, options: LocalRegistryOptions): Promise<string> => {
  const http: Record<string, unknown> = {
    addr: "127.0.0.1:0",
    // fixed per instance so upload _state HMACs stay valid for the process lifetime
    secret: randomBytes(16).toString("hex")
  }
  if (options.tls !== undefined) {
    const clientCas = options.tls.clientCas ?? []
    http["tls"] = { certificate: options.tls.certificate, key: options.tls.key, ...(clientCas.length === 0 ? {} : { clientcas: [...clientCas] }) }
  }
  const config: Record<string, unknown> = {
    version: "0.1",
    // json on stderr for app messages; the combined access log on stdout is what requests() parses
    log: { level: "info", formatter: "json", accesslog: { disabled: false } },
    storage: {
      filesystem: { rootdirectory: join(dir, "data") },
      delete: { enabled: options.deleteEnabled === true },
      maintenance: { uploadpurging: { enabled: false } }
    },
    http
  }
  if (options.htpasswd !== undefined) {
    const path = join(dir, "htpasswd")
    await writeFile(path, `${await bcryptHtpasswdLine(options.htpasswd.username, options.htpasswd.password)}\n`, {
      mode: 0o600
    })
    config["auth"] = { htpasswd: { realm: "test-realm", path } }
  }
  if (options.token !== undefined) {
    config["auth"] = {
      token: {
        realm: options.token.realm,
        service: options.token.service,
        issuer: options.token.issuer,
        rootcertbundle: options.token.rootCertBundle
      }
    }
  }
  const path = join(dir, "config.yml")
  await writeFile(path, stringify(config))
  return path
}

/** Spawns the registry, waits until it answers, and builds the LocalRegistry handle. */
const launch = async (binary: string, dir: string, configPath: string, tls: boolean, probe: Probe): Promise<LocalRegistry> => {
  // if we die without stop() (e.g. bun test does not run "exit" hooks), the kernel stops the registry
  const setpriv = Bun.which("setpriv", { PATH: process.env["PATH"] ?? "" })
  const argv = [binary, "serve", configPath]
  // a minimal env: REGISTRY_* variables from the caller would override the config file
  const proc = Bun.spawn(setpriv === null ? argv : [setpriv, "--pdeathsig", "TERM", ...argv], {
    cwd: dir,
    env: { PATH: process.env["PATH"] ?? "", HOME: dir },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  // make sure an aborted test run does not leave registries behind
  const killOnExit = (): void => {
    proc.kill("SIGKILL")
    rmSync(dir, { recursive: true, force: true })
  }
  process.once("exit", killOnExit)

  const stderrTail: Array<string> = []
  let log: Array<LoggedRequest> = []
  const sentinelWaiters = new Map<number, () => void>()
  let resolvePort: (port: number) => void = () => {}
  const portSeen = new Promise<number>((resolve) => {
    resolvePort = resolve
  })

  const stderrDone = readLines(proc.stderr, (line) => {
    stderrTail.push(line)
    if (stderrTail.length > 50) stderrTail.shift()
    const match = LISTENING.exec(line)
    if (match?.[1] !== undefined) resolvePort(Number(match[1]))
  })
  const stdoutDone = readLines(proc.stdout, (line) => {
    const match = ACCESS_LINE.exec(line)
    if (match === null) return
    const [, method = "", path = "", status = "0"] = match
    const sentinel = SENTINEL.exec(path)
    if (sentinel?.[1] !== undefined) {
      sentinelWaiters.get(Number(sentinel[1]))?.()
      return
    }
    log.push({ method, path, status: Number(status) })
  })
  const exited = proc.exited.then(async (code) => {
    await Promise.allSettled([stderrDone, stdoutDone])
    return code
  })
  const hasExited = (): boolean => proc.exitCode !== null || proc.signalCode !== null
  const describeExit = (code: number | null): string => `docker-registry exited with code ${code}:\n${stderrTail.join("\n")}`

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      proc.kill("SIGTERM")
      const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_GRACE_MS)
      await exited
      clearTimeout(timer)
      process.removeListener("exit", killOnExit)
      await rm(dir, { recursive: true, force: true })
    })()
    return stopping
  }

  try {
    const port = await withDeadline(
      Promise.race([portSeen, exited.then((code) => Promise.reject(new Error(describeExit(code))))]),
      STARTUP_TIMEOUT_MS,
      () => `docker-registry did not report "listening on" in time:\n${stderrTail.join("\n")}`
    )
    const host = `127.0.0.1:${port}`
    const url = `${tls ? "https" : "http"}://${host}`
    await waitReady(url, hasExited, probe)

    let sentinelCounter = 0
    const settle = async (): Promise<void> => {
      if (hasExited()) throw new Error(describeExit(proc.exitCode))
      const n = ++sentinelCounter
      const seen = new Promise<void>((resolve) => sentinelWaiters.set(n, resolve))
      try {
        // the access log is written after the response, so a request of our own marks the end
        await probe(`${url}/v2/?sentinel=${n}`)
        await withDeadline(
          Promise.race([seen, exited.then((code) => Promise.reject(new Error(describeExit(code))))]),
          SETTLE_TIMEOUT_MS,
          () => `settle: sentinel request ${n} never appeared in the access log`
        )
      } finally {
        sentinelWaiters.delete(n)
      }
    }
    // drop the readiness probes so requests() starts empty
    await settle()
    log = []

    return {
      host,
      url,
      dir,
      requests: () => [...log],
      // The access log is written after the response: without settling first, a late line of an
      // earlier request would land in the fresh log.
      resetRequests: async () => {
        await settle()
        log = []
      },
      settle,
      cpuSeconds: () => processCpuSeconds(proc.pid),
      stop
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/** utime + stime of a process from /proc/PID/stat, in seconds (the kernel reports USER_HZ = 100 ticks per second). */
const processCpuSeconds = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // fields after the parenthesised command name: state is field 3, utime 14, stime 15
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const ticks = Number(fields[11]) + Number(fields[12])
    return Number.isFinite(ticks) ? ticks / 100 : undefined
  } catch {
    return undefined
  }
}

/** Polls GET /v2/ until the registry answers 200 or 401 (a bounded readiness check, not a sleep). */
const waitReady = async (url: string, hasExited: () => boolean, probe: Probe): Promise<void> => {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS
  let lastError = "no answer"
  while (Date.now() < deadline && !hasExited()) {
    try {
      const response = await probe(`${url}/v2/`)
      await response.arrayBuffer()
      if (response.status === 200 || response.status === 401) return
      lastError = `status ${response.status}`
    } catch (error) {
      lastError = String(error)
    }
    // "listening on" is logged after net.Listen, so this backoff is rarely hit
    await Bun.sleep(25)
  }
  throw new Error(`docker-registry at ${url} did not become ready: ${lastError}`)
}

/** Rejects with message() if promise has not settled within ms. */
const withDeadline = <A>(promise: Promise<A>, ms: number, message: () => string): Promise<A> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}
