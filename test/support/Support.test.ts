/**
 * Proves the demo/test helpers against real processes: docker-registry, skopeo, openssl, perl.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry, LoggedRequest } from "../../demo/LocalRegistry.ts"
import { buildImage, pushImage, pushRawManifest, sha256Digest } from "../../demo/SampleImages.ts"
import type { SampleImageSpec } from "../../demo/SampleImages.ts"
import { htpasswdLine, verifyHtpasswd } from "./Htpasswd.ts"
import { skopeoCopy, skopeoDigest, skopeoInspectRaw } from "./Skopeo.ts"
import { startTokenServer } from "./TokenServer.ts"
import type { TokenServer } from "./TokenServer.ts"
import { NEW_P256_KEY } from "./TestCertificates.ts"

const multiArch: SampleImageSpec = {
  platforms: [
    { os: "linux", architecture: "amd64" },
    { os: "linux", architecture: "arm64", variant: "v8" }
  ],
  seed: "multi",
  sharedBaseLayer: { seed: "base", size: 8192 }
}
const dockerSingle: SampleImageSpec = {
  platforms: [{ os: "linux", architecture: "amd64" }],
  format: "docker",
  seed: "single",
  sharedBaseLayer: { seed: "base", size: 8192 }
}

const count = (log: ReadonlyArray<LoggedRequest>, method: string, pattern: RegExp, status?: number): number =>
  log.filter((r) => r.method === method && pattern.test(r.path) && (status === undefined || r.status === status)).length

const BLOB = /^\/v2\/team\/app\/blobs\/sha256:[0-9a-f]{64}$/
const UPLOAD_START = /^\/v2\/team\/app\/blobs\/uploads\/$/
const UPLOAD_PUT = /^\/v2\/team\/app\/blobs\/uploads\/[^/?]+\?/
const MANIFEST = /^\/v2\/team\/app\/manifests\//

/** A fetch to a loopback registry that never goes through a proxy. */
const get = (url: string, headers: Record<string, string> = {}): Promise<Response> => fetch(url, { headers, proxy: false })

const basic = (username: string, password: string): string => `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`

/** True when a fresh listener can bind 127.0.0.1:port (i.e. the old process let go of it). */
const portIsFree = (port: number): boolean => {
  try {
    const server = Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("") })
    server.stop(true)
    return true
  } catch {
    return false
  }
}

