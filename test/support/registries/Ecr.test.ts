/** The ECR personality's quirks, each seen on the wire in front of a real docker-registry. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { startRegistry } from "../../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../../demo/LocalRegistry.ts"
import { buildImage, pushImage } from "../../../demo/SampleImages.ts"
import { startEcrApi } from "../EcrApi.ts"
import type { EcrApiStandIn } from "../EcrApi.ts"
import { startEcrRegistry } from "./Ecr.ts"
import type { EcrRegistry } from "./Ecr.ts"

let upstream: LocalRegistry
let account: EcrApiStandIn
let ecr: EcrRegistry
let mounting: EcrRegistry
let password: string

const AMD64 = [{ os: "linux", architecture: "amd64" }] as const

/** GetAuthorizationToken as the SDK sends it (the stand-in reads the access key id from the SigV4 scope). */
const getPassword = async (api: EcrApiStandIn): Promise<string> => {
  const res = await fetch(api.url, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
      authorization: `AWS4-HMAC-SHA256 Credential=${api.accessKeyId}/20260101/eu-west-1/ecr/aws4_request, SignedHeaders=host, Signature=0`
    },
    body: "{}",
    proxy: false
  } as RequestInit)
  const body = (await res.json()) as { authorizationData: Array<{ authorizationToken: string }> }
  return Buffer.from(body.authorizationData[0]!.authorizationToken, "base64").toString("utf8").slice("AWS:".length)
}

const call = (
  registry: EcrRegistry,
  method: string,
  path: string,
  init: { readonly user?: string; readonly headers?: Record<string, string>; readonly body?: Uint8Array } = {}
) =>
  fetch(`http://${registry.host}${path}`, {
    method,
    headers: {
      ...(init.user !== undefined ? { authorization: `Basic ${Buffer.from(`${init.user}:${password}`).toString("base64")}` } : {}),
      ...init.headers
    },
    body: init.body,
    redirect: "manual",
    proxy: false
  } as RequestInit)

beforeAll(async () => {
  upstream = await startRegistry()
  account = startEcrApi({
    repositories: [{ name: "team/app", imageTagMutability: "IMMUTABLE" }, { name: "team/base" }, { name: "team/many" }]
  })
  ecr = startEcrRegistry(upstream.url, account, { patchCreated: true })
  mounting = startEcrRegistry(upstream.url, account, { blobMounting: true })
  password = await getPassword(account)
})

afterAll(async () => {
  await Promise.all([upstream?.stop(), account?.stop(), ecr?.stop(), mounting?.stop()])
})

describe("authentication", () => {
  test("without AWS:<password>: 401 with ECR's Basic challenge; another user or password is refused too", async () => {
    for (const res of [await call(ecr, "GET", "/v2/"), await call(ecr, "GET", "/v2/", { user: "admin" })]) {
      expect(res.status).toBe(401)
      expect(res.headers.get("www-authenticate")).toBe(`Basic realm="https://${ecr.host}/",service="ecr.amazonaws.com"`)
    }
    expect((await call(ecr, "GET", "/v2/", { user: "AWS" })).status).toBe(200)
  })

  test("the request log keeps whether Authorization came, never its value", () => {
    const log = ecr.requests().filter((r) => r.path === "/v2/")
    expect(log.map((r) => [r.authorized, r.status])).toEqual([[false, 401], [true, 401], [true, 200]])
    expect(JSON.stringify(ecr.requests())).not.toContain(password)
  })
})

