/**
 * Cross-origin blob redirects (must-hold 4), as Docker Hub (to a CDN) and ECR (to S3) do:
 * FaultProxies in front of real registries with auth answer every blob GET (source) or blob
 * HEAD (target) with a 307 to another origin. That origin records whether `Authorization`
 * arrived and refuses it as S3 does; the registry itself must still get the credentials.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { SEND_WITHOUT_ASKING } from "../../src/transport/CopyTree.ts"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage } from "../../demo/SampleImages.ts"
import { paths, startFaultProxy, verifyTree } from "../support/FaultProxy.ts"
import type { FaultProxy } from "../support/FaultProxy.ts"
import { startTokenServer } from "../support/TokenServer.ts"
import type { TokenServer } from "../support/TokenServer.ts"
import { basic, describeRun, lineFor, makeTempDir, removeDir, runCli, TWO_PLATFORMS, writeDefinition } from "../integration/helpers.ts"
import type { CliRun } from "../integration/helpers.ts"

const SRC_USER = "reader"
const SRC_PASSWORD = "redirect-source-password"
const DST_USER = "writer"
const DST_PASSWORD = "redirect-target-password"
const TOKEN_USER = "token-reader"
const TOKEN_PASSWORD = "redirect-token-password"
// layers above SEND_WITHOUT_ASKING: the target is asked about them (configs are sent without asking)
const SPEC = { platforms: TWO_PLATFORMS, seed: "redirect-app", layers: 1, layerSize: SEND_WITHOUT_ASKING + 4096 }

let tokens: TokenServer
let basicSrc: LocalRegistry
let tokenSrc: LocalRegistry
let dst: LocalRegistry
let basicSrcProxy: FaultProxy
let tokenSrcProxy: FaultProxy
let dstProxy: FaultProxy
let dir: string
let home: string
let basicRun: CliRun
let tokenRun: CliRun
let basicImage: PushedImage
let tokenImage: PushedImage

const dockerAuth = (user: string, password: string) => ({ auth: Buffer.from(`${user}:${password}`).toString("base64") })

beforeAll(async () => {
  tokens = await startTokenServer({ users: { [TOKEN_USER]: TOKEN_PASSWORD } })
  ;[basicSrc, tokenSrc, dst] = await Promise.all([
    startRegistry({ htpasswd: { username: SRC_USER, password: SRC_PASSWORD } }),
    startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle } }),
    startRegistry({ htpasswd: { username: DST_USER, password: DST_PASSWORD } })
  ])
  basicImage = await pushImage(basicSrc.url, "redirect/app", "1", SPEC, { username: SRC_USER, password: SRC_PASSWORD })
  tokenImage = await pushImage(tokenSrc.url, "redirect/app", "1", SPEC, { username: TOKEN_USER, password: TOKEN_PASSWORD })

  const blobGets = (m: string, path: string) => m === "GET" && paths.blob()(path)
  // the other origin reads from the registry with credentials of its own (like a CDN's origin pull)
  basicSrcProxy = await startFaultProxy({
    upstream: basicSrc.url,
    seed: "redirect-basic",
    rules: [{ match: blobGets, fault: "redirect-cross-origin" }],
    redirectHeaders: () => basic(SRC_USER, SRC_PASSWORD)
  })
  tokenSrcProxy = await startFaultProxy({
    upstream: tokenSrc.url,
    seed: "redirect-token",
    rules: [{ match: blobGets, fault: "redirect-cross-origin" }],
    redirectHeaders: () => ({
      authorization: `Bearer ${tokens.mint([{ type: "repository", name: "redirect/app", actions: ["pull"] }])}`
    })
  })
  dstProxy = await startFaultProxy({
    upstream: dst.url,
    seed: "redirect-target",
    rules: [{ match: (m, path) => m === "HEAD" && paths.blob()(path), fault: "redirect-cross-origin" }],
    redirectHeaders: () => basic(DST_USER, DST_PASSWORD)
  })

  dir = await makeTempDir("redirect")
  home = join(dir, "home")
  await mkdir(join(home, ".docker"), { recursive: true })
  await writeFile(
    join(home, ".docker", "config.json"),
    JSON.stringify({
      auths: {
        [basicSrcProxy.host]: dockerAuth(SRC_USER, SRC_PASSWORD),
        [tokenSrcProxy.host]: dockerAuth(TOKEN_USER, TOKEN_PASSWORD),
        [dstProxy.host]: dockerAuth(DST_USER, DST_PASSWORD)
      }
    })
  )
  const basicFile = await writeDefinition(dir, "basic.yaml", {
    targetRepoPrefix: `${dstProxy.host}/basic/`,
    images: [{ source: `${basicSrcProxy.host}/redirect/app:1` }]
  })
  const tokenFile = await writeDefinition(dir, "token.yaml", {
    targetRepoPrefix: `${dstProxy.host}/token/`,
    images: [{ source: `${tokenSrcProxy.host}/redirect/app:1` }]
  })
  basicRun = await runCli(["-i", basicFile], { home })
  tokenRun = await runCli(["-i", tokenFile], { home })
}, 120_000)

afterAll(async () => {
  await Promise.all([basicSrcProxy?.stop(), tokenSrcProxy?.stop(), dstProxy?.stop()])
  await Promise.all([basicSrc?.stop(), tokenSrc?.stop(), dst?.stop()])
  await tokens?.stop()
  await removeDir(dir)
}, 60_000)

const targetRepository = (prefix: string, proxy: FaultProxy) => `${prefix}/${proxy.host.replace(":", "-")}/redirect/app`

describe("must-hold 4: source blob GETs redirected to another origin (Basic auth registry)", () => {
  test("the image synced byte for byte through the redirects", async () => {
    expect(basicRun.code, describeRun(basicRun)).toBe(0)
    expect(lineFor(basicRun, `${basicSrcProxy.host}/redirect/app:1`).status).toBe("synced")
    const tree = await verifyTree(dst.url, targetRepository("basic", basicSrcProxy), "1", basic(DST_USER, DST_PASSWORD))
    expect(tree.digest).toBe(basicImage.digest)
    expect(tree.problems).toEqual([])
  })

  test("every blob was fetched from the other origin, and not one of those requests carried Authorization", () => {
    const redirected = basicSrcProxy.redirected().filter((r) => r.method === "GET")
    expect(new Set(redirected.map((r) => r.path))).toEqual(new Set(basicImage.blobs.map((d) => `/v2/redirect/app/blobs/${d}`)))
    expect(redirected.map((r) => r.authorization)).toEqual(redirected.map(() => false))
    expect(redirected.every((r) => r.status === 200)).toBe(true)
  })

  test("the registry itself got the Basic credentials on every blob GET it redirected and on every manifest read", () => {
    const expected = basic(SRC_USER, SRC_PASSWORD).authorization
    const blobGets = basicSrcProxy.requests().filter((r) => r.fault === "redirect-cross-origin")
    expect(blobGets.length).toBe(basicImage.blobs.length)
    expect(blobGets.every((r) => r.headers["authorization"] === expected)).toBe(true)
    const manifestReads = basicSrcProxy.requests().filter((r) => paths.manifest()(r.pathname) && r.status === 200)
    expect(manifestReads.length).toBeGreaterThan(0)
    expect(manifestReads.every((r) => r.headers["authorization"] === expected)).toBe(true)
  })
})

describe("must-hold 4: source blob GETs redirected to another origin (Bearer token registry)", () => {
  test("the image synced byte for byte through the redirects", async () => {
    expect(tokenRun.code, describeRun(tokenRun)).toBe(0)
    const tree = await verifyTree(dst.url, targetRepository("token", tokenSrcProxy), "1", basic(DST_USER, DST_PASSWORD))
    expect(tree.digest).toBe(tokenImage.digest)
    expect(tree.problems).toEqual([])
  })

  test("the registry got a Bearer token on every redirected blob GET; the other origin got no Authorization at all", () => {
    const blobGets = tokenSrcProxy.requests().filter((r) => r.fault === "redirect-cross-origin")
    expect(blobGets.length).toBe(tokenImage.blobs.length)
    expect(blobGets.every((r) => /^Bearer \S+$/.test(r.headers["authorization"] ?? ""))).toBe(true)
    const redirected = tokenSrcProxy.redirected()
    expect(redirected.length).toBe(tokenImage.blobs.length)
    expect(redirected.every((r) => !r.authorization && r.headers["authorization"] === undefined && r.status === 200)).toBe(true)
  })
})

describe("target blob HEADs redirected to another origin", () => {
  test("followed without Authorization, while the target registry got Basic credentials on the HEADs themselves", () => {
    const expected = basic(DST_USER, DST_PASSWORD).authorization
    const heads = dstProxy.requests().filter((r) => r.fault === "redirect-cross-origin")
    // both runs asked the target about each of their image's two layers
    expect(heads.length).toBeGreaterThanOrEqual(4)
    expect(heads.every((r) => r.method === "HEAD" && r.headers["authorization"] === expected)).toBe(true)
    const redirected = dstProxy.redirected()
    expect(redirected.length).toBe(heads.length)
    expect(redirected.every((r) => r.method === "HEAD" && !r.authorization)).toBe(true)
  })
})
