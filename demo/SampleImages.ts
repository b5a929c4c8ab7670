/**
 * Deterministic sample images (gzip'd tar layers, configs, manifests, indexes) built in memory
 * and pushed over the registry HTTP API. Same spec → same bytes → same digests.
 */
import { createCipheriv, createHash } from "node:crypto"
import { gzipSync } from "node:zlib"

/** A platform of a sample image. */
export interface SamplePlatform {
  readonly os: string
  readonly architecture: string
  readonly variant?: string
}

/** What to build: platforms, format, seeded content. */
export interface SampleImageSpec {
  /** 1 platform + index:false → a single manifest; otherwise an index */
  readonly platforms: ReadonlyArray<SamplePlatform>
  /** default: platforms.length > 1 */
  readonly index?: boolean
  /** media types; default "oci" */
  readonly format?: "oci" | "docker"
  /** deterministic content: same seed → same digests */
  readonly seed: string
  /** seeded layers per platform, default 2 (the shared base layer comes on top of these) */
  readonly layers?: number
  /** bytes of seeded content per layer before gzip, default 4096 */
  readonly layerSize?: number
  /** an identical first layer in every platform (and across images using the same seed) */
  readonly sharedBaseLayer?: { readonly seed: string; readonly size: number }
}

/** A manifest or index as built: exact bytes plus descriptor fields. */
export interface BuiltManifest {
  readonly digest: string
  readonly mediaType: string
  readonly size: number
  readonly bytes: Uint8Array
}

/** A child manifest of an index, with the platform it is listed under. */
export interface BuiltChild extends BuiltManifest {
  readonly platform: SamplePlatform
}

/** An image built in memory, ready to push. */
export interface BuiltImage {
  /** the top-level manifest or index */
  readonly top: BuiltManifest
  /** child manifests of the index, in index order; empty for a single manifest */
  readonly children: ReadonlyArray<BuiltChild>
  /** every blob (configs + layers) by digest, without duplicates, in push order */
  readonly blobs: ReadonlyMap<string, Uint8Array>
}

/** The result of pushImage. */
export interface PushedImage {
  /** digest of the top-level manifest or index */
  readonly digest: string
  readonly mediaType: string
  readonly size: number
  readonly manifestBytes: Uint8Array
  readonly children: ReadonlyArray<{ readonly digest: string; readonly platform: SamplePlatform; readonly mediaType: string }>
  /** every blob digest (configs + layers) */
  readonly blobs: ReadonlyArray<string>
}

/** Credentials for pushImage / pushRawManifest: Basic, or a ready bearer token. */
export type SampleAuth = { readonly username: string; readonly password: string } | { readonly bearer: string }

/** Media types per format. */
export const SAMPLE_MEDIA_TYPES = {
  oci: {
    index: "application/vnd.oci.image.index.v1+json",
    manifest: "application/vnd.oci.image.manifest.v1+json",
    config: "application/vnd.oci.image.config.v1+json",
    layer: "application/vnd.oci.image.layer.v1.tar+gzip"
  },
  docker: {
    index: "application/vnd.docker.distribution.manifest.list.v2+json",
    manifest: "application/vnd.docker.distribution.manifest.v2+json",
    config: "application/vnd.docker.container.image.v1+json",
    layer: "application/vnd.docker.image.rootfs.diff.tar.gzip"
  }
} as const

