/**
 * The layout transport (`--from`): validated up front, sources found by ref name from the
 * endpoint's registry identity (a mirror host changes nothing), copies in the oci order
 * (blobs, children by digest, tag last) into the target, and no request for a source
 * location ever reaches the registry — not even Sign's referrers lookup.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test"
import { Effect, Either, Layer, Option } from "effect"
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { buildImage } from "../../demo/SampleImages.ts"
import type { BuiltImage } from "../../demo/SampleImages.ts"
import { TagLists } from "../../src/pipeline/TagLists.ts"
import { LayoutExport, sourceAnnotations } from "../../src/pipeline/Export.ts"
import { layoutSource } from "../../src/layout/LayoutStore.ts"
import { openLayout } from "../../src/layout/LayoutReader.ts"
import { openWriter } from "../../src/layout/LayoutWriter.ts"
import { packLayout } from "../../src/layout/Tar.ts"
import { Credentials } from "../../src/transport/Credentials.ts"
import type { RegistryClient } from "../../src/oci/RegistryClient.ts"
import { clientPair, RegistryClients } from "../../src/transport/RegistryClients.ts"
import { Exec } from "../../src/process/Exec.ts"
import { exportLayer, layerFrom } from "../../plugins/transports/layout.ts"
import { endpoint, fakeRegistries, location } from "../support/FakeRegistryStore.ts"
import type { FakeRegistries } from "../support/FakeRegistryStore.ts"
import type { ImageLocation } from "../../src/model/Location.ts"
import { Transport } from "../../src/transport/Transport.ts"
import type { TransportLayer } from "../../src/transport/Transport.ts"
import { parseDefinition } from "../../src/definition/Parse.ts"

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
const target = (reference: string, repository = "mirror/team/multi"): ImageLocation => location(endpoint("target.example", "target"), repository, reference)

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
  const parsed = parseDefinition(
    "images.yaml",
    [
      "targetRepoPrefix: \"target.example/mirror/\"",
      "images:",
      "  - source: \"registry.example/team/multi:1\"",
      "  - source: \"registry.example/team/single:1\"",
      "    amd64Only: true"
    ].join("\n")
  )
  if (Either.isLeft(parsed)) throw parsed.left
  const def = parsed.right
  await Effect.runPromise(
    Effect.gen(function*() {
      const writer = yield* openWriter(layoutDir)
      yield* Effect.flatMap(LayoutExport, (exporter) => Effect.forEach(def.images, (entry) => exporter.exportImage(entry, def))).pipe(
        Effect.provide(LayoutExport.layer.pipe(
          Layer.provide(TagLists.layer),
          Layer.provide(exportLayer(writer, sourceAnnotations(def))),
          Layer.provide(Layer.succeed(RegistryClients, clientPair(connected.client, connected.client)))
        ))
      )
    })
  )
  // …import into an air-gapped one that has only the target.
  world = fakeRegistries()
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Runs `body` with the layout transport wired as Live.ts wires a transport (client merged under it). */
const withLayout = <A, E>(transportLayer: TransportLayer, body: Effect.Effect<A, E, Transport | RegistryClients>) =>
  Effect.runPromise(
    body.pipe(Effect.provide(transportLayer.pipe(Layer.provideMerge(Layer.mergeAll(
      Layer.succeed(RegistryClients, clientPair(world.client, world.client)),
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
  test("inspect, manifest and blob by ref name from the registry identity, not the mirror host", async () => {
    const layer = await layerOrThrow(layoutDir)
    await withLayout(
      layer,
      Effect.gen(function*() {
        const transport = yield* Transport
        const found = yield* transport.inspect(source("1"))
        expect(Option.getOrThrow(found)).toEqual({ digest: multi.top.digest, mediaType: multi.top.mediaType, size: multi.top.size })
        expect((yield* transport.manifest(source("1"))).bytes).toEqual(multi.top.bytes)
        // a child by digest, and the upstream signature tag Sign looks for
        expect(Option.isSome(yield* transport.inspect(source(multi.children[0]!.digest)))).toBe(true)
        expect(Option.getOrThrow(yield* transport.inspect(source(sigTag(multi.top.digest)))).digest).toBe(sig.top.digest)
        expect(Option.isNone(yield* transport.inspect(source("2")))).toBe(true)
        const configDigest = (JSON.parse(new TextDecoder().decode(single.top.bytes)) as { config: { digest: string } }).config.digest
        const config = yield* transport.blob(source(single.top.digest, "team/single"), configDigest)
        expect(JSON.parse(new TextDecoder().decode(config)).architecture).toBe("amd64")
      })
    )
    expect(world.calls).toEqual([])
  })

  test("copy: blobs streamed from the layout, then children by digest, then the tag; byte-identical in the target", async () => {
    const layer = await layerOrThrow(layoutDir)
    const result = await withLayout(
      layer,
      Effect.gen(function*() {
        const transport = yield* Transport
        const m = Option.getOrThrow(yield* transport.inspect(source("1")))
        return yield* transport.copy(source("1"), target("1"), m)
      })
    )
    expect(world.manifest("target.example", "mirror/team/multi", "1")?.bytes).toEqual(multi.top.bytes)
    for (const [digest] of multi.blobs) expect(world.hasBlob("target.example", "mirror/team/multi", digest)).toBe(true)
    expect(result.blobsCopied).toBe(multi.blobs.size)
    const writes = world.calls.filter((c) => c.startsWith("writeBlob ") || c.startsWith("putManifest "))
    const tagAt = writes.indexOf("putManifest target.example/mirror/team/multi:1")
    expect(tagAt).toBe(writes.length - 1)
    for (const child of multi.children) {
      const childAt = writes.indexOf(`putManifest target.example/mirror/team/multi@${child.digest}`)
      expect(childAt).toBeGreaterThan(-1)
      expect(childAt).toBeLessThan(tagAt)
    }
    expect(writes.findLastIndex((c) => c.startsWith("writeBlob "))).toBeLessThan(writes.findIndex((c) => c.startsWith("putManifest ")))
    // nothing was asked of the source side
    expect(world.calls.filter((c) => c.includes("mirror.example") || c.includes("registry.example"))).toEqual([])
  })

  test("source reads (Sign's referrers lookup, a HEAD) are answered from the layout; target reads reach the registry", async () => {
    const layer = await layerOrThrow(layoutDir)
    await withLayout(
      layer,
      Effect.gen(function*() {
        const transport = yield* Transport
        expect(Option.isNone(yield* transport.referrers(source("1"), multi.top.digest))).toBe(true)
        expect(Option.isSome(yield* transport.inspect(source("1")))).toBe(true)
        yield* transport.referrers(target("1"), multi.top.digest)
      })
    )
    expect(world.calls).toEqual([`referrers target.example/mirror/team/multi ${multi.top.digest}`])
  })

  test("a layout blob can be opened again for every try of an upload, each time whole and verified", async () => {
    const layout = await Effect.runPromise(openLayout(layoutDir))
    const store = layoutSource(layout)
    const [digest, bytes] = [...multi.blobs][0]!
    const read = () =>
      Effect.runPromise(
        Effect.flatMap(store.openBlob(source("1"), digest, bytes.length, { count: 0 }), (body) => Effect.promise(() => new Response(body.stream).arrayBuffer()))
      )
    const first = new Uint8Array(await read())
    const second = new Uint8Array(await read())
    expect(Buffer.from(first).equals(Buffer.from(bytes))).toBe(true)
    expect(Buffer.from(second).equals(Buffer.from(bytes))).toBe(true)
  })

  test("a .tar is extracted into a private temp dir, which is gone when the run ends", async () => {
    const tar = join(dir, "layout.tar")
    await Effect.runPromise(packLayout(layoutDir, tar))
    const temps = async () => (await readdir(tmpdir())).filter((n) => n.startsWith("image-syncer-layout-"))
    const before = await temps()
    const layer = await layerOrThrow(tar)
    const during = (await temps()).filter((n) => !before.includes(n))
    expect(during).toHaveLength(1)
    await withLayout(
      layer,
      Effect.gen(function*() {
        const transport = yield* Transport
        expect(Option.getOrThrow(yield* transport.inspect(source("1"))).digest).toBe(multi.top.digest)
      })
    )
    expect((await temps()).filter((n) => !before.includes(n))).toEqual([])
  })
})
