/**
 * TLS per registry, from the definition file: a real docker-registry serving TLS with a
 * certificate from a CA the test makes is synced into with `ca:` for that host (a path relative
 * to the definition), and refused without it with a message naming `ca:`; the same registry
 * requiring client certificates (`http.tls.clientcas`) is synced into with
 * `clientCert`/`clientKey`, and refused without them with a message naming them. A `ca` or
 * client file that cannot be read or is not what it should be: exit 2, file:line:col, no
 * registry contacted. At -j 8, several images each.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { copyFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage } from "../../demo/SampleImages.ts"
import { makeClientCertificates, makeTestCertificates } from "../support/TestCertificates.ts"
import type { ClientCertificates, TestCertificates } from "../support/TestCertificates.ts"
import { describeRun, makeTempDir, readReport, removeDir, resultLines, runCli, settledRequests, SMALL, TWO_PLATFORMS, writeDefinition } from "./helpers.ts"

const TIMEOUT = 120_000
const IMAGES = 8

let dir: string
let certs: TestCertificates
let client: ClientCertificates
let src: LocalRegistry
let tlsDst: LocalRegistry
let mtlsDst: LocalRegistry
const pushed: Array<PushedImage> = []

beforeAll(async () => {
  dir = await makeTempDir("registry-tls")
  certs = await makeTestCertificates(join(dir, "pki"))
  client = await makeClientCertificates(join(dir, "pki"), { name: "syncer" })
  // the definition names its files relative to itself
  await copyFile(certs.ca, join(dir, "corp-ca.pem"))
  await copyFile(client.certificate, join(dir, "client.pem"))
  await copyFile(client.key, join(dir, "client.key"))
  ;[src, tlsDst, mtlsDst] = await Promise.all([
    startRegistry(),
    startRegistry({ tls: { certificate: certs.certificate, key: certs.key } }),
    startRegistry({
      tls: { certificate: certs.certificate, key: certs.key, clientCas: [client.ca], probeClient: { certificate: client.certificate, key: client.key } }
    })
  ])
  for (let i = 0; i < IMAGES; i++) pushed.push(await pushImage(src.url, `tls/app${i}`, "1", { platforms: TWO_PLATFORMS, seed: `registry-tls-${i}`, ...SMALL }))
}, TIMEOUT)

afterAll(async () => {
  await Promise.all([src?.stop(), tlsDst?.stop(), mtlsDst?.stop()])
  await removeDir(dir)
}, 60_000)

const images = () => pushed.map((_, i) => ({ source: `${src.host}/tls/app${i}:1` }))

const sync = (file: string) => runCli(["-i", file, "-j", "8", "--report", `${file}.report.json`], { home: dir })

type Tls = { readonly ca?: string; readonly clientCert?: string; readonly clientKey?: string }

const definition = (name: string, target: LocalRegistry, tls: Tls) =>
  writeDefinition(
    dir,
    `${name}.yaml`,
    {
      targetRepoPrefix: `${target.host}/${name}/`,
      ...(Object.keys(tls).length > 0 ? { registries: { [target.host]: tls } } : {}),
      images: images()
    } as Parameters<typeof writeDefinition>[2]
  )

describe("a registry with a private CA", () => {
  test("with ca: for its host, every image synced over TLS", async () => {
    const file = await definition("with-ca", tlsDst, { ca: "corp-ca.pem" })
    const run = await sync(file)
    expect(run.code, describeRun(run)).toBe(0)
    expect(resultLines(run).map((l) => l.status)).toEqual(Array(IMAGES).fill("synced"))
    const res = await fetch(`${tlsDst.url}/v2/with-ca/${src.host.replace(":", "-")}/tls/app0/manifests/1`, {
      method: "HEAD",
      headers: { accept: pushed[0]!.mediaType },
      tls: { ca: certs.ca ? await Bun.file(certs.ca).text() : undefined }
    } as RequestInit)
    expect(res.headers.get("docker-content-digest")).toBe(pushed[0]!.digest)
  }, TIMEOUT)

  test("without it, every image failed with a message naming ca:, and nothing written", async () => {
    await tlsDst.resetRequests()
    const file = await definition("without-ca", tlsDst, {})
    const run = await sync(file)
    expect(run.code, describeRun(run)).toBe(1)
    const report = await readReport(`${file}.report.json`)
    for (const image of report.images) {
      expect(image.status).toBe("failed")
      expect(image.error).toContain("TLS certificate not trusted")
      expect(image.error).toContain("ca: for this registry")
    }
    expect((await settledRequests(tlsDst)).filter((r) => r.method !== "GET" && r.method !== "HEAD")).toEqual([])
  }, TIMEOUT)
})

describe("a registry that wants a client certificate", () => {
  test("with clientCert and clientKey (and its ca), every image synced", async () => {
    const file = await definition("with-client", mtlsDst, { ca: "corp-ca.pem", clientCert: "client.pem", clientKey: "client.key" })
    const run = await sync(file)
    expect(run.code, describeRun(run)).toBe(0)
    expect(resultLines(run).map((l) => l.status)).toEqual(Array(IMAGES).fill("synced"))
  }, TIMEOUT)

  test("without them, every image failed with a message naming clientCert and clientKey", async () => {
    const file = await definition("without-client", mtlsDst, { ca: "corp-ca.pem" })
    const run = await sync(file)
    expect(run.code, describeRun(run)).toBe(1)
    const report = await readReport(`${file}.report.json`)
    for (const image of report.images) {
      expect(image.status).toBe("failed")
      expect(image.error).toContain("clientCert and clientKey")
    }
  }, TIMEOUT)
})

describe("TLS files that cannot be used: exit 2 at the key that names them, nothing contacted", () => {
  const cases: ReadonlyArray<readonly [string, Tls, () => Promise<void>, RegExp]> = [
    ["a missing ca file", { ca: "nowhere.pem" }, async () => {}, /:4:9: registries\.127\.0\.0\.1:\d+: cannot read ca "nowhere\.pem": no such file/],
    [
      "a ca file that holds no certificate",
      { ca: "not-a-cert.pem" },
      () => writeFile(join(dir, "not-a-cert.pem"), "hello\n"),
      /ca "not-a-cert\.pem" holds no PEM certificate/
    ],
    [
      "a clientKey that is not a key",
      { ca: "corp-ca.pem", clientCert: "client.pem", clientKey: "corp-ca.pem" },
      async () => {},
      /clientKey "corp-ca\.pem" is not a PEM private key/
    ],
    ["a clientCert without its clientKey", { clientCert: "client.pem" }, async () => {}, /clientCert needs clientKey beside it/],
    [
      "a clientKey that is another certificate's",
      { clientCert: "client.pem", clientKey: "server.key" },
      () => copyFile(certs.key, join(dir, "server.key")),
      /clientKey "server\.key" is not the key of clientCert "client\.pem"/
    ]
  ]
  for (const [name, tls, prepare, message] of cases) {
    test(name, async () => {
      await prepare()
      await Promise.all([src.resetRequests(), mtlsDst.resetRequests()])
      const file = await definition(`bad-${name.replace(/\W+/g, "-").toLowerCase()}`, mtlsDst, tls)
      const run = await sync(file)
      expect(run.code, describeRun(run)).toBe(2)
      expect(run.stderr).toMatch(message)
      expect(run.stderr).not.toContain("    at ")
      expect(await settledRequests(src)).toEqual([])
    }, TIMEOUT)
  }
})
