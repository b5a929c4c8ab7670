/**
 * Workload generation (not timed): N deterministic two-platform images sharing one base
 * layer, pushed concurrently; thousands of copies of one small image (scale); and one image
 * whose single layer is a large gzip'd tar, written to disk as a stream and uploaded from the
 * file, so nothing large is ever held in memory.
 */
import { createCipheriv, createHash } from "node:crypto"
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs"
import { readdir, readFile, rm } from "node:fs/promises"
import { join, relative } from "node:path"
import { Readable, Transform } from "node:stream"
import { pipeline } from "node:stream/promises"
import { createGzip } from "node:zlib"
import { buildImage, pushImage, pushRawManifest, sha256Digest } from "../demo/SampleImages.ts"
import type { SampleImageSpec, SamplePlatform } from "../demo/SampleImages.ts"

/** One image of the source registry, as the tools see it. */
export interface BenchImage {
  /** "bench/app-7" */
  readonly repository: string
  readonly tag: string
  /** digest of the top-level index */
  readonly digest: string
}

/** The generated image set. */
export interface ImageSet {
  readonly images: ReadonlyArray<BenchImage>
  /** digest of the base layer every platform of every image starts with */
  readonly baseDigest: string
  readonly baseBytes: number
  readonly seconds: number
}

export const PLATFORMS: ReadonlyArray<SamplePlatform> = [
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "arm64" }
]

/** Runs fn over items with at most `limit` in flight; results in input order. */
export const mapLimit = async <A, B>(items: ReadonlyArray<A>, limit: number, fn: (item: A, index: number) => Promise<B>): Promise<Array<B>> => {
  const results = new Array<B>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i] as A, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** The repository of image i. */
export const appRepository = (i: number): string => `bench/app-${i}`

/** Pushes `count` two-platform images `bench/app-i:1` that share a base layer of `baseSize` bytes. */
export const pushImageSet = async (registryUrl: string, count: number, baseSize: number): Promise<ImageSet> => {
  const started = performance.now()
  const base = { seed: "bench-base", size: baseSize }
  // the base layer's digest, from a probe image that has only that layer
  const probe = buildImage({ platforms: [PLATFORMS[0]!], index: false, seed: "probe", layers: 0, sharedBaseLayer: base })
  const layers = (JSON.parse(new TextDecoder().decode(probe.top.bytes)) as { layers: Array<{ digest: string; size: number }> }).layers
  const baseLayer = layers[0]
  if (baseLayer === undefined) throw new Error("probe image has no base layer")
  const indexes = Array.from({ length: count }, (_, i) => i)
  const images = await mapLimit(indexes, 8, async (i) => {
    const pushed = await pushImage(registryUrl, appRepository(i), "1", { platforms: PLATFORMS, seed: `app-${i}`, sharedBaseLayer: base })
    return { repository: appRepository(i), tag: "1", digest: pushed.digest }
  })
  return { images, baseDigest: baseLayer.digest, baseBytes: baseLayer.size, seconds: (performance.now() - started) / 1000 }
}

/** The scale set: many images of one content. */
export interface ScaleSet {
  readonly images: ReadonlyArray<BenchImage>
  readonly seconds: number
}

/** The repository of scale image i. */
export const scaleRepository = (i: number): string => `bench/scale-${i}`

/** Where distribution's filesystem storage keeps repositories, under a LocalRegistry's dir. */
const REPOSITORIES = "data/docker/registry/v2/repositories"

/** Every directory and file under `dir`, relative to it, with the files' bytes. */
const readTree = async (dir: string): Promise<{ dirs: Array<string>; files: Array<{ path: string; bytes: Uint8Array }> }> => {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const dirs: Array<string> = []
  const files: Array<{ path: string; bytes: Uint8Array }> = []
  for (const e of entries) {
    const path = relative(dir, join(e.parentPath, e.name))
    if (e.isDirectory()) dirs.push(path)
    else files.push({ path, bytes: await readFile(join(dir, path)) })
  }
  return { dirs, files }
}

/**
 * Pushes `count` images `bench/scale-i:1`, all one small two-platform image: pushed once over
 * HTTP, then its repository directory (link files only: blobs are shared storage) copied on
 * disk to every other repository. Pushing thousands of images over the API takes minutes on
 * 2 cores and measures the registry, not the tool. A repository per image rather than many
 * tags in one: copying many tags of one manifest into one repository at once fails now and
 * then with MANIFEST_BLOB_UNKNOWN, even with its blobs already there (most likely the
 * registry's race: distribution rewrites a repository's link files in place).
 */
export const pushScaleSet = async (registry: { readonly url: string; readonly dir: string }, count: number): Promise<ScaleSet> => {
  const started = performance.now()
  const spec: SampleImageSpec = { platforms: PLATFORMS, seed: "scale", layers: 1, layerSize: 1024 }
  const pushed = await pushImage(registry.url, scaleRepository(0), "1", spec)
  const root = join(registry.dir, REPOSITORIES)
  const tree = await readTree(join(root, scaleRepository(0)))
  // synchronous: tens of thousands of tiny writes, where a thread-pool round trip each costs more than the write
  const leaves = ["", ...tree.dirs].filter((d) => !tree.dirs.some((other) => other.startsWith(`${d}/`) || (d === "" && other !== "")))
  for (let i = 1; i < count; i++) {
    const dir = join(root, scaleRepository(i))
    for (const d of leaves) mkdirSync(join(dir, d), { recursive: true })
    for (const f of tree.files) writeFileSync(join(dir, f.path), f.bytes)
  }
  const images = Array.from({ length: count }, (_, i) => ({ repository: scaleRepository(i), tag: "1", digest: pushed.digest }))
  return { images, seconds: (performance.now() - started) / 1000 }
}

