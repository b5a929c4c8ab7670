/**
 * The Quay stand-in in front of a real docker-registry: an OCI manifest whose config or layer
 * media type is not on the allow-list (a cosign v3 sigstore bundle: empty config, bundle layer)
 * is answered 400 MANIFEST_INVALID naming the type and never stored; a legacy cosign `.sig`
 * manifest (image config, simplesigning layer) and ordinary images are stored; an allow-list
 * that names the bundle's types lets it in; `mount=` without `from=` is answered 400.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { pushImage, sha256Digest } from "../../../demo/SampleImages.ts"
import type { PushedImage } from "../../../demo/SampleImages.ts"
import { headManifest, SMALL, TWO_PLATFORMS } from "../../integration/helpers.ts"
import { skopeoCopy, skopeoDigest } from "../Skopeo.ts"
import { startQuay } from "./Quay.ts"
import type { StandIn } from "./StandIn.ts"
import { closeUpload, send, startUpload } from "./Uploads.ts"

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
const EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
const BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
const CONFIG_TYPES =
  "['application/vnd.oci.image.config.v1+json', 'application/vnd.cncf.helm.config.v1+json', 'application/vnd.oci.source.image.config.v1+json', 'application/vnd.unknown.config.v1+json']"

let quay: StandIn
let image: PushedImage
const encode = (text: string) => new TextEncoder().encode(text)

/** Pushes a blob monolithically through `registryUrl`; its descriptor. */
const putBlob = async (registryUrl: string, repository: string, mediaType: string, bytes: Uint8Array) => {
  const started = await startUpload(registryUrl, repository)
  const closed = await closeUpload(started.location!, sha256Digest(bytes), bytes)
  if (closed.response.status !== 201) throw new Error(`blob upload: ${closed.response.status} ${closed.body}`)
  return { mediaType, digest: sha256Digest(bytes), size: bytes.length }
}

/** PUTs manifest bytes by digest; status and body. */
const putManifest = async (registryUrl: string, repository: string, manifest: unknown) => {
  const bytes = encode(JSON.stringify(manifest))
  const response = await send(`${registryUrl}/v2/${repository}/manifests/${sha256Digest(bytes)}`, {
    method: "PUT",
    headers: { "content-type": OCI_MANIFEST },
    body: bytes
  })
  return { status: response.status, body: await response.text(), digest: sha256Digest(bytes) }
}

let bundle: Record<string, unknown>

beforeAll(async () => {
  quay = await startQuay()
  image = await pushImage(quay.url, "org/app", "1", { platforms: TWO_PLATFORMS, seed: "quay", ...SMALL })
  const subject = { mediaType: image.mediaType, digest: image.digest, size: image.size }
  bundle = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: BUNDLE,
    config: await putBlob(quay.url, "org/app", EMPTY_CONFIG, encode("{}")),
    layers: [await putBlob(quay.url, "org/app", BUNDLE, encode(JSON.stringify({ mediaType: BUNDLE, note: "a sigstore bundle" })))],
    subject
  }
}, 60_000)

afterAll(async () => {
  await quay?.stop()
}, 30_000)

describe("OCI artifact types must be on the allow-list", () => {
  test("a cosign v3 bundle (empty config): 400 MANIFEST_INVALID naming the config type; the registry behind never gets it", async () => {
    await quay.upstream.resetRequests()
    const put = await putManifest(quay.url, "org/app", bundle)
    expect(put.status).toBe(400)
    expect(JSON.parse(put.body)).toEqual({
      errors: [{
        code: "MANIFEST_INVALID",
        message: "manifest invalid",
        detail: { message: `failed to parse manifest: manifest data does not match schema: '${EMPTY_CONFIG}' is not one of ${CONFIG_TYPES}` }
      }]
    })
    await quay.upstream.settle()
    expect(quay.upstream.requests().filter((r) => r.method === "PUT")).toEqual([])
    expect((await headManifest(quay.upstream.url, "org/app", put.digest)).status).toBe(404)
  })

  test("an image config with a layer type off the list: 400 naming the layer type", async () => {
    const config = await putBlob(
      quay.url,
      "org/app",
      "application/vnd.oci.image.config.v1+json",
      encode("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}")
    )
    const layer = await putBlob(quay.url, "org/app", "application/vnd.example.thing", encode("thing"))
    const put = await putManifest(quay.url, "org/app", { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] })
    expect(put.status).toBe(400)
    expect(JSON.parse(put.body).errors[0].detail.message).toStartWith(
      "failed to parse manifest: manifest data does not match schema: 'application/vnd.example.thing' is not one of ["
    )
  })

  test("a legacy cosign .sig manifest (image config, simplesigning layer) and ordinary images are stored", async () => {
    const config = await putBlob(
      quay.url,
      "org/app",
      "application/vnd.oci.image.config.v1+json",
      encode("{\"architecture\":\"\",\"os\":\"\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{}}")
    )
    const payload = await putBlob(quay.url, "org/app", "application/vnd.dev.cosign.simplesigning.v1+json", encode("{\"critical\":{}}"))
    const put = await putManifest(quay.url, "org/app", {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config,
      layers: [{ ...payload, annotations: { "dev.cosignproject.cosign/signature": "MEUCIQ" } }]
    })
    expect(put.status).toBe(201)
    expect(await skopeoDigest(`${quay.host}/org/app:1`)).toBe(image.digest)
    await skopeoCopy(`${quay.host}/org/app:1`, `${quay.host}/org/copy:1`, { all: true })
    expect(await skopeoDigest(`${quay.host}/org/copy:1`)).toBe(image.digest)
  })

  test("an allow-list naming the empty config and the bundle layer lets the bundle in", async () => {
    const permissive = await startQuay({ upstream: quay.upstream, allowedArtifactTypes: { [EMPTY_CONFIG]: [BUNDLE] } })
    try {
      const put = await putManifest(permissive.url, "org/app", bundle)
      expect(put.status).toBe(201)
      expect((await headManifest(quay.upstream.url, "org/app", put.digest)).digest).toBe(put.digest)
    } finally {
      await permissive.stop()
    }
  })
})

describe("mount= without from=", () => {
  test("is answered 400 INVALID_REQUEST; with from= the registry behind mounts the blob", async () => {
    const layer = image.blobs[0]!
    const without = await startUpload(quay.url, "org/other", `mount=${encodeURIComponent(layer)}`)
    expect(without.response.status).toBe(400)
    expect(JSON.parse(without.body)).toEqual({ errors: [{ code: "INVALID_REQUEST", message: "Missing `from` repository argument", detail: {} }] })
    const withFrom = await startUpload(quay.url, "org/other", `mount=${encodeURIComponent(layer)}&from=org%2Fapp`)
    expect(withFrom.response.status).toBe(201)
  })
})