describe("SampleImages.buildImage", () => {
  test("is deterministic and shares the base layer", () => {
    const a = buildImage(multiArch)
    const b = buildImage(multiArch)
    expect(a.top.digest).toBe(b.top.digest)
    expect(a.top.digest).toBe(sha256Digest(a.top.bytes))
    expect(a.children).toHaveLength(2)
    expect(a.blobs.size).toBe(7) // base + 2 × (config + 2 layers)
    const single = buildImage(dockerSingle)
    expect(single.children).toHaveLength(0)
    expect(single.top.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json")
    const base = [...a.blobs.keys()].filter((d) => single.blobs.has(d))
    expect(base).toHaveLength(1)
    expect(buildImage({ ...multiArch, seed: "other" }).top.digest).not.toBe(a.top.digest)
  })

  test("a single platform with index:true gives an index of one", () => {
    const image = buildImage({ platforms: [{ os: "linux", architecture: "amd64" }], index: true, seed: "one" })
    expect(image.top.mediaType).toBe("application/vnd.oci.image.index.v1+json")
    expect(image.children).toHaveLength(1)
  })
})

describe("plain registry", () => {
  let registry: LocalRegistry
  let mirror: LocalRegistry
  beforeAll(async () => {
    const [first, second] = await Promise.all([startRegistry({ deleteEnabled: true }), startRegistry()])
    registry = first
    mirror = second
  })
  afterAll(async () => {
    await Promise.all([registry.stop(), mirror.stop()])
  })

  test("starts on an OS-chosen loopback port with an empty request log", () => {
    expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(registry.url).toBe(`http://${registry.host}`)
    expect(registry.host).not.toBe(mirror.host)
    expect(existsSync(join(registry.dir, "config.yml"))).toBe(true)
    expect(registry.requests()).toEqual([])
  })

  test("cpuSeconds: the registry's own CPU time, which grows while it serves requests", async () => {
    const before = mirror.cpuSeconds()
    expect(before).toBeGreaterThanOrEqual(0)
    // enough requests to cost the registry at least one 10 ms clock tick
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 20 }, () => fetch(`${mirror.url}/v2/`, { proxy: false }).then((r) => r.arrayBuffer())))
    }
    expect(mirror.cpuSeconds()!).toBeGreaterThan(before!)
  })

  test("pushes an OCI index and a Docker manifest that skopeo reads back byte for byte", async () => {
    await registry.resetRequests()
    const index = await pushImage(registry.url, "team/app", "multi", multiArch)
    await registry.settle()
    const first = registry.requests()
    expect(count(first, "HEAD", BLOB, 404)).toBe(7)
    expect(count(first, "POST", UPLOAD_START, 202)).toBe(7)
    expect(count(first, "PUT", UPLOAD_PUT, 201)).toBe(7)
    expect(count(first, "PUT", MANIFEST, 201)).toBe(3)
    expect(first).toHaveLength(24)

    await registry.resetRequests()
    const single = await pushImage(registry.url, "team/app", "single", dockerSingle)
    await registry.settle()
    const second = registry.requests()
    // the shared base layer is already in team/app: HEAD 200 and no upload
    expect(count(second, "HEAD", BLOB, 200)).toBe(1)
    expect(count(second, "HEAD", BLOB, 404)).toBe(3)
    expect(count(second, "POST", UPLOAD_START)).toBe(3)
    expect(count(second, "PUT", MANIFEST, 201)).toBe(1)

    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json")
    expect(index.children.map((c) => c.platform)).toEqual([...multiArch.platforms])
    expect(await skopeoDigest(`${registry.host}/team/app:multi`)).toBe(index.digest)
    expect(await skopeoInspectRaw(`${registry.host}/team/app:multi`)).toEqual(index.manifestBytes)
    for (const child of index.children) {
      expect(await skopeoDigest(`${registry.host}/team/app@${child.digest}`)).toBe(child.digest)
    }
    expect(await skopeoDigest(`docker://${registry.host}/team/app:single`)).toBe(single.digest)
    expect(single.blobs.filter((d) => index.blobs.includes(d))).toHaveLength(1)
  })

  test("skopeo copies the index to another registry with digests preserved", async () => {
    await skopeoCopy(`${registry.host}/team/app:multi`, `${mirror.host}/copied/app:multi`, { all: true })
    await skopeoCopy(`${registry.host}/team/app:single`, `${mirror.host}/copied/app:single`)
    const index = buildImage(multiArch)
    expect(await skopeoDigest(`${mirror.host}/copied/app:multi`)).toBe(index.top.digest)
    expect(await skopeoDigest(`${mirror.host}/copied/app:single`)).toBe(buildImage(dockerSingle).top.digest)
    await mirror.settle()
    expect(count(mirror.requests(), "PUT", /^\/v2\/copied\/app\/manifests\/multi$/, 201)).toBe(1)
  })

  test("pushRawManifest can move a tag to different bytes", async () => {
    const other = buildImage({ ...dockerSingle, seed: "single" })
    // same document, different bytes (pretty-printed) → a different digest under the same tag
    const pretty = new TextEncoder().encode(JSON.stringify(JSON.parse(new TextDecoder().decode(other.top.bytes)), null, 2))
    const digest = await pushRawManifest(registry.url, "team/app", "single", pretty, other.top.mediaType)
    expect(digest).not.toBe(other.top.digest)
    expect(await skopeoDigest(`${registry.host}/team/app:single`)).toBe(digest)
  })

  test("settle() captures a burst of concurrent requests completely", async () => {
    await registry.resetRequests()
    const digests = [...buildImage(multiArch).blobs.keys()]
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => fetch(`${registry.url}/v2/team/app/blobs/${digests[i % digests.length]}`, { method: "HEAD", proxy: false }))
    )
    expect(responses.every((r) => r.status === 200)).toBe(true)
    await registry.settle()
    expect(registry.requests()).toHaveLength(30)
    expect(registry.requests().every((r) => r.method === "HEAD" && r.status === 200)).toBe(true)
    const notFound = await get(`${registry.url}/nothing-here`)
    expect(notFound.status).toBe(404)
    await registry.settle()
    expect(registry.requests().at(-1)).toEqual({ method: "GET", path: "/nothing-here", status: 404 })
  })
})

describe("htpasswd registry", () => {
  const username = "alice"
  const password = "s3cret:with:colons and spaces"
  let registry: LocalRegistry
  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: { username, password } })
  })
  afterAll(() => registry.stop())

  test("htpasswd lines are bcrypt and verify", async () => {
    const line = await htpasswdLine("bob", "pw")
    expect(line).toMatch(/^bob:\$2y\$05\$[./A-Za-z0-9]{53}$/)
    expect(await verifyHtpasswd(line, "pw")).toBe(true)
    expect(await verifyHtpasswd(line, "wrong")).toBe(false)
  })

  test("rejects anonymous and wrong credentials, accepts the user", async () => {
    const anonymous = await get(`${registry.url}/v2/`)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get("www-authenticate")).toBe("Basic realm=\"test-realm\"")
    expect((await get(`${registry.url}/v2/`, { authorization: basic(username, "nope") })).status).toBe(401)
    expect((await get(`${registry.url}/v2/`, { authorization: basic(username, password) })).status).toBe(200)
  })

  test("pushes with Basic auth; skopeo needs the credentials", async () => {
    const pushed = await pushImage(registry.url, "private/app", "v1", dockerSingle, { username, password })
    const ref = `${registry.host}/private/app:v1`
    expect(await skopeoDigest(ref, { creds: `${username}:${password}` })).toBe(pushed.digest)
    await expect(skopeoInspectRaw(ref)).rejects.toThrow(/unauthorized|authentication required/i)
    const failure = await skopeoInspectRaw(ref, { creds: `${username}:wrong-password` }).catch((e: unknown) => String(e))
    expect(failure).not.toContain("wrong-password")
    await expect(pushImage(registry.url, "private/app", "v2", dockerSingle)).rejects.toThrow(/401/)
  })
})

