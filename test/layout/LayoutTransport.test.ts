/**
 * The layout transport (`--from`): validated up front, sources found by ref name from the
 * endpoint's registry identity (a mirror host changes nothing), copies in the oci order
 * (blobs, children by digest, tag last) into the real target, and no request for a source
 * location ever reaches the registry client — not even Sign's direct referrers lookup.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test"
import { Effect, Either, Layer, Option, Stream } from "effect"
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseDefinition } from "../../src/domain/Definition.ts"
import { buildImage } from "../../src/demo/SampleImages.ts"
import type { BuiltImage } from "../../src/demo/SampleImages.ts"
import { LayoutExport } from "../../src/layout/Export.ts"
import { layoutRegistryClient } from "../../src/layout/LayoutClient.ts"
import { openLayout } from "../../src/layout/LayoutReader.ts"
import { openWriter } from "../../src/layout/LayoutWriter.ts"
import { packLayout } from "../../src/layout/Tar.ts"
import { Credentials } from "../../src/oci/Credentials.ts"
import { RegistryClient } from "../../src/oci/RegistryClient.ts"
import { Exec } from "../../src/process/Exec.ts"
import { RegistryUnavailable, Transport } from "../../src/pipeline/Transport.ts"
import type { ImageLocation } from "../../src/pipeline/Transport.ts"
import { layerFrom } from "../../plugins/transports/layout.ts"
import type { TransportLayer } from "../../src/pipeline/TransportLoader.ts"
import { endpoint, fakeRegistries, location } from "./fakeRegistryClient.ts"
import type { FakeRegistries } from "./fakeRegistryClient.ts"

const TWO = [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }] as const
const AMD64 = [{ os: "linux", architecture: "amd64" }] as const
const sigTag = (digest: string) => `${digest.replace(":", "-")}.sig`

let dir: string
let layoutDir: string
let world: FakeRegistries
let multi: BuiltImage
let single: BuiltImage
let sig: BuiltImage

// The source as Resolve would locate it: identity registry.example, bytes from a mirror host.
const source = (reference: string, repository = "team/multi"): ImageLocation =>
  location(endpoint("mirror.example", "source", "registry.example"), repository, reference)
const target = (reference: string, repository = "mirror/team/multi"): ImageLocation =>
  location(endpoint("target.example", "target"), repository, reference)

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "layout-transport-"))
  layoutDir = join(dir, "layout")
  // Export from a connected world…
  const connected = fakeRegistries()
  multi = buildImage({ platforms: TWO, seed: "multi", layers: 1, layerSize: 600 })
  single = buildImage({ platforms: AMD64, index: false, seed: "single", layers: 1, layerSize: 600 })
  sig = buildImage({ platforms: AMD64, index: false, seed: "sig", layers: 1, layerSize: 100 })
  connected.push("registry.example", "team/multi", "1", multi)
  connected.push("registry.example", "team/multi", sigTag(multi.top.digest), sig)
  connected.push("registry.example", "team/single", "1", single)
  const parsed = parseDefinition("images.yaml", [
    "targetRepoPrefix: \"target.example/mirror/\"",
    "images:",
    "  - source: \"registry.example/team/multi:1\"",
    "  - source: \"registry.example/team/single:1\"",
    "    amd64Only: true"
  ].join("\n"))
  if (Either.isLeft(parsed)) throw parsed.left
  const def = parsed.right
  await Effect.runPromise(
    Effect.gen(function*() {
      const exporter = yield* LayoutExport
      const writer = yield* openWriter(layoutDir)
      yield* Effect.forEach(def.images, (entry) => exporter.exportImage(entry, def, writer))
    }).pipe(Effect.provide(LayoutExport.layer().pipe(Layer.provide(Layer.succeed(RegistryClient, connected.client)))))
  )
  // …import into an air-gapped one that has only the target.
  world = fakeRegistries()
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Runs `body` with the layout transport wired as Live.ts wires a transport (client merged under it). */
const withLayout = <A, E>(transportLayer: TransportLayer, body: Effect.Effect<A, E, Transport | RegistryClient>) =>
  Effect.runPromise(
    body.pipe(Effect.provide(transportLayer.pipe(Layer.provideMerge(Layer.mergeAll(
      Layer.succeed(RegistryClient, world.client),
      Credentials.anonymous,
      Layer.succeed(Exec, { run: () => Effect.die(new Error("the layout transport runs no processes")) })
    )))))
  )

const layerOrThrow = (path: string) => Effect.runPromise(layerFrom(path))

describe("layerFrom validates up front", () => {
  test("a missing path, a directory that is no layout, a file that is no tar", async () => {
    const reason = async (path: string) => {
      const result = await Effect.runPromise(Effect.either(layerFrom(path)))
      if (Either.isRight(result)) throw new Error(`expected ${path} to be refused`)
      expect(result.left._tag).toBe("LayoutUnusable")
      return result.left.message
    }
    expect(await reason(join(dir, "nope"))).toBe(`layout ${join(dir, "nope")}: does not exist`)
    expect(await reason(dir)).toContain("not an OCI image layout")
    await writeFile(join(dir, "junk.tar"), "x".repeat(1024))
    expect(await reason(join(dir, "junk.tar"))).toContain("not a usable tar archive")
  })
})

