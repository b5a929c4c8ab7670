/**
 * Export into a layout, against an in-memory registry client: whole indexes byte-exact,
 * ref names from the normalised source (never the mirror), upstream signatures and
 * referrers stored next to the image, and a second run that downloads no blob again.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test"
import { Effect, Either, Layer } from "effect"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Definition } from "../../src/definition/Definition.ts"
import { buildImage } from "../../demo/SampleImages.ts"
import type { SampleImageSpec } from "../../demo/SampleImages.ts"
import { TagLists } from "../../src/pipeline/TagLists.ts"
import { LayoutExport, sourceAnnotations } from "../../src/pipeline/Export.ts"
import * as LayoutTransport from "../../plugins/transports/layout.ts"
import { openLayout } from "../../src/layout/LayoutReader.ts"
import { openWriter } from "../../src/layout/LayoutWriter.ts"
import { blobPath, REF_NAME, SOURCE_ANNOTATION } from "../../src/layout/OciLayout.ts"
import type { RegistryClient } from "../../src/oci/RegistryClient.ts"
import { clientPair, RegistryClients } from "../../src/transport/RegistryClients.ts"
import { fakeRegistries } from "../support/FakeRegistryStore.ts"
import type { FakeRegistries } from "../support/FakeRegistryStore.ts"
import { parseDefinition } from "../../src/definition/Parse.ts"

const TWO = [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64", variant: "v8" }] as const
const AMD64 = [{ os: "linux", architecture: "amd64" }] as const
const small = (seed: string, platforms: SampleImageSpec["platforms"] = TWO, index?: boolean): SampleImageSpec => ({
  platforms,
  seed,
  layers: 1,
  layerSize: 700,
  ...(index === undefined ? {} : { index })
})
const sigTag = (digest: string, suffix = ".sig") => `${digest.replace(":", "-")}${suffix}`

let dir: string
let world: FakeRegistries

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "layout-export-"))
  world = fakeRegistries()
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const definition = (yaml: string): Definition => {
  const parsed = parseDefinition("images.yaml", `targetRepoPrefix: "target.example/mirror/"\n${yaml}`)
  if (Either.isLeft(parsed)) throw new Error(parsed.left.message)
  return parsed.right
}

/** Exports every entry through the export transport over `client`; the per-entry results (or errors) in order. */
const exportAll = (def: Definition, client: RegistryClient["Type"] = world.client) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const writer = yield* openWriter(dir)
      const exporter = LayoutExport.layer.pipe(
        Layer.provide(TagLists.layer),
        Layer.provide(LayoutTransport.exportLayer(writer, sourceAnnotations(def))),
        Layer.provide(Layer.succeed(RegistryClients, clientPair(client, client)))
      )
      return yield* Effect.flatMap(LayoutExport, (e) => Effect.forEach(def.images, (entry) => Effect.either(e.exportImage(entry, def)))).pipe(
        Effect.provide(exporter)
      )
    })
  )

const readIndex = async () =>
  JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as {
    manifests: Array<{ digest: string; mediaType: string; size: number; annotations: Record<string, string> }>
  }

const blobGets = () => world.calls.filter((c) => c.startsWith("getBlob "))

