/** TLS material from docker's and podman's certs.d directories (`<root>/<host>/`): CAs, a client pair, problems named. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Either } from "effect"
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { parseDefinition } from "../../src/definition/Parse.ts"
import { loadTls } from "../../src/definition/Tls.ts"
import { makeTempDir, removeDir } from "../integration/helpers.ts"
import { makeClientCertificates, makeTestCertificates, writeCertsDirectory } from "../support/TestCertificates.ts"
import type { ClientCertificates, TestCertificates } from "../support/TestCertificates.ts"

let dir: string
let certs: TestCertificates
let client: ClientCertificates

beforeAll(async () => {
  dir = await makeTempDir("tls-certs-d")
  certs = await makeTestCertificates(join(dir, "pki"))
  client = await makeClientCertificates(join(dir, "pki"))
}, 60_000)

afterAll(() => removeDir(dir))

const definitionFor = (host: string, registries = "") => {
  const parsed = parseDefinition(join(dir, "images.yaml"), `targetRepoPrefix: "${host}/mirror/"\n${registries}images:\n  - source: "${host}/team/app:1"\n`)
  if (Either.isLeft(parsed)) throw new Error(parsed.left.message)
  return parsed.right
}

describe("certs.d", () => {
  test("a host's directory gives its CAs (*.crt) and its client pair (*.cert + *.key)", async () => {
    const root = join(dir, "docker-certs.d")
    await writeCertsDirectory(join(root, "registry.corp:5000"), { ca: certs.ca, client })
    const { definition, problems } = await Effect.runPromise(loadTls(definitionFor("registry.corp:5000"), [root]))
    expect(problems).toEqual([])
    const tls = definition.registries.get("registry.corp:5000")?.tls
    expect(tls?.ca).toBe(await readFile(certs.ca, "utf8"))
    expect(tls?.cert).toBe(await readFile(client.certificate, "utf8"))
    expect(tls?.key).toBe(await readFile(client.key, "utf8"))
  })

  test("the definition's own ca wins over a certs.d directory", async () => {
    const root = join(dir, "other-certs.d")
    await writeCertsDirectory(join(root, "registry.corp:5001"), { ca: client.ca })
    await copyFile(certs.ca, join(dir, "own-ca.pem"))
    const def = definitionFor("registry.corp:5001", `registries:\n  "registry.corp:5001":\n    ca: "own-ca.pem"\n`)
    const { definition, problems } = await Effect.runPromise(loadTls(def, [root]))
    expect(problems).toEqual([])
    expect(definition.registries.get("registry.corp:5001")?.tls?.ca).toBe(await readFile(certs.ca, "utf8"))
  })

  test("a .crt that is not a certificate, or a .cert without its .key, is a problem naming the file", async () => {
    const root = join(dir, "bad-certs.d")
    const host = join(root, "registry.corp:5002")
    await mkdir(host, { recursive: true })
    await writeFile(join(host, "ca.crt"), "not a certificate\n")
    await copyFile(client.certificate, join(host, "client.cert"))
    const { problems } = await Effect.runPromise(loadTls(definitionFor("registry.corp:5002"), [root]))
    expect(problems.map((p) => p.message)).toEqual([
      `certificates for registry.corp:5002: ${join(host, "ca.crt")}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      `certificates for registry.corp:5002: ${join(host, "client.cert")}: no client.key beside it`
    ])
  })

  test("a host without a directory gets nothing, and no problem", async () => {
    const { definition, problems } = await Effect.runPromise(loadTls(definitionFor("registry.corp:5003"), [join(dir, "nowhere")]))
    expect(problems).toEqual([])
    expect(definition.registries.get("registry.corp:5003")?.tls).toBeUndefined()
  })
})
