/**
 * bcrypt htpasswd entries for distribution's `auth: htpasswd` (oci-protocol.md §6.2).
 * The hashing lives in demo/LocalRegistry.ts (perl crypt(3), $2y$05$) so src never imports test code.
 */
import { writeFile } from "node:fs/promises"
import { bcryptHtpasswdLine } from "../../demo/LocalRegistry.ts"

/** One htpasswd line `user:$2y$05$…` for the given credentials. */
export const htpasswdLine = (username: string, password: string): Promise<string> => bcryptHtpasswdLine(username, password)

/** Writes an htpasswd file (mode 0600) with one bcrypt line per user. */
export const writeHtpasswd = async (path: string, users: Readonly<Record<string, string>>): Promise<void> => {
  const lines = await Promise.all(Object.entries(users).map(([user, password]) => bcryptHtpasswdLine(user, password)))
  await writeFile(path, lines.map((line) => `${line}\n`).join(""), { mode: 0o600 })
}

/** True when password matches the bcrypt hash of an htpasswd line (re-hashes with crypt(3) and the line's salt). */
export const verifyHtpasswd = async (line: string, password: string): Promise<boolean> => {
  const hash = line.slice(line.indexOf(":") + 1).trim()
  const proc = Bun.spawn(["perl", "-e", "print crypt($ENV{HTPASSWD_PW}, $ENV{HTPASSWD_HASH}) eq $ENV{HTPASSWD_HASH} ? 1 : 0"], {
    env: { PATH: process.env["PATH"] ?? "", HTPASSWD_PW: password, HTPASSWD_HASH: hash },
    stdout: "pipe",
    stderr: "pipe"
  })
  const [out, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`perl crypt() failed (exit ${code}): ${stderr.trim()}`)
  return out === "1"
}