describe("repositories", () => {
  test("a repository the account lacks: 404 NAME_UNKNOWN in ECR's words, on every route, nothing reaching the registry", async () => {
    for (
      const [method, path] of [["POST", "/v2/team/missing/blobs/uploads/"], ["GET", "/v2/team/missing/tags/list"], [
        "PUT",
        "/v2/team/missing/manifests/1"
      ]] as const
    ) {
      const res = await call(ecr, method, path, { user: "AWS" })
      expect(res.status).toBe(404)
      expect(await res.json()).toEqual({
        errors: [{ code: "NAME_UNKNOWN", message: `The repository with name 'team/missing' in registry with id '${account.registryId}' does not exist` }]
      })
    }
    await upstream.settle()
    expect(upstream.requests().filter((r) => r.path.startsWith("/v2/team/missing/"))).toEqual([])
  })

  test("IMMUTABLE: a tag PUT is refused with TAG_INVALID even for the digest it holds; by digest it is accepted", async () => {
    const pushed = await pushImage(`http://${ecr.host}`, "team/app", "1.0", { platforms: AMD64, index: false, seed: "ecr-immutable" }, {
      username: "AWS",
      password
    })
    const image = buildImage({ platforms: AMD64, index: false, seed: "ecr-immutable" })
    const again = await call(ecr, "PUT", "/v2/team/app/manifests/1.0", { user: "AWS", headers: { "content-type": pushed.mediaType }, body: image.top.bytes })
    expect(again.status).toBe(400)
    expect(await again.json()).toEqual({
      errors: [{
        code: "TAG_INVALID",
        message: "The image tag '1.0' already exists in the 'team/app' repository and cannot be overwritten because the repository is immutable."
      }]
    })
    const byDigest = await call(ecr, "PUT", `/v2/team/app/manifests/${pushed.digest}`, {
      user: "AWS",
      headers: { "content-type": pushed.mediaType },
      body: image.top.bytes
    })
    expect(byDigest.status).toBe(201)
  })
})

describe("uploads", () => {
  test("a cross-repository mount is answered 202 with an upload session unless blob mounting is on", async () => {
    const pushed = await pushImage(`http://${ecr.host}`, "team/base", "1", { platforms: AMD64, index: false, seed: "ecr-mount" }, { username: "AWS", password })
    const digest = pushed.blobs[0]!
    const query = `?mount=${encodeURIComponent(digest)}&from=team/base`
    const declined = await call(ecr, "POST", `/v2/team/app/blobs/uploads/${query}`, { user: "AWS" })
    expect(declined.status).toBe(202)
    expect(declined.headers.get("location")).toStartWith(`http://${ecr.host}/v2/team/app/blobs/uploads/`)
    const mounted = await call(mounting, "POST", `/v2/team/app/blobs/uploads/${query}`, { user: "AWS" })
    expect(mounted.status).toBe(201)
  })

  test("with patchCreated a PATCH is answered 201, its session going on at Location", async () => {
    const started = await call(ecr, "POST", "/v2/team/app/blobs/uploads/", { user: "AWS" })
    const location = started.headers.get("location")!
    const patched = await fetch(location, {
      method: "PATCH",
      headers: { authorization: `Basic ${Buffer.from(`AWS:${password}`).toString("base64")}`, "content-type": "application/octet-stream" },
      body: new Uint8Array([1, 2, 3]),
      proxy: false
    } as RequestInit)
    expect(patched.status).toBe(201)
    expect(patched.headers.get("location")).toStartWith(`http://${ecr.host}/v2/team/app/blobs/uploads/`)
    expect(ecr.requests().at(-1)).toMatchObject({ method: "PATCH", contentLength: "3", status: 201 })
  })
})

describe("tag lists", () => {
  test("pages of 100 by default with a next link; more than 1000 asked is refused", async () => {
    const spec = { platforms: AMD64, index: false, seed: "ecr-tags" } as const
    for (let i = 0; i < 105; i++) await pushImage(`http://${ecr.host}`, "team/many", `t${String(i).padStart(3, "0")}`, spec, { username: "AWS", password })
    const first = await call(ecr, "GET", "/v2/team/many/tags/list", { user: "AWS" })
    const page = (await first.json()) as { tags: Array<string> }
    expect(page.tags).toHaveLength(100)
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get("link") ?? "")?.[1]
    expect(next).toBe("/v2/team/many/tags/list?last=t099&n=100")
    const rest = (await (await call(ecr, "GET", next!, { user: "AWS" })).json()) as { tags: Array<string> }
    expect(rest.tags).toEqual(["t100", "t101", "t102", "t103", "t104"])
    const tooMany = await call(ecr, "GET", "/v2/team/many/tags/list?n=10000", { user: "AWS" })
    expect(tooMany.status).toBe(405)
    expect(((await tooMany.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe("UNSUPPORTED")
  }, 60_000)
})