describe("token registry", () => {
  const key = JSON.stringify(
    {
      type: "service_account",
      project_id: "demo",
      private_key: "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg:not-a-real-key\n-----END PRIVATE KEY-----\n",
      client_email: "syncer@demo.iam.gserviceaccount.com"
    },
    null,
    2
  )
  let tokens: TokenServer
  let registry: LocalRegistry
  beforeAll(async () => {
    tokens = await startTokenServer({ users: { _json_key: key } })
    registry = await startRegistry({ token: tokens })
  })
  afterAll(async () => {
    await registry.stop()
    await tokens.stop()
  })

  const requestToken = async (scope: string, authorization?: string): Promise<Response> => {
    const url = new URL(tokens.realm)
    url.searchParams.set("service", tokens.service)
    url.searchParams.append("scope", scope)
    return get(url.href, authorization === undefined ? {} : { authorization })
  }

  test("the registry challenges with the token server's realm", async () => {
    const response = await get(`${registry.url}/v2/`)
    expect(response.status).toBe(401)
    expect(response.headers.get("www-authenticate")).toBe(`Bearer realm="${tokens.realm}",service="test-registry"`)
  })

  test("a token obtained with Basic _json_key:<multi-line key> pushes; skopeo logs in the same way", async () => {
    const response = await requestToken("repository:gcr/app:pull,push", basic("_json_key", key))
    expect(response.status).toBe(200)
    const body = (await response.json()) as { token: string; access_token: string; expires_in: number; issued_at: string }
    expect(body.access_token).toBe(body.token)
    expect(body.expires_in).toBe(300)
    const pushed = await pushImage(registry.url, "gcr/app", "v1", multiArch, { bearer: body.token })
    expect(await skopeoDigest(`${registry.host}/gcr/app:v1`, { creds: `_json_key:${key}` })).toBe(pushed.digest)
    // pushImage with Basic credentials exchanges them at the realm itself
    const again = await pushImage(registry.url, "gcr/other", "v1", dockerSingle, { username: "_json_key", password: key })
    expect(await skopeoDigest(`${registry.host}/gcr/other:v1`, { creds: `_json_key:${key}` })).toBe(again.digest)

    const seen = tokens.requests()
    expect(seen).toContainEqual({ username: "_json_key", scopes: ["repository:gcr/app:pull,push"], method: "GET" })
    expect(seen.some((r) => r.username === "_json_key" && r.scopes.includes("repository:gcr/app:pull"))).toBe(true)
    expect(JSON.stringify(seen)).not.toContain("not-a-real-key")
  })

  test("wrong credentials get 401 at the realm; anonymous tokens grant nothing", async () => {
    expect((await requestToken("repository:gcr/app:pull", basic("_json_key", "{}"))).status).toBe(401)
    expect((await requestToken("repository:gcr/app:pull", basic("someone", key))).status).toBe(401)
    const anonymous = (await (await requestToken("repository:gcr/app:pull")).json()) as { token: string }
    const denied = await get(`${registry.url}/v2/gcr/app/tags/list`, { authorization: `Bearer ${anonymous.token}` })
    expect(denied.status).toBe(401)
    expect(denied.headers.get("www-authenticate")).toContain("error=\"insufficient_scope\"")
    await expect(skopeoInspectRaw(`${registry.host}/gcr/app:v1`)).rejects.toThrow(/unauthorized|authentication required/i)
  })

  test("minted tokens push and pull; pull-only and expired tokens are refused", async () => {
    const token = tokens.mint([{ type: "repository", name: "minted/app", actions: ["pull", "push"] }])
    const pushed = await pushImage(registry.url, "minted/app", "v1", dockerSingle, { bearer: token })
    expect(await skopeoDigest(`${registry.host}/minted/app:v1`, { registryToken: token })).toBe(pushed.digest)

    const pullOnly = tokens.mint([{ type: "repository", name: "minted/app", actions: ["pull"] }])
    await expect(pushImage(registry.url, "minted/app", "v2", multiArch, { bearer: pullOnly })).rejects.toThrow(/401/)

    const expired = tokens.mint([{ type: "repository", name: "minted/app", actions: ["*"] }], -300)
    const response = await get(`${registry.url}/v2/minted/app/tags/list`, { authorization: `Bearer ${expired}` })
    expect(response.status).toBe(401)
    expect(response.headers.get("www-authenticate")).toContain("error=\"invalid_token\"")
  })

  test("OAuth2 POST: password grant with a refresh token, then the refresh grant", async () => {
    const post = (form: Record<string, string>): Promise<Response> => fetch(tokens.realm, { method: "POST", body: new URLSearchParams(form), proxy: false })
    const first = await post({
      grant_type: "password",
      username: "_json_key",
      password: key,
      service: tokens.service,
      client_id: "test",
      access_type: "offline",
      scope: "repository:gcr/app:pull"
    })
    expect(first.status).toBe(200)
    const { refresh_token: refresh } = (await first.json()) as { refresh_token: string }
    const second = await post({
      grant_type: "refresh_token",
      refresh_token: refresh,
      service: tokens.service,
      client_id: "test",
      scope: "repository:gcr/app:pull"
    })
    const { access_token: token } = (await second.json()) as { access_token: string }
    expect((await get(`${registry.url}/v2/gcr/app/tags/list`, { authorization: `Bearer ${token}` })).status).toBe(200)
    expect((await post({ grant_type: "password", username: "_json_key", password: "x", service: tokens.service })).status).toBe(401)
    expect(tokens.requests().filter((r) => r.method === "POST").map((r) => r.username)).toEqual(["_json_key", "_json_key", "_json_key"])
  })
})