describe("export", () => {
  test("an index with every child and blob, byte-exact, named by the normalised source, read through the mirror", async () => {
    const image = buildImage(small("hub"))
    // Bytes live on the mirror; the identity stays docker.io.
    world.push("mirror.example", "library/busybox", "1.36", image)
    const results = await exportAll(definition(`registries:\n  docker.io:\n    mirror: "mirror.example"\nimages:\n  - source: "busybox:1.36"\n`))
    expect(Either.isRight(results[0]!)).toBe(true)
    const index = await readIndex()
    expect(index.manifests).toHaveLength(1)
    expect(index.manifests[0]).toEqual({
      mediaType: image.top.mediaType,
      digest: image.top.digest,
      size: image.top.size,
      annotations: { [REF_NAME]: "docker.io/library/busybox:1.36", [SOURCE_ANNOTATION]: "busybox:1.36" }
    })
    const stored = async (digest: string) => Buffer.from(await readFile(blobPath(dir, digest)))
    expect((await stored(image.top.digest)).equals(image.top.bytes)).toBe(true)
    for (const child of image.children) expect((await stored(child.digest)).equals(child.bytes)).toBe(true)
    for (const [digest, bytes] of image.blobs) expect((await stored(digest)).equals(bytes)).toBe(true)
    // nothing was asked of docker.io itself
    expect(world.calls.every((c) => c.includes("mirror.example/"))).toBe(true)
    // and the result is a valid layout
    const layout = await Effect.runPromise(openLayout(dir))
    expect(layout.refNames).toEqual(["docker.io/library/busybox:1.36"])
  })

  test("a pinned digest is named registry/repository@digest; an unknown digest is not found", async () => {
    const image = buildImage(small("pinned"))
    world.push("registry.example:5000", "team/app", "v1", image)
    const unknown = `sha256:${"0".repeat(64)}`
    const results = await exportAll(definition([
      "images:",
      `  - source: "registry.example:5000/team/app@${image.top.digest}"`,
      "    tag: \"p1\"",
      `  - source: "registry.example:5000/team/app@${unknown}"`,
      "    tag: \"p2\""
    ].join("\n")))
    expect(Either.isRight(results[0]!)).toBe(true)
    expect(Either.isLeft(results[1]!) && results[1].left._tag).toBe("SourceNotFound")
    expect((await readIndex()).manifests.map((m) => m.annotations[REF_NAME])).toEqual([`registry.example:5000/team/app@${image.top.digest}`])
  })

  test("upstream .sig/.att tags and referrers travel along under the same repository's ref names", async () => {
    const image = buildImage(small("signed"))
    world.push("registry.example", "team/app", "1", image)
    const sig = buildImage(small("sig", AMD64, false))
    world.push("registry.example", "team/app", sigTag(image.top.digest), sig)
    const att = buildImage(small("att", AMD64, false))
    world.push("registry.example", "team/app", sigTag(image.top.digest, ".att"), att)
    const sbom = buildImage(small("sbom", AMD64, false))
    world.push("registry.example", "team/app", sbom.top.digest, sbom)
    const referrersIndex = new TextEncoder().encode(JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{ mediaType: sbom.top.mediaType, digest: sbom.top.digest, size: sbom.top.size, artifactType: "application/spdx+json" }]
    }))
    world.setReferrers("registry.example", "team/app", image.top.digest, referrersIndex)

    const results = await exportAll(definition(`images:\n  - source: "registry.example/team/app:1"\n`))
    const result = results[0]!
    if (Either.isLeft(result)) throw result.left
    expect(result.right.upstream).toEqual([sigTag(image.top.digest), sigTag(image.top.digest, ".att"), `${sigTag(image.top.digest, "")} (referrers)`])
    const names = Object.fromEntries((await readIndex()).manifests.map((m) => [m.annotations[REF_NAME], m.digest]))
    expect(names[`registry.example/team/app:${sigTag(image.top.digest)}`]).toBe(sig.top.digest)
    expect(names[`registry.example/team/app:${sigTag(image.top.digest, ".att")}`]).toBe(att.top.digest)
    // The referrers become the fallback-tag index, with the referrer itself stored whole.
    const fallback = names[`registry.example/team/app:${sigTag(image.top.digest, "")}`]!
    const stored = JSON.parse(await readFile(blobPath(dir, fallback), "utf8")) as { manifests: Array<{ digest: string; artifactType?: string }> }
    expect(stored.manifests.map((m) => [m.digest, m.artifactType])).toEqual([[sbom.top.digest, "application/spdx+json"]])
    for (const [digest] of sbom.blobs) expect(await Bun.file(blobPath(dir, digest)).exists()).toBe(true)
  })

  test("a second run downloads no blob again; a moved tag replaces its ref and fetches only new blobs", async () => {
    const first = buildImage(small("first"))
    world.push("registry.example", "team/app", "1", first)
    const def = definition(`images:\n  - source: "registry.example/team/app:1"\n`)
    await exportAll(def)
    expect(blobGets()).toHaveLength(first.blobs.size)

    world.calls.length = 0
    const again = await exportAll(def)
    expect(Either.isRight(again[0]!)).toBe(true)
    expect(blobGets()).toEqual([])
    // children by digest come from the layout too; only the tag is asked (HEAD)
    expect(world.calls.filter((c) => c.startsWith("getManifest "))).toEqual([])

    world.calls.length = 0
    const moved = buildImage({ ...small("first"), layers: 2 })
    world.push("registry.example", "team/app", "1", moved)
    await exportAll(def)
    const newBlobs = [...moved.blobs.keys()].filter((d) => !first.blobs.has(d))
    expect(blobGets().sort()).toEqual(newBlobs.map((d) => `getBlob registry.example/team/app ${d}`).sort())
    const index = await readIndex()
    expect(index.manifests.map((m) => [m.annotations[REF_NAME], m.digest])).toEqual([["registry.example/team/app:1", moved.top.digest]])
  })

  test("single-platform images follow the sync's rules; a refused image gets no ref name", async () => {
    const single = buildImage(small("single", AMD64, false))
    world.push("registry.example", "team/single", "1", single)
    const arm = buildImage(small("arm", [{ os: "linux", architecture: "arm64" }], false))
    world.push("registry.example", "team/arm", "1", arm)
    const results = await exportAll(definition([
      "images:",
      "  - source: \"registry.example/team/single:1\"",
      "  - source: \"registry.example/team/single:1\"",
      "    tag: \"with-flag\"",
      "    amd64Only: true",
      "  - source: \"registry.example/team/arm:1\"",
      "    amd64Only: true",
      "  - source: \"registry.example/team/missing:1\""
    ].join("\n")))
    const tags = results.map((r) => (Either.isLeft(r) ? r.left._tag : "ok"))
    expect(tags).toEqual(["PlatformMismatch", "ok", "PlatformMismatch", "SourceNotFound"])
    const first = results[0]!
    expect(Either.isLeft(first) && first.left.message).toContain("add `amd64Only: true`")
    expect((await readIndex()).manifests.map((m) => m.annotations[REF_NAME])).toEqual(["registry.example/team/single:1"])
    // the arm64 image's layers were never downloaded
    for (const layer of [...arm.blobs.keys()].slice(1)) expect(blobGets()).not.toContain(`getBlob registry.example/team/arm ${layer}`)
  })

  test("a blob the registry serves corrupted is not written", async () => {
    const image = buildImage(small("bad", AMD64, false))
    world.push("registry.example", "team/bad", "1", image)
    const [layerDigest] = [...image.blobs.keys()].slice(-1)
    const client = world.client
    // The lie is told unchecked: the layout writer's own digest check must catch it.
    const lying: RegistryClient["Type"] = {
      ...client,
      openBlob: (img, digest, size, budget) =>
        digest === layerDigest
          ? Effect.succeed({ stream: new Blob([new TextEncoder().encode("not the layer")]).stream(), failure: () => undefined })
          : client.openBlob(img, digest, size, budget)
    }
    const def = definition(`images:\n  - source: "registry.example/team/bad:1"\n    amd64Only: true\n`)
    const [results] = await exportAll(def, lying)
    expect(Either.isLeft(results!) && results.left._tag).toBe("DigestMismatch")
    expect(await Bun.file(blobPath(dir, layerDigest!)).exists()).toBe(false)
    expect((await readIndex()).manifests).toEqual([])
  })
})
