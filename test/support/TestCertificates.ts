/**
 * Certificates for TLS tests, made with openssl in a temp dir: a CA and a server certificate
 * for 127.0.0.1/localhost, client certificates (mutual TLS) from the same or another CA, and
 * a docker/podman style `certs.d` host directory that skopeo (`--cert-dir`) and docker read.
 */
import { copyFile, mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"

/** A CA and a server certificate for 127.0.0.1/localhost, made with openssl. */
export interface TestCertificates {
  /** CA certificate (PEM path): what NODE_EXTRA_CA_CERTS points at */
  readonly ca: string
  /** CA key (PEM path): signs further certificates, e.g. client certificates from the same CA */
  readonly caKey: string
  /** server certificate (PEM path), signed by the CA, SAN IP:127.0.0.1, DNS:localhost */
  readonly certificate: string
  /** server key (PEM path) */
  readonly key: string
}

/** A client certificate for mutual TLS and the CA that signed it. */
export interface ClientCertificates {
  /** the CA that signed the client certificate (PEM path): what `http.tls.clientcas` lists */
  readonly ca: string
  /** client certificate (PEM path), extendedKeyUsage clientAuth */
  readonly certificate: string
  /** client key (PEM path) */
  readonly key: string
}

const openssl = async (args: ReadonlyArray<string>, cwd: string): Promise<void> => {
  const binary = Bun.which("openssl")
  if (binary === null) throw new Error("openssl not found: apt-get install openssl")
  const proc = Bun.spawn([binary, ...args], { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" })
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited, new Response(proc.stdout).text()])
  if (code !== 0) throw new Error(`openssl ${args[0]} failed (exit ${code}): ${stderr.trim()}`)
}

/** The openssl req arguments for a new unencrypted P-256 key. */
export const NEW_P256_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

/** A self-signed P-256 CA `<name>.pem` + `<name>.key` in dir, valid 2 days. */
const makeCa = async (dir: string, name: string, subject: string): Promise<{ readonly cert: string; readonly key: string }> => {
  await openssl([
    "req",
    "-x509",
    ...NEW_P256_KEY,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-subj",
    subject,
    "-days",
    "2",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign"
  ], dir)
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) }
}

/** A P-256 leaf `<name>.pem` + `<name>.key` signed by the CA, with the given extensions. */
const makeLeaf = async (
  dir: string,
  name: string,
  subject: string,
  ca: { readonly cert: string; readonly key: string },
  extensions: ReadonlyArray<string>
): Promise<{ readonly cert: string; readonly key: string }> => {
  await writeFile(join(dir, `${name}.ext`), [...extensions, ""].join("\n"))
  await openssl([
    "req",
    ...NEW_P256_KEY,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    subject
  ], dir)
  await openssl([
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    ca.cert,
    "-CAkey",
    ca.key,
    "-CAcreateserial",
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-extfile",
    `${name}.ext`
  ], dir)
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) }
}

/** Makes a test CA and a server certificate for 127.0.0.1 in `dir` (P-256 keys, 2 days). */
export const makeTestCertificates = async (dir: string): Promise<TestCertificates> => {
  await mkdir(dir, { recursive: true })
  const ca = await makeCa(dir, "ca", "/CN=image-syncer test CA")
  const server = await makeLeaf(dir, "server", "/CN=127.0.0.1", ca, [
    "basicConstraints=CA:FALSE",
    "keyUsage=digitalSignature,keyEncipherment",
    "extendedKeyUsage=serverAuth",
    "subjectAltName=IP:127.0.0.1,DNS:localhost"
  ])
  return { ca: ca.cert, caKey: ca.key, certificate: server.cert, key: server.key }
}

/**
 * Makes a client certificate `<name>.pem` + `<name>.key` in `dir`, signed by `signer` (e.g. the
 * server's CA from makeTestCertificates) or, without one, by a CA of its own (`<name>-ca.pem`),
 * so a test can tell a client CA apart from the server's.
 */
export const makeClientCertificates = async (
  dir: string,
  options: { readonly name?: string; readonly signer?: { readonly ca: string; readonly caKey: string } } = {}
): Promise<ClientCertificates> => {
  await mkdir(dir, { recursive: true })
  const name = options.name ?? "client"
  const ca = options.signer === undefined
    ? await makeCa(dir, `${name}-ca`, `/CN=image-syncer test client CA ${name}`)
    : { cert: options.signer.ca, key: options.signer.caKey }
  const client = await makeLeaf(dir, name, `/CN=image-syncer test client ${name}`, ca, [
    "basicConstraints=CA:FALSE",
    "keyUsage=digitalSignature",
    "extendedKeyUsage=clientAuth"
  ])
  return { ca: ca.cert, certificate: client.cert, key: client.key }
}

/**
 * Lays out a docker/podman `certs.d/<host>/` directory: `ca.crt` (trusted CA) and, for mutual
 * TLS, `client.cert` + `client.key`. What `skopeo --cert-dir`, docker and podman read.
 */
export const writeCertsDirectory = async (
  dir: string,
  files: { readonly ca?: string; readonly client?: { readonly certificate: string; readonly key: string } }
): Promise<string> => {
  await mkdir(dir, { recursive: true })
  if (files.ca !== undefined) await copyFile(files.ca, join(dir, "ca.crt"))
  if (files.client !== undefined) {
    await copyFile(files.client.certificate, join(dir, "client.cert"))
    await copyFile(files.client.key, join(dir, "client.key"))
  }
  return dir
}