describe("TLS registry", () => {
  let dir: string
  let registry: LocalRegistry
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tls-test-"))
    const proc = Bun.spawn(
      [
        "openssl",
        "req",
        "-x509",
        ...NEW_P256_KEY,
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-subj",
        "/CN=127.0.0.1",
        "-days",
        "2",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost"
      ],
      { stdout: "ignore", stderr: "pipe" }
    )
    expect(await proc.exited).toBe(0)
    registry = await startRegistry({ tls: { certificate: join(dir, "cert.pem"), key: join(dir, "key.pem") } })
  })
  afterAll(async () => {
    await registry.stop()
    await rm(dir, { recursive: true, force: true })
  })

  test("serves https; pushImage and skopeo work against it", async () => {
    expect(registry.url).toBe(`https://${registry.host}`)
    const pushed = await pushImage(registry.url, "secure/app", "v1", multiArch)
    expect(await skopeoDigest(`${registry.host}/secure/app:v1`)).toBe(pushed.digest)
    await registry.settle()
    expect(count(registry.requests(), "PUT", /^\/v2\/secure\/app\/manifests\/v1$/, 201)).toBe(1)
  })
})

describe("lifecycle", () => {
  test("stop() kills the registry, frees the port, removes the dir, and is idempotent", async () => {
    const registry = await startRegistry({ htpasswd: { username: "u", password: "p" } })
    const port = Number(registry.host.split(":")[1])
    expect(existsSync(join(registry.dir, "htpasswd"))).toBe(true)
    await Promise.all([registry.stop(), registry.stop()])
    await registry.stop()
    expect(existsSync(registry.dir)).toBe(false)
    expect(portIsFree(port)).toBe(true)
    await expect(registry.settle()).rejects.toThrow(/exited/)
  })

  test("the token server's stop() frees its port and removes its cert dir", async () => {
    const tokens = await startTokenServer({ users: {}, anonymousPull: true })
    const port = Number(new URL(tokens.realm).port)
    const response = await get(`${tokens.realm}?service=test-registry&scope=repository:a/b:pull,push`)
    const { token } = (await response.json()) as { token: string }
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { access: unknown; aud: unknown }
    expect(claims.aud).toBe("test-registry")
    expect(claims.access).toEqual([{ type: "repository", name: "a/b", actions: ["pull"] }])
    await tokens.stop()
    await tokens.stop()
    expect(existsSync(dirname(tokens.rootCertBundle))).toBe(false)
    expect(portIsFree(port)).toBe(true)
  })

  test("a missing docker-registry binary gives a clear message", async () => {
    const path = process.env["PATH"]
    process.env["PATH"] = "/nonexistent"
    // the binary is looked up synchronously, so PATH can be restored right away
    const started = startRegistry()
    process.env["PATH"] = path
    const outcome = await started.then(
      async (registry) => {
        await registry.stop()
        return "started"
      },
      (error: unknown) => String(error)
    )
    expect(outcome).toContain("docker-registry not found: apt-get install docker-registry")
  })
})