/** The big image as pushed. */
export interface BigImage extends BenchImage {
  readonly layerDigest: string
  /** bytes of the layer blob */
  readonly layerBytes: number
  readonly seconds: number
}

const MIB = 1024 * 1024

/** A valid ustar header for one regular file of `size` bytes. */
const tarHeader = (name: string, size: number): Uint8Array => {
  const header = new Uint8Array(512)
  const put = (offset: number, value: string) => header.set(new TextEncoder().encode(value), offset)
  put(0, name)
  put(100, "0000644\0")
  put(108, "0000000\0")
  put(116, "0000000\0")
  put(124, `${size.toString(8).padStart(11, "0")}\0`)
  put(136, "00000000000\0")
  put(148, "        ")
  put(156, "0")
  put(257, "ustar\0")
  put(263, "00")
  const checksum = header.reduce((sum, byte) => sum + byte, 0)
  put(148, `${checksum.toString(8).padStart(6, "0")}\0 `)
  return header
}

/**
 * Writes a gzip'd (stored blocks: fast, and incompressible content would not shrink anyway)
 * one-file tar of about `size` bytes to `path`, content from an AES-CTR keystream; returns the
 * blob digest, its size, and the diff ID (digest of the tar).
 */
export const writeBigLayer = async (path: string, size: number, seed: string): Promise<{ digest: string; bytes: number; diffId: string }> => {
  // tar = header + content padded to 512 + two zero blocks; gzip adds ~5 bytes per 64 KiB block
  const contentSize = Math.max(1, size - 2048 - Math.ceil(size / 65_535) * 5 - 18)
  const cipher = createCipheriv("aes-256-ctr", createHash("sha256").update(`bench-big:${seed}`).digest(), Buffer.alloc(16))
  const tarHash = createHash("sha256")
  const zeros = Buffer.alloc(MIB)
  async function* tar(): AsyncGenerator<Uint8Array> {
    const emit = (chunk: Uint8Array): Uint8Array => {
      tarHash.update(chunk)
      return chunk
    }
    yield emit(tarHeader("big.bin", contentSize))
    for (let left = contentSize; left > 0; left -= MIB) {
      yield emit(cipher.update(left >= MIB ? zeros : zeros.subarray(0, left)))
    }
    yield emit(new Uint8Array((512 - (contentSize % 512)) % 512 + 1024))
  }
  const blobHash = createHash("sha256")
  let bytes = 0
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      blobHash.update(chunk)
      bytes += chunk.length
      done(null, chunk)
    }
  })
  await pipeline(Readable.from(tar()), createGzip({ level: 0 }), count, createWriteStream(path))
  return { digest: `sha256:${blobHash.digest("hex")}`, bytes, diffId: `sha256:${tarHash.digest("hex")}` }
}

/** POST + monolithic PUT of a blob to an anonymous loopback registry; body from memory or a file. */
export const pushBlob = async (registryUrl: string, repository: string, digest: string, body: Uint8Array | Blob): Promise<void> => {
  const start = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: "POST", proxy: false })
  await start.arrayBuffer()
  const location = start.headers.get("location")
  if (start.status !== 202 || location === null) throw new Error(`POST upload to ${repository}: HTTP ${start.status}`)
  const url = new URL(location, registryUrl)
  url.searchParams.set("digest", digest)
  const put = await fetch(url, { method: "PUT", body, headers: { "content-type": "application/octet-stream" }, proxy: false })
  const text = await put.text()
  if (put.status !== 201) throw new Error(`PUT blob ${digest} to ${repository}: HTTP ${put.status} ${text.slice(0, 200)}`)
}

const OCI = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip"
} as const

/** Writes the big layer to `path`, pushes `bench/big:1` (an index with one linux/amd64 child), removes the file. */
export const pushBigImage = async (registryUrl: string, path: string, size: number): Promise<BigImage> => {
  const started = performance.now()
  const repository = "bench/big"
  const layer = await writeBigLayer(path, size, `${size}`)
  try {
    await pushBlob(registryUrl, repository, layer.digest, Bun.file(path))
  } finally {
    await rm(path, { force: true })
  }
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))
  const config = encode({
    architecture: "amd64",
    os: "linux",
    created: "1970-01-01T00:00:00Z",
    config: {},
    rootfs: { type: "layers", diff_ids: [layer.diffId] },
    history: [{ created: "1970-01-01T00:00:00Z", created_by: "bench big layer" }]
  })
  const configDigest = sha256Digest(config)
  await pushBlob(registryUrl, repository, configDigest, config)
  const manifest = encode({
    schemaVersion: 2,
    mediaType: OCI.manifest,
    config: { mediaType: OCI.config, digest: configDigest, size: config.length },
    layers: [{ mediaType: OCI.layer, digest: layer.digest, size: layer.bytes }]
  })
  const manifestDigest = await pushRawManifest(registryUrl, repository, sha256Digest(manifest), manifest, OCI.manifest)
  const index = encode({
    schemaVersion: 2,
    mediaType: OCI.index,
    manifests: [{ mediaType: OCI.manifest, digest: manifestDigest, size: manifest.length, platform: { architecture: "amd64", os: "linux" } }]
  })
  const digest = await pushRawManifest(registryUrl, repository, "1", index, OCI.index)
  return {
    repository,
    tag: "1",
    digest,
    layerDigest: layer.digest,
    layerBytes: layer.bytes,
    seconds: (performance.now() - started) / 1000
  }
}
