/**
 * TLS for real registries in tests: certificates made with openssl serve a docker-registry over
 * TLS that skopeo trusts through a certs directory holding the test CA, and, with
 * `http.tls.clientcas`, a registry that lets in only clients presenting a certificate from the
 * client CA: skopeo with the client certificate reads from it, without one (or with one from
 * another CA) the handshake is refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { X509Certificate } from "node:crypto"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage } from "../../demo/SampleImages.ts"
import { makeTempDir, removeDir, SMALL, TWO_PLATFORMS } from "../integration/helpers.ts"
import { skopeoCopy, skopeoDigest } from "./Skopeo.ts"
import { makeClientCertificates, makeTestCertificates, writeCertsDirectory } from "./TestCertificates.ts"
import type { ClientCertificates, TestCertificates } from "./TestCertificates.ts"

let dir: string
let server: TestCertificates
let client: ClientCertificates
/** a client certificate from the server's CA, which the mutual-TLS registry does not list */
let stranger: ClientCertificates
let source: LocalRegistry
let tls: LocalRegistry
let mutual: LocalRegistry
let image: PushedImage

/** certs.d/<host>/ directories for skopeo */
const certsDir = (name: string, host: string, files: Parameters<typeof writeCertsDirectory>[1]) => writeCertsDirectory(join(dir, name, host), files)

beforeAll(async () => {
  dir = await makeTempDir("certs")
  server = await makeTestCertificates(join(dir, "server"))
  client = await makeClientCertificates(join(dir, "client"))
  stranger = await makeClientCertificates(join(dir, "stranger"), { signer: server })
  ;[source, tls, mutual] = await Promise.all([
    startRegistry(),
    startRegistry({ tls: { certificate: server.certificate, key: server.key } }),
    startRegistry({ tls: { certificate: server.certificate, key: server.key, clientCas: [client.ca], probeClient: client } })
  ])
  image = await pushImage(source.url, "tls/app", "1", { platforms: TWO_PLATFORMS, seed: "certificates", ...SMALL })
}, 60_000)

afterAll(async () => {
  await Promise.all([source?.stop(), tls?.stop(), mutual?.stop()])
  await removeDir(dir)
}, 30_000)

describe("certificates", () => {
  test("a client certificate is issued by a CA of its own unless a signer is given; the server certificate names 127.0.0.1 and localhost", async () => {
    const x509 = async (path: string) => new X509Certificate(await readFile(path))
    const [serverCa, serverCert, clientCa, clientCert, strangerCert] = await Promise.all(
      [server.ca, server.certificate, client.ca, client.certificate, stranger.certificate].map(x509)
    )
    expect(clientCert!.checkIssued(clientCa!)).toBe(true)
    expect(clientCert!.checkIssued(serverCa!)).toBe(false)
    expect(strangerCert!.checkIssued(serverCa!)).toBe(true)
    expect(clientCert!.keyUsage).toContain("1.3.6.1.5.5.7.3.2")
    expect(serverCert!.checkIP("127.0.0.1")).toBe("127.0.0.1")
    expect(serverCert!.checkHost("localhost")).toBe("localhost")
  })
})

describe("a docker-registry serving TLS with a certificate from the test CA", () => {
  test("skopeo with the CA copies into it and reads back the same digest", async () => {
    const trusted = await certsDir("trusted", tls.host, { ca: server.ca })
    await skopeoCopy(`${source.host}/tls/app:1`, `${tls.host}/tls/app:1`, { all: true, destCertDir: trusted })
    expect(await skopeoDigest(`${tls.host}/tls/app:1`, { certDir: trusted })).toBe(image.digest)
    expect(tls.url).toBe(`https://${tls.host}`)
  })

  test("without the CA skopeo refuses the certificate", async () => {
    const empty = await certsDir("empty", tls.host, {})
    await expect(skopeoDigest(`${tls.host}/tls/app:1`, { certDir: empty })).rejects.toThrow(/certificate signed by unknown authority/)
  })
})

describe("the same registry requiring client certificates (http.tls.clientcas)", () => {
  test("skopeo with the CA and the client certificate copies into it and reads it back; the launcher's own log still works", async () => {
    const withClient = await certsDir("mutual", mutual.host, { ca: server.ca, client })
    await skopeoCopy(`${source.host}/tls/app:1`, `${mutual.host}/tls/app:1`, { all: true, destCertDir: withClient })
    expect(await skopeoDigest(`${mutual.host}/tls/app:1`, { certDir: withClient })).toBe(image.digest)
    await mutual.settle()
    expect(mutual.requests().some((r) => r.method === "PUT" && r.path === "/v2/tls/app/manifests/1" && r.status === 201)).toBe(true)
  })

  test("without a client certificate the handshake is refused, for skopeo and for fetch", async () => {
    const caOnly = await certsDir("ca-only", mutual.host, { ca: server.ca })
    await expect(skopeoDigest(`${mutual.host}/tls/app:1`, { certDir: caOnly })).rejects.toThrow(/tls: (bad certificate|certificate required)/)
    await expect(fetch(`${mutual.url}/v2/`, { proxy: false, tls: { ca: Bun.file(server.ca) } })).rejects.toThrow()
  })

  test("a client certificate from a CA the registry does not list is refused; one from the listed CA is let in", async () => {
    const present = (who: ClientCertificates) =>
      fetch(`${mutual.url}/v2/`, { proxy: false, tls: { ca: Bun.file(server.ca), cert: Bun.file(who.certificate), key: Bun.file(who.key) } })
    await expect(present(stranger)).rejects.toThrow()
    expect((await present(client)).status).toBe(200)
  })

  test("the launcher wants the certificate its own probes present", async () => {
    await expect(startRegistry({ tls: { certificate: server.certificate, key: server.key, clientCas: [client.ca] } })).rejects.toThrow(
      "startRegistry: tls.clientCas needs tls.probeClient"
    )
  })
})
