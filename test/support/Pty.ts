/**
 * Runs a command under a pseudo-terminal (util-linux `script`), so the child sees a TTY on
 * stdout and stderr. The terminal's size is set with stty first (a fresh pty has 0 columns).
 * What the child wrote comes back as the terminal received it (newlines as "\r\n").
 */

/** What a run under a pty produced. */
export interface PtyRun {
  readonly code: number
  /** everything written to the terminal (stdout and stderr together) */
  readonly output: string
}

const quote = (arg: string): string => `'${arg.replace(/'/g, "'\\''")}'`

/** Runs argv in a pty of the given size; env replaces the environment (PATH is needed). */
export const runInPty = async (
  argv: ReadonlyArray<string>,
  options: {
    readonly cwd?: string
    readonly env: Readonly<Record<string, string>>
    readonly columns?: number
    readonly rows?: number
  }
): Promise<PtyRun> => {
  const script = Bun.which("script", { PATH: options.env["PATH"] ?? process.env["PATH"] ?? "" })
  if (script === null) throw new Error("script not found: apt-get install util-linux (or bsdutils)")
  const command = `stty cols ${options.columns ?? 120} rows ${options.rows ?? 40}; exec ${argv.map(quote).join(" ")}`
  const proc = Bun.spawn([script, "--quiet", "--return", "--command", command, "/dev/null"], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  const [output, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, output: `${output}${stderr}` }
}
