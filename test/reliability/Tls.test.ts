/**
 * TLS and plain HTTP (must-hold 6). A docker-registry serving TLS with a certificate from a
 * test CA (openssl; SAN IP:127.0.0.1) is the TARGET: trusted through NODE_EXTRA_CA_CERTS, refused
 * without it with a message that says how to fix it, usable unverified only with
 * `insecure: true`. Plain HTTP is for loopback hosts; a non-loopback host (this machine's own
 * non-loopback address, a FaultProxy listening there) is contacted over https unless the
 * definition marks it `insecure: true`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { readFile } from "node:fs/promises"
import { networkInterfaces } from "node:os"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage } from "../../demo/SampleImages.ts"
import { startFaultProxy, verifyTree } from "../support/FaultProxy.ts"
import type { FaultProxy } from "../support/FaultProxy.ts"
import { makeTestCertificates } from "../support/TestCertificates.ts"
import type { TestCertificates } from "../support/TestCertificates.ts"
import {
  describeRun,
  headManifest,
  lineFor,
  makeTempDir,
  readReport,
  removeDir,
  reportFor,
  runCli,
  SMALL,
  TWO_PLATFORMS,
  writeDefinition
} from "../integration/helpers.ts"
import type { CliRun, Report } from "../integration/helpers.ts"
import { endpointFor } from "../../src/model/Location.ts"

/** This machine's first non-loopback IPv4 address: a host that is not loopback but still reachable here. */
const nonLoopbackAddress = (): string => {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address
  }
  throw new Error("no non-loopback IPv4 address on this machine: the plain-HTTP test needs one")
}

let certs: TestCertificates
let caPem: string
let src: LocalRegistry
let tlsDst: LocalRegistry
let plainDst: LocalRegistry
let remote: FaultProxy
let dir: string
let image: PushedImage
const runs = new Map<string, { readonly run: CliRun; readonly report: Report }>()
/** what the non-loopback host saw during the run without `insecure` */
let remoteSeen = { tlsHandshakes: 0, httpRequests: 0 }

const source = () => `${src.host}/tls/app:1`
const targetRepository = (prefix: string) => `${prefix}/${src.host.replace(":", "-")}/tls/app`

const sync = async (name: string, spec: Parameters<typeof writeDefinition>[2], env: Record<string, string> = {}) => {
  const file = await writeDefinition(dir, `${name}.yaml`, spec)
  const reportPath = join(dir, `${name}.report.json`)
  const run = await runCli(["-i", file, "--report", reportPath], { home: dir, env })
  const result = { run, report: await readReport(reportPath) }
  runs.set(name, result)
  return result
}

const runOf = (name: string) => {
  const r = runs.get(name)
  if (r === undefined) throw new Error(`no run ${name}`)
  return r
}

beforeAll(async () => {
  dir = await makeTempDir("tls")
  certs = await makeTestCertificates(join(dir, "certs"))
  caPem = await readFile(certs.ca, "utf8")
  ;[src, tlsDst, plainDst] = await Promise.all([
    startRegistry(),
    startRegistry({ tls: { certificate: certs.certificate, key: certs.key } }),
    startRegistry()
  ])
  image = await pushImage(src.url, "tls/app", "1", { platforms: TWO_PLATFORMS, seed: "tls-app", ...SMALL })
  remote = await startFaultProxy({ upstream: src.url, hostname: nonLoopbackAddress(), seed: "tls" })

  await sync("with-ca", { targetRepoPrefix: `${tlsDst.host}/with-ca/`, images: [{ source: source() }] }, { NODE_EXTRA_CA_CERTS: certs.ca })
  await sync("without-ca", { targetRepoPrefix: `${tlsDst.host}/without-ca/`, images: [{ source: source() }] })
  await sync("insecure", {
    targetRepoPrefix: `${tlsDst.host}/insecure/`,
    registries: { [tlsDst.host]: { insecure: true } },
    images: [{ source: source() }]
  })
  // a source on a non-loopback host that speaks plain HTTP only
  await sync("remote-https", { targetRepoPrefix: `${plainDst.host}/remote-https/`, images: [{ source: `${remote.host}/tls/app:1` }] })
  remoteSeen = { tlsHandshakes: remote.nonHttpConnections(), httpRequests: remote.requests().length }
  await sync("remote-insecure", {
    targetRepoPrefix: `${plainDst.host}/remote-insecure/`,
    registries: { [remote.host]: { insecure: true } },
    images: [{ source: `${remote.host}/tls/app:1` }]
  })
}, 120_000)

