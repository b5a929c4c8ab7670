/**
 * The Harbor stand-in in front of a real docker-registry: any request for a repository whose
 * project (first path segment) does not exist is answered as Harbor's v2auth middleware does
 * (401 UNAUTHORIZED "project <p> not found: project <p> not found", an empty Www-Authenticate)
 * and never reaches the registry behind; repositories of existing projects, /v2/ and _catalog
 * go through; a project created later is pushed to like any other.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { pushImage } from "../../../demo/SampleImages.ts"
import { headManifest, SMALL, TWO_PLATFORMS } from "../../integration/helpers.ts"
import { skopeoCopy, skopeoDigest } from "../Skopeo.ts"
import { startHarbor } from "./Harbor.ts"
import type { HarborStandIn } from "./Harbor.ts"
import { send, startUpload } from "./Uploads.ts"

const NOT_FOUND = (project: string) => `{"errors":[{"code":"UNAUTHORIZED","message":"project ${project} not found: project ${project} not found"}]}\n`

let harbor: HarborStandIn

beforeAll(async () => {
  harbor = await startHarbor({ projects: ["library", "team"] })
}, 60_000)

afterAll(async () => {
  await harbor?.stop()
}, 30_000)

describe("the project must exist", () => {
  test("POST upload into a missing project: Harbor's 401 body, Www-Authenticate present and empty, nothing reaches the registry behind", async () => {
    await harbor.upstream.resetRequests()
    const started = await startUpload(harbor.url, "missing/app")
    expect(started.response.status).toBe(401)
    expect(started.body).toBe(NOT_FOUND("missing"))
    expect(started.response.headers.get("www-authenticate")).toBe("")
    expect(started.response.headers.get("content-type")).toBe("application/json; charset=utf-8")
    await harbor.upstream.settle()
    expect(harbor.upstream.requests()).toEqual([])
  })

  test("PUT manifest and HEAD manifest into a missing project: the same answer (HEAD without a body)", async () => {
    const put = await send(`${harbor.url}/v2/missing/deep/app/manifests/1`, {
      method: "PUT",
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
      body: new TextEncoder().encode("{}")
    })
    expect([put.status, await put.text()]).toEqual([401, NOT_FOUND("missing")])
    const head = await send(`${harbor.url}/v2/missing/app/manifests/1`, { method: "HEAD" })
    expect([head.status, await head.text()]).toEqual([401, ""])
    expect(harbor.requests.filter((r) => r.path.startsWith("/v2/missing/")).every((r) => r.answeredBy === "quirk" && r.status === 401)).toBe(true)
  })

  test("a push into a missing project fails; into an existing one it lands and skopeo reads it; /v2/ and _catalog are not project-bound", async () => {
    const spec = { platforms: TWO_PLATFORMS, seed: "harbor", ...SMALL }
    await expect(pushImage(harbor.url, "nope/app", "1", spec)).rejects.toThrow(/unexpected status 401/)
    const image = await pushImage(harbor.url, "library/app", "1", spec)
    expect(await skopeoDigest(`${harbor.host}/library/app:1`)).toBe(image.digest)
    expect((await send(`${harbor.url}/v2/`, { method: "GET" })).status).toBe(200)
    const catalog = await send(`${harbor.url}/v2/_catalog`, { method: "GET" })
    expect(((await catalog.json()) as { repositories: Array<string> }).repositories).toContain("library/app")
  })

  test("once the project is created, skopeo pushes into it", async () => {
    await expect(skopeoCopy(`${harbor.host}/library/app:1`, `${harbor.host}/later/app:1`, { all: true })).rejects.toThrow()
    harbor.addProject("later")
    await skopeoCopy(`${harbor.host}/library/app:1`, `${harbor.host}/later/app:1`, { all: true })
    const copied = await headManifest(harbor.upstream.url, "later/app", "1")
    expect(copied.digest).toBe((await headManifest(harbor.upstream.url, "library/app", "1")).digest)
  })
})
