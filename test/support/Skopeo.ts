/**
 * Small wrappers around the skopeo CLI (1.9.3) for test assertions: an independent client
 * that checks what our code wrote to a registry. TLS verification is off (loopback registries)
 * unless a certs directory is given (`--cert-dir`: `ca.crt`, and `client.cert` + `client.key`
 * for mutual TLS; see writeCertsDirectory in TestCertificates.ts).
 */
import { createHash } from "node:crypto"

/** Options for reading from a registry. */
export interface SkopeoReadOptions {
  /** "user:password" (split by skopeo at the first ":") */
  readonly creds?: string
  /** a ready bearer token (--registry-token) */
  readonly registryToken?: string
  /** a certs.d host directory: TLS verified against its CA, its client certificate presented */
  readonly certDir?: string
}

/** Options for skopeoCopy. */
export interface SkopeoCopyOptions {
  /** copy every image of an index (--all) */
  readonly all?: boolean
  readonly srcCreds?: string
  readonly destCreds?: string
  readonly srcRegistryToken?: string
  readonly destRegistryToken?: string
  /** --preserve-digests (fail rather than change a digest); default true */
  readonly preserveDigests?: boolean
  /** certs.d host directories of the source and destination (TLS verified, client certificate presented) */
  readonly srcCertDir?: string
  readonly destCertDir?: string
}

const dockerRef = (ref: string): string => (ref.startsWith("docker://") ? ref : `docker://${ref}`)

/** TLS flags of one side: verified with its certs directory, unverified without one. */
const tlsFlags = (prefix: "" | "src-" | "dest-", certDir: string | undefined): Array<string> =>
  certDir === undefined ? [`--${prefix}tls-verify=false`] : [`--${prefix}cert-dir`, certDir, `--${prefix}tls-verify=true`]

/** Runs skopeo; throws with its stderr on failure, with credentials and tokens redacted from the message. */
const runSkopeo = async (args: ReadonlyArray<string>, secrets: ReadonlyArray<string | undefined>): Promise<Uint8Array> => {
  const skopeo = Bun.which("skopeo")
  if (skopeo === null) throw new Error("skopeo not found: apt-get install skopeo")
  const proc = Bun.spawn([skopeo, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).arrayBuffer(),
    new Response(proc.stderr).text(),
    proc.exited
  ])
  if (code !== 0) {
    const redact = (text: string): string =>
      secrets.reduce<string>((acc, secret) => (secret === undefined || secret === "" ? acc : acc.split(secret).join("<redacted>")), text)
    throw new Error(redact(`skopeo ${args.join(" ")} failed (exit ${code}): ${stderr.trim()}`))
  }
  return new Uint8Array(stdout)
}

/** The bare secret parts of "user:password" creds, for redaction. */
const credSecrets = (creds: string | undefined): Array<string | undefined> => creds === undefined ? [] : [creds, creds.slice(creds.indexOf(":") + 1)]

/** skopeo inspect --raw --tls-verify=false docker://…; throws with stderr on failure */
export const skopeoInspectRaw = (ref: string, opts: SkopeoReadOptions = {}): Promise<Uint8Array> =>
  runSkopeo(
    [
      "inspect",
      "--raw",
      ...tlsFlags("", opts.certDir),
      ...(opts.creds === undefined ? [] : ["--creds", opts.creds]),
      ...(opts.registryToken === undefined ? [] : ["--registry-token", opts.registryToken]),
      dockerRef(ref)
    ],
    [...credSecrets(opts.creds), opts.registryToken]
  )

/** sha256 digest of the raw manifest bytes skopeo reads */
export const skopeoDigest = async (ref: string, opts: SkopeoReadOptions = {}): Promise<string> =>
  `sha256:${createHash("sha256").update(await skopeoInspectRaw(ref, opts)).digest("hex")}`

/** skopeo copy between docker:// refs, tls-verify false both sides, --preserve-digests by default, --all if asked */
export const skopeoCopy = async (from: string, to: string, opts: SkopeoCopyOptions = {}): Promise<void> => {
  await runSkopeo(
    [
      // no trust policy lookup: tests copy unsigned sample images
      "--insecure-policy",
      "copy",
      ...tlsFlags("src-", opts.srcCertDir),
      ...tlsFlags("dest-", opts.destCertDir),
      ...(opts.all === true ? ["--all"] : []),
      ...(opts.preserveDigests === false ? [] : ["--preserve-digests"]),
      ...(opts.srcCreds === undefined ? [] : ["--src-creds", opts.srcCreds]),
      ...(opts.destCreds === undefined ? [] : ["--dest-creds", opts.destCreds]),
      ...(opts.srcRegistryToken === undefined ? [] : ["--src-registry-token", opts.srcRegistryToken]),
      ...(opts.destRegistryToken === undefined ? [] : ["--dest-registry-token", opts.destRegistryToken]),
      dockerRef(from),
      dockerRef(to)
    ],
    [...credSecrets(opts.srcCreds), ...credSecrets(opts.destCreds), opts.srcRegistryToken, opts.destRegistryToken]
  )
}

/** The tags of a repository as skopeo lists them (`skopeo list-tags`), sorted. */
export const skopeoListTags = async (repository: string): Promise<Array<string>> => {
  const out = await runSkopeo(["list-tags", "--tls-verify=false", dockerRef(repository)], [])
  return ((JSON.parse(new TextDecoder().decode(out)) as { Tags?: Array<string> }).Tags ?? []).sort()
}