afterAll(async () => {
  await remote?.stop()
  await Promise.all([src?.stop(), tlsDst?.stop(), plainDst?.stop()])
  await removeDir(dir)
}, 60_000)

describe("must-hold 6: a TLS target registry with a certificate from a private CA", () => {
  test("with NODE_EXTRA_CA_CERTS=ca.pem: exit 0, synced over https, every digest verified", async () => {
    const { run } = runOf("with-ca")
    expect(run.code, describeRun(run)).toBe(0)
    expect(lineFor(run, source()).status).toBe("synced")
    const tree = await verifyTree(tlsDst.url, targetRepository("with-ca"), "1", {}, caPem)
    expect(tree.digest).toBe(image.digest)
    expect(tree.problems).toEqual([])
  })

  test("without it: the image failed with a message naming the host and NODE_EXTRA_CA_CERTS; exit 1; nothing written", async () => {
    const { run, report } = runOf("without-ca")
    expect(run.code, describeRun(run)).toBe(1)
    const line = lineFor(run, source())
    expect(line.status).toBe("failed")
    expect(line.error).toContain(tlsDst.host)
    expect(line.error).toContain("TLS certificate not trusted")
    expect(line.error).toContain("NODE_EXTRA_CA_CERTS")
    expect(reportFor(report, source()).errorType).toBe("TransportFailure")
    // an expected error: one line, no stack trace
    expect(run.stderr).not.toMatch(/^\s+at /m)
    const head = await fetch(`${tlsDst.url}/v2/${targetRepository("without-ca")}/manifests/1`, { method: "HEAD", tls: { ca: caPem }, proxy: false })
    expect(head.status).toBe(404)
  })

  test("insecure: true for that host: synced without the CA (verification skipped for that host only)", async () => {
    const { run } = runOf("insecure")
    expect(run.code, describeRun(run)).toBe(0)
    const tree = await verifyTree(tlsDst.url, targetRepository("insecure"), "1", {}, caPem)
    expect(tree.digest).toBe(image.digest)
  })
})

describe("plain HTTP only for loopback or insecure: true", () => {
  test("a non-loopback host is contacted over https: not one plain-HTTP request reached it, and the image failed", () => {
    const { run } = runOf("remote-https")
    expect(run.code, describeRun(run)).toBe(1)
    expect(lineFor(run, `${remote.host}/tls/app:1`).status).toBe("failed")
    // TLS handshakes were tried (and answered as a plain HTTP server would); no HTTP request was sent
    expect(remoteSeen.tlsHandshakes).toBeGreaterThan(0)
    expect(remoteSeen.httpRequests).toBe(0)
  })

  test("the same host marked insecure: true is read over plain HTTP: exit 0, synced byte for byte", async () => {
    const { run } = runOf("remote-insecure")
    expect(run.code, describeRun(run)).toBe(0)
    expect(remote.requests().length).toBeGreaterThan(0)
    const tree = await verifyTree(plainDst.url, `remote-insecure/${remote.host.replace(":", "-")}/tls/app`, "1")
    expect(tree.digest).toBe(image.digest)
    expect(tree.problems).toEqual([])
  })

  test("endpoints: loopback → http; a non-loopback host → https with verification; insecure → http for that host only", () => {
    const address = `${nonLoopbackAddress()}:5000`
    expect(endpointFor("127.0.0.1:5000", new Map(), "target")).toMatchObject({ scheme: "http", skipTlsVerify: false })
    expect(endpointFor(address, new Map(), "source")).toMatchObject({ scheme: "https", skipTlsVerify: false })
    expect(endpointFor(address, new Map([[address, { mirror: undefined, insecure: true }]]), "source")).toMatchObject({ scheme: "http", skipTlsVerify: true })
    expect(endpointFor("registry.example.com", new Map([[address, { mirror: undefined, insecure: true }]]), "target")).toMatchObject({
      scheme: "https",
      skipTlsVerify: false
    })
  })

  test("the target tag of the refused run is absent", async () => {
    expect((await headManifest(plainDst.url, `remote-https/${remote.host.replace(":", "-")}/tls/app`, "1")).status).toBe(404)
  })
})