describe("reading sources from the layout", () => {
  test("inspect, manifest and config by ref name from the registry identity, not the mirror host", async () => {
    const layer = await layerOrThrow(layoutDir)
    await withLayout(layer, Effect.gen(function*() {
      const transport = yield* Transport
      const found = yield* transport.inspect(source("1"))
      expect(Option.getOrThrow(found)).toEqual({ digest: multi.top.digest, mediaType: multi.top.mediaType, size: multi.top.size })
      expect((yield* transport.manifest(source("1"))).bytes).toEqual(multi.top.bytes)
      // a child by digest, and the upstream signature tag Sign looks for
      expect(Option.isSome(yield* transport.inspect(source(multi.children[0]!.digest)))).toBe(true)
      expect(Option.getOrThrow(yield* transport.inspect(source(sigTag(multi.top.digest)))).digest).toBe(sig.top.digest)
      expect(Option.isNone(yield* transport.inspect(source("2")))).toBe(true)
      const config = yield* transport.config(source(single.top.digest, "team/single"))
      expect(JSON.parse(new TextDecoder().decode(config)).architecture).toBe("amd64")
    }))
    expect(world.calls).toEqual([])
  })

  test("copy: blobs streamed from the layout, then children by digest, then the tag; byte-identical in the target", async () => {
    const layer = await layerOrThrow(layoutDir)
    const result = await withLayout(layer, Effect.gen(function*() {
      const transport = yield* Transport
      const m = Option.getOrThrow(yield* transport.inspect(source("1")))
      return yield* transport.copy(source("1"), target("1"), m)
    }))
    expect(world.manifest("target.example", "mirror/team/multi", "1")?.bytes).toEqual(multi.top.bytes)
    for (const [digest] of multi.blobs) expect(world.hasBlob("target.example", "mirror/team/multi", digest)).toBe(true)
    expect(result.blobsCopied).toBe(multi.blobs.size)
    const writes = world.calls.filter((c) => c.startsWith("uploadBlobStream ") || c.startsWith("putManifest "))
    const tagAt = writes.indexOf("putManifest target.example/mirror/team/multi:1")
    expect(tagAt).toBe(writes.length - 1)
    for (const child of multi.children) {
      const childAt = writes.indexOf(`putManifest target.example/mirror/team/multi@${child.digest}`)
      expect(childAt).toBeGreaterThan(-1)
      expect(childAt).toBeLessThan(tagAt)
    }
    expect(writes.findLastIndex((c) => c.startsWith("uploadBlobStream "))).toBeLessThan(writes.findIndex((c) => c.startsWith("putManifest ")))
    // nothing was asked of the source side
    expect(world.calls.filter((c) => c.includes("mirror.example") || c.includes("registry.example"))).toEqual([])
  })

  test("the client provided with the transport answers source requests from the layout (Sign's referrers lookup)", async () => {
    const layer = await layerOrThrow(layoutDir)
    await withLayout(layer, Effect.gen(function*() {
      const client = yield* RegistryClient
      expect(Option.isNone(yield* client.referrers(source("1"), multi.top.digest))).toBe(true)
      expect(Option.isSome(yield* client.headManifest(source("1")))).toBe(true)
      // target requests still reach the registry
      yield* client.referrers(target("1"), multi.top.digest)
    }))
    expect(world.calls).toEqual([`referrers target.example/mirror/team/multi ${multi.top.digest}`])
  })

  test("a blob upload that fails transiently is retried from the file (a layout can be read again)", async () => {
    const layout = await Effect.runPromise(openLayout(layoutDir))
    const [digest, bytes] = [...multi.blobs][0]!
    let tries = 0
    const flaky: RegistryClient["Type"] = {
      ...world.client,
      uploadBlobStream: (image, d, size, body) =>
        ++tries === 1
          ? Stream.runDrain(body).pipe(Effect.orDie, Effect.zipRight(Effect.fail(new RegistryUnavailable({ registry: "target.example", detail: "503" }))))
          : world.client.uploadBlobStream(image, d, size, body)
    }
    const fast = { attempts: 3, baseDelay: "1 millis", maxDelay: "1 millis", maxRetryAfter: "1 millis", maxTotal: "1 second" } as const
    const client = layoutRegistryClient(layout, flaky, "test", fast)
    expect(await Effect.runPromise(client.copyBlob(source("1"), target("1"), digest, bytes.length))).toBe(bytes.length)
    expect(tries).toBe(2)
    expect(world.hasBlob("target.example", "mirror/team/multi", digest)).toBe(true)
  })

  test("a .tar is extracted into a private temp dir, which is gone when the run ends", async () => {
    const tar = join(dir, "layout.tar")
    await Effect.runPromise(packLayout(layoutDir, tar))
    const temps = async () => (await readdir(tmpdir())).filter((n) => n.startsWith("image-syncer-layout-"))
    const before = await temps()
    const layer = await layerOrThrow(tar)
    const during = (await temps()).filter((n) => !before.includes(n))
    expect(during).toHaveLength(1)
    await withLayout(layer, Effect.gen(function*() {
      const transport = yield* Transport
      expect(Option.getOrThrow(yield* transport.inspect(source("1"))).digest).toBe(multi.top.digest)
    }))
    expect((await temps()).filter((n) => !before.includes(n))).toEqual([])
  })
})