/** "sha256:<hex>" of exact bytes. */
export const sha256Digest = (bytes: Uint8Array): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`

/** size bytes of pseudo-random content derived from seed (AES-256-CTR keystream: fast and stable). */
const seededBytes = (seed: string, size: number): Uint8Array => {
  const key = createHash("sha256").update(`sample-image:${seed}`).digest()
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16))
  return new Uint8Array(Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]))
}

/** Writes an ASCII string into a tar header field. */
const putField = (header: Uint8Array, offset: number, length: number, value: string): void => {
  const bytes = new TextEncoder().encode(value)
  if (bytes.length > length) throw new Error(`tar field too long: ${value}`)
  header.set(bytes, offset)
}

/** A valid ustar archive with one regular file (mode 0644, uid/gid 0, mtime 0) and the end-of-archive blocks. */
const tarSingleFile = (name: string, content: Uint8Array): Uint8Array => {
  const header = new Uint8Array(512)
  putField(header, 0, 100, name)
  putField(header, 100, 8, "0000644\0")
  putField(header, 108, 8, "0000000\0")
  putField(header, 116, 8, "0000000\0")
  putField(header, 124, 12, `${content.length.toString(8).padStart(11, "0")}\0`)
  putField(header, 136, 12, "00000000000\0")
  putField(header, 148, 8, "        ") // checksum is computed over spaces in its own field
  putField(header, 156, 1, "0")
  putField(header, 257, 6, "ustar\0")
  putField(header, 263, 2, "00")
  putField(header, 265, 32, "root")
  putField(header, 297, 32, "root")
  const checksum = header.reduce((sum, byte) => sum + byte, 0)
  putField(header, 148, 8, `${checksum.toString(8).padStart(6, "0")}\0 `)
  const padded = Math.ceil(content.length / 512) * 512
  const tar = new Uint8Array(512 + padded + 1024)
  tar.set(header, 0)
  tar.set(content, 512)
  return tar
}

interface BuiltLayer {
  readonly digest: string
  readonly diffId: string
  readonly bytes: Uint8Array
}

/** A gzip'd single-file tar layer; gzipSync writes mtime 0, so the bytes are deterministic. */
const buildLayer = (fileName: string, seed: string, size: number): BuiltLayer => {
  const tar = tarSingleFile(fileName, seededBytes(seed, size))
  const bytes = new Uint8Array(gzipSync(tar, { level: 6 }))
  return { digest: sha256Digest(bytes), diffId: sha256Digest(tar), bytes }
}

const encodeJson = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

/** Platform object with the optional variant only when present. */
const platformJson = (p: SamplePlatform): SamplePlatform =>
  p.variant === undefined ? { architecture: p.architecture, os: p.os } : { architecture: p.architecture, os: p.os, variant: p.variant }

const platformKey = (p: SamplePlatform): string => [p.os, p.architecture, p.variant ?? ""].join("/")

/** builds the image deterministically in memory (gzip'd tar layers with seeded content, a config with os/architecture/rootfs.diff_ids, manifests, index) */
export const buildImage = (spec: SampleImageSpec): BuiltImage => {
  if (spec.platforms.length === 0) throw new Error("buildImage: at least one platform is required")
  const useIndex = spec.index ?? spec.platforms.length > 1
  if (!useIndex && spec.platforms.length > 1) throw new Error("buildImage: several platforms need an index")
  const types = SAMPLE_MEDIA_TYPES[spec.format ?? "oci"]
  const layerCount = spec.layers ?? 2
  const layerSize = spec.layerSize ?? 4096
  const blobs = new Map<string, Uint8Array>()
  const base = spec.sharedBaseLayer === undefined
    ? undefined
    : buildLayer("base.bin", `base:${spec.sharedBaseLayer.seed}`, spec.sharedBaseLayer.size)

  const manifests = spec.platforms.map((platform): BuiltChild => {
    const layers: Array<BuiltLayer> = base === undefined ? [] : [base]
    for (let i = 0; i < layerCount; i++) {
      layers.push(buildLayer(`layer-${i}.bin`, `layer:${spec.seed}:${platformKey(platform)}:${i}`, layerSize))
    }
    const configBytes = encodeJson({
      ...platformJson(platform),
      created: "1970-01-01T00:00:00Z",
      config: {},
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((_, i) => ({ created: "1970-01-01T00:00:00Z", created_by: `sample layer ${i}` }))
    })
    const configDigest = sha256Digest(configBytes)
    blobs.set(configDigest, configBytes)
    for (const layer of layers) blobs.set(layer.digest, layer.bytes)
    const bytes = encodeJson({
      schemaVersion: 2,
      mediaType: types.manifest,
      config: { mediaType: types.config, digest: configDigest, size: configBytes.length },
      layers: layers.map((l) => ({ mediaType: types.layer, digest: l.digest, size: l.bytes.length }))
    })
    return { digest: sha256Digest(bytes), mediaType: types.manifest, size: bytes.length, bytes, platform }
  })

  if (!useIndex) {
    const [only] = manifests
    if (only === undefined) throw new Error("unreachable: no manifest")
    const { platform: _platform, ...top } = only
    return { top, children: [], blobs }
  }
  const indexBytes = encodeJson({
    schemaVersion: 2,
    mediaType: types.index,
    manifests: manifests.map((m) => ({
      mediaType: m.mediaType,
      digest: m.digest,
      size: m.size,
      platform: platformJson(m.platform)
    }))
  })
  return {
    top: { digest: sha256Digest(indexBytes), mediaType: types.index, size: indexBytes.length, bytes: indexBytes },
    children: manifests,
    blobs
  }
}

/** A fetch wrapper for one registry: auth header, no proxy, loopback self-signed TLS accepted. */
interface Client {
  readonly send: (method: string, url: string, init?: { readonly headers?: Record<string, string>; readonly body?: Uint8Array }) => Promise<Response>
}

const isLoopback = (url: URL): boolean => url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]"

// Written out here on purpose: the sample pusher sets up what the client under test reads, so it
// shares none of the client's code.
const basicHeader = (username: string, password: string): string => `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`

/** key=value pairs of a WWW-Authenticate challenge (values may be quoted and contain commas). */
const challengeParams = (header: string): Record<string, string> => {
  const params: Record<string, string> = {}
  for (const m of header.matchAll(/([A-Za-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g)) {
    const [, key = "", quoted, bare] = m
    params[key.toLowerCase()] = quoted ?? bare ?? ""
  }
  return params
}

const makeClient = async (registryUrl: string, repository: string, auth: SampleAuth | undefined): Promise<Client> => {
  const base = new URL(registryUrl)
  // self-signed certs are expected only on the loopback registries these helpers target
  const tls = base.protocol === "https:" && isLoopback(base) ? { rejectUnauthorized: false } : undefined
  const raw = (method: string, url: string, headers: Record<string, string>, body?: Uint8Array): Promise<Response> =>
    fetch(url, { method, headers, body, redirect: "manual", proxy: false, ...(tls === undefined ? {} : { tls }) })

  let authorization: string | undefined
  if (auth !== undefined && "bearer" in auth) authorization = `Bearer ${auth.bearer}`
  if (auth !== undefined && "username" in auth) {
    authorization = basicHeader(auth.username, auth.password)
    // a token registry wants the Basic credentials at its realm, exchanged for a push token
    const ping = await raw("GET", new URL("/v2/", base).href, {})
    await ping.arrayBuffer()
    const challenge = ping.headers.get("www-authenticate") ?? ""
    if (ping.status === 401 && /^bearer\s/i.test(challenge)) {
      const params = challengeParams(challenge)
      if (params["realm"] === undefined) throw new Error(`bearer challenge without realm: ${challenge}`)
      const tokenUrl = new URL(params["realm"])
      if (params["service"] !== undefined) tokenUrl.searchParams.set("service", params["service"])
      tokenUrl.searchParams.append("scope", `repository:${repository}:pull,push`)
      const response = await fetch(tokenUrl, { headers: { authorization }, proxy: false })
      if (!response.ok) throw new Error(`token request to ${tokenUrl.origin}${tokenUrl.pathname} failed: ${response.status} ${await response.text()}`)
      const body = (await response.json()) as { token?: string; access_token?: string }
      const token = body.token ?? body.access_token
      if (token === undefined) throw new Error("token response has neither token nor access_token")
      authorization = `Bearer ${token}`
    }
  }
  const withAuth = (headers: Record<string, string>): Record<string, string> => authorization === undefined ? headers : { ...headers, authorization }
  return {
    send: (method, url, init = {}) => {
      // never hand the registry credentials to another host
      const sameOrigin = new URL(url).origin === base.origin
      return raw(method, url, sameOrigin ? withAuth(init.headers ?? {}) : { ...init.headers }, init.body)
    }
  }
}

/** Throws a descriptive error unless response.status is one of expected. */
const expectStatus = async (response: Response, expected: ReadonlyArray<number>, what: string): Promise<void> => {
  if (expected.includes(response.status)) return
  throw new Error(`${what}: unexpected status ${response.status}: ${await response.text()}`)
}

const v2 = (registryUrl: string, path: string): string => new URL(`/v2/${path}`, registryUrl).href

/** HEAD-skip, else POST an upload session and PUT the blob monolithically. */
const pushBlob = async (client: Client, registryUrl: string, repository: string, digest: string, bytes: Uint8Array): Promise<void> => {
  const head = await client.send("HEAD", v2(registryUrl, `${repository}/blobs/${digest}`))
  if (head.status === 200) return
  await expectStatus(head, [404], `HEAD blob ${digest}`)
  const start = await client.send("POST", v2(registryUrl, `${repository}/blobs/uploads/`))
  await expectStatus(start, [202], `POST upload for ${digest}`)
  await start.arrayBuffer()
  const location = start.headers.get("location")
  if (location === null) throw new Error(`POST upload for ${digest}: no Location header`)
  // Location may be relative and carries _state: add digest via searchParams, never by concatenation
  const target = new URL(location, start.url || v2(registryUrl, `${repository}/blobs/uploads/`))
  target.searchParams.set("digest", digest)
  const put = await client.send("PUT", target.href, {
    headers: { "content-type": "application/octet-stream", "content-length": String(bytes.length) },
    body: bytes
  })
  await expectStatus(put, [201], `PUT blob ${digest}`)
  await put.arrayBuffer()
}

/** PUTs exact manifest bytes; returns the digest (checked against Docker-Content-Digest when sent). */
const putManifest = async (
  client: Client,
  registryUrl: string,
  repository: string,
  reference: string,
  bytes: Uint8Array,
  mediaType: string
): Promise<string> => {
  const digest = sha256Digest(bytes)
  const response = await client.send("PUT", v2(registryUrl, `${repository}/manifests/${reference}`), {
    headers: { "content-type": mediaType },
    body: bytes
  })
  await expectStatus(response, [201], `PUT manifest ${repository}:${reference}`)
  await response.arrayBuffer()
  const reported = response.headers.get("docker-content-digest")
  if (reported !== null && reported !== digest) {
    throw new Error(`registry stored ${repository}:${reference} as ${reported}, expected ${digest}`)
  }
  return digest
}

/** pushes blobs (HEAD-skip, POST+PUT monolithic), child manifests by digest, then the top-level by tag (if tag given) — via fetch, with optional Basic auth or bearer token */
export const pushImage = async (
  registryUrl: string,
  repository: string,
  reference: string,
  spec: SampleImageSpec,
  auth?: SampleAuth
): Promise<PushedImage> => {
  const image = buildImage(spec)
  const client = await makeClient(registryUrl, repository, auth)
  for (const [digest, bytes] of image.blobs) await pushBlob(client, registryUrl, repository, digest, bytes)
  for (const child of image.children) {
    await putManifest(client, registryUrl, repository, child.digest, child.bytes, child.mediaType)
  }
  await putManifest(client, registryUrl, repository, reference, image.top.bytes, image.top.mediaType)
  return {
    digest: image.top.digest,
    mediaType: image.top.mediaType,
    size: image.top.size,
    manifestBytes: image.top.bytes,
    children: image.children.map((c) => ({ digest: c.digest, platform: c.platform, mediaType: c.mediaType })),
    blobs: [...image.blobs.keys()]
  }
}

/** push raw manifest bytes (e.g. to create a conflicting tag); returns the digest of the bytes */
export const pushRawManifest = async (
  registryUrl: string,
  repository: string,
  reference: string,
  bytes: Uint8Array,
  mediaType: string,
  auth?: SampleAuth
): Promise<string> => {
  const client = await makeClient(registryUrl, repository, auth)
  return putManifest(client, registryUrl, repository, reference, bytes, mediaType)
}
