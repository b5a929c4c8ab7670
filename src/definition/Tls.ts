/**
 * TLS material per registry host, read when a definition is loaded — before any request:
 * `registries.<host>.ca` (CAs trusted for that host beside the system's), `clientCert` and
 * `clientKey` (mutual TLS), relative to the definition file; and what docker and podman read
 * for a host (`/etc/docker/certs.d/<host>/`, `/etc/containers/certs.d/<host>/`, and
 * `~/.config/containers/certs.d/<host>/`: `*.crt` CAs, `*.cert` + `*.key` client pairs). A
 * file that cannot be read, or is not what it should be, is a definition problem at the key
 * that names it; the definition's own files win over a certs.d directory.
 */
import { Effect } from "effect"
import { createPrivateKey, X509Certificate } from "node:crypto"
import { readdir } from "node:fs/promises"
import { homedir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { readFailureReason, readTextCapped } from "../model/InputFile.ts"
import type { RegistryOptions, TlsMaterial } from "../model/Location.ts"
import type { Definition, FileReference, TlsFiles } from "./Definition.ts"
import type { DefinitionProblem } from "./Problems.ts"

/** Where docker and podman keep per-host certificates. */
export const defaultCertsDirs = (): ReadonlyArray<string> => [
  "/etc/docker/certs.d",
  "/etc/containers/certs.d",
  join(homedir(), ".config", "containers", "certs.d")
]

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** Why PEM text is not a certificate bundle (undefined: it is one). */
const certificateProblem = (pem: string): string | undefined => {
  const blocks = pem.match(PEM_CERT) ?? []
  if (blocks.length === 0) return "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
  for (const block of blocks) {
    try {
      new X509Certificate(block)
    } catch (e) {
      return `holds a certificate that cannot be read (${e instanceof Error ? e.message : String(e)})`
    }
  }
  return undefined
}

/** Why PEM text is not a private key (undefined: it is one). */
const keyProblem = (pem: string): string | undefined => {
  try {
    createPrivateKey(pem)
    return undefined
  } catch {
    return "is not a PEM private key"
  }
}

type Read = { readonly text: string } | { readonly problem: string }

const readText = (path: string): Promise<Read> => readTextCapped(path).then((text) => ({ text }), (e: unknown) => ({ problem: readFailureReason(e) }))

/** The TLS material the definition names for one host, or the problems with it. */
const fromDefinition = async (base: string, host: string, files: TlsFiles): Promise<{ tls: TlsMaterial; problems: Array<DefinitionProblem> }> => {
  const problems: Array<DefinitionProblem> = []
  const entry = `registries.${host}`
  const read = async (key: "ca" | "clientCert" | "clientKey", ref: FileReference, check: (pem: string) => string | undefined) => {
    const path = resolve(base, ref.path)
    const got = await readText(path)
    const problem = "problem" in got
      ? `cannot read ${key} "${ref.path}": ${got.problem}`
      : check(got.text) === undefined
      ? undefined
      : `${key} "${ref.path}" ${check(got.text)}`
    if (problem !== undefined) {
      problems.push({ line: ref.line, column: ref.column, entry, message: problem })
      return undefined
    }
    return "text" in got ? got.text : undefined
  }
  const ca = files.ca ? await read("ca", files.ca, certificateProblem) : undefined
  const cert = files.clientCert ? await read("clientCert", files.clientCert, certificateProblem) : undefined
  const key = files.clientKey ? await read("clientKey", files.clientKey, keyProblem) : undefined
  if (cert !== undefined && key !== undefined && files.clientCert) {
    try {
      if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) {
        problems.push({
          line: files.clientCert.line,
          column: files.clientCert.column,
          entry,
          message: `clientKey "${files.clientKey?.path}" is not the key of clientCert "${files.clientCert.path}"`
        })
      }
    } catch {
      // already reported as unreadable above
    }
  }
  return { tls: { ...(ca !== undefined ? { ca } : {}), ...(cert !== undefined ? { cert } : {}), ...(key !== undefined ? { key } : {}) }, problems }
}

/** What a certs.d directory holds for `host`: CAs (`*.crt`) and a client pair (`*.cert` + `*.key`); nothing when it does not exist. */
export const readCertsDir = async (dir: string): Promise<{ tls: TlsMaterial; problems: Array<string> }> => {
  let names: Array<string>
  try {
    names = (await readdir(dir)).sort()
  } catch {
    return { tls: {}, problems: [] }
  }
  const problems: Array<string> = []
  const cas: Array<string> = []
  let pair: { cert: string; key: string } | undefined
  for (const name of names) {
    if (name.endsWith(".crt")) {
      const got = await readText(join(dir, name))
      const problem = "problem" in got ? got.problem : certificateProblem(got.text)
      if (problem !== undefined) problems.push(`${join(dir, name)}: ${problem}`)
      else if ("text" in got) cas.push(got.text)
    }
    if (name.endsWith(".cert") && pair === undefined) {
      const keyName = `${name.slice(0, -".cert".length)}.key`
      if (!names.includes(keyName)) {
        problems.push(`${join(dir, name)}: no ${keyName} beside it`)
        continue
      }
      const [cert, key] = await Promise.all([readText(join(dir, name)), readText(join(dir, keyName))])
      const problem = "problem" in cert ? cert.problem : "problem" in key ? key.problem : certificateProblem(cert.text) ?? keyProblem(key.text)
      if (problem !== undefined) problems.push(`${join(dir, name)}: ${problem}`)
      else if ("text" in cert && "text" in key) pair = { cert: cert.text, key: key.text }
    }
  }
  return { tls: { ...(cas.length > 0 ? { ca: cas.join("\n") } : {}), ...(pair ? pair : {}) }, problems }
}

/** Every registry host the run contacts: sources (or their mirrors) and targets. */
const contactedHosts = (definition: Definition): ReadonlySet<string> => {
  const hosts = new Set<string>()
  for (const e of definition.images) {
    const mirror = definition.registries.get(e.reference.registry)?.mirror
    hosts.add(mirror ?? e.reference.registry)
    for (const t of e.targets) hosts.add(t.registry)
  }
  return hosts
}

/**
 * The definition with TLS material on its registries: the files it names (relative to it),
 * else a certs.d directory for the host; problems with file:line:col where the file names them.
 */
export const loadTls = (
  definition: Definition,
  certsDirs: ReadonlyArray<string> = defaultCertsDirs()
): Effect.Effect<{ readonly definition: Definition; readonly problems: ReadonlyArray<DefinitionProblem> }> =>
  Effect.promise(async () => {
    const base = dirname(resolve(definition.file))
    const problems: Array<DefinitionProblem> = []
    const registries = new Map<string, RegistryOptions>(definition.registries)
    const withTls = (host: string, tls: TlsMaterial) => {
      if (Object.keys(tls).length === 0) return
      const known = registries.get(host) ?? { mirror: undefined, insecure: false }
      registries.set(host, { ...known, tls: { ...tls, ...known.tls } })
    }
    for (const [host, files] of definition.tlsFiles ?? []) {
      const got = await fromDefinition(base, host, files)
      problems.push(...got.problems)
      withTls(host, got.tls)
    }
    for (const host of contactedHosts(definition)) {
      for (const root of certsDirs) {
        const got = await readCertsDir(join(root, host))
        for (const p of got.problems) problems.push({ line: 0, column: 0, entry: undefined, message: `certificates for ${host}: ${p}` })
        withTls(host, got.tls)
      }
    }
    return { definition: { ...definition, registries }, problems }
  })
