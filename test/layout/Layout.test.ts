/**
 * Layout writing and reading: the files the spec asks for, verified blob writes that leave
 * nothing half-written, index.json entries replaced by ref name, and a reader that checks
 * the whole layout up front and re-verifies every blob it hands out.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test"
import { Effect, Either, Option, Stream } from "effect"
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { buildImage } from "../../demo/SampleImages.ts"
import { openLayout } from "../../src/layout/LayoutReader.ts"
import { openWriter } from "../../src/layout/LayoutWriter.ts"
import { blobPath, REF_NAME, refNameOf } from "../../src/layout/OciLayout.ts"
import { sha256Digest } from "../../src/model/Digest.ts"

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "layout-rw-"))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
const either = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.either(effect))
const bytes = (text: string) => new TextEncoder().encode(text)

/** Writes a built image into the layout under `name` (blobs, children, top, then the ref). */
const writeImage = (layoutDir: string, name: string, seed: string) =>
  Effect.gen(function*() {
    const image = buildImage({ platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }], seed, layers: 1, layerSize: 512 })
    const writer = yield* openWriter(layoutDir)
    for (const [digest, content] of image.blobs) yield* writer.writeBlob(digest, content.length, content)
    for (const child of image.children) yield* writer.writeBlob(child.digest, child.size, child.bytes)
    yield* writer.writeBlob(image.top.digest, image.top.size, image.top.bytes)
    yield* writer.putRefs([{ mediaType: image.top.mediaType, digest: image.top.digest, size: image.top.size, annotations: { [REF_NAME]: name } }])
    return image
  })

describe("writing", () => {
  test("creates oci-layout, index.json and blobs/sha256 as the spec names them", async () => {
    const layout = join(dir, "new", "nested")
    await run(openWriter(layout))
    expect(await readFile(join(layout, "oci-layout"), "utf8")).toBe("{\"imageLayoutVersion\":\"1.0.0\"}")
    expect(JSON.parse(await readFile(join(layout, "index.json"), "utf8"))).toEqual({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: []
    })
    expect(await readdir(join(layout, "blobs", "sha256"))).toEqual([])
  })

  test("a blob is stored under its digest, byte for byte, from bytes or from a stream", async () => {
    const writer = await run(openWriter(dir))
    const a = bytes("hello layout")
    await run(writer.writeBlob(sha256Digest(a), a.length, a))
    expect(new Uint8Array(await readFile(blobPath(dir, sha256Digest(a))))).toEqual(a)
    const parts = [bytes("chunk one, "), bytes("chunk two")]
    const whole = bytes("chunk one, chunk two")
    await run(writer.writeBlob(sha256Digest(whole), whole.length, Stream.fromIterable(parts)))
    expect(await readFile(blobPath(dir, sha256Digest(whole)), "utf8")).toBe("chunk one, chunk two")
  })

  test("content that does not match its digest (or size) is refused and leaves no file behind", async () => {
    const writer = await run(openWriter(dir))
    const good = bytes("the real content")
    const digest = sha256Digest(good)
    const wrong = await either(writer.writeBlob(digest, undefined, bytes("other content")))
    expect(Either.isLeft(wrong) && wrong.left._tag).toBe("DigestMismatch")
    const short = await either(writer.writeBlob(digest, good.length + 1, good))
    expect(Either.isLeft(short) && short.left._tag).toBe("DigestMismatch")
    expect(await readdir(join(dir, "blobs", "sha256"))).toEqual([])
  })

  test("ensureBlob skips a blob already there with the right size, without fetching it", async () => {
    const writer = await run(openWriter(dir))
    const content = bytes("stored once")
    const digest = sha256Digest(content)
    let fetches = 0
    const fetch = Effect.sync(() => {
      fetches++
      return content
    })
    expect(await run(writer.ensureBlob(digest, content.length, fetch))).toBe("written")
    expect(await run(writer.ensureBlob(digest, content.length, fetch))).toBe("present")
    // a second writer on the same directory (a later run) sees it too
    const again = await run(openWriter(dir))
    expect(await run(again.ensureBlob(digest, content.length, fetch))).toBe("present")
    expect(fetches).toBe(1)
  })

  test("concurrent ensureBlob calls for one digest fetch it once", async () => {
    const writer = await run(openWriter(dir))
    const content = bytes("shared by many images")
    let fetches = 0
    const fetch = Effect.sync(() => {
      fetches++
      return content
    })
    await run(Effect.all(
      Array.from({ length: 5 }, () => writer.ensureBlob(sha256Digest(content), content.length, fetch)),
      { concurrency: "unbounded" }
    ))
    expect(fetches).toBe(1)
    expect(await readdir(join(dir, "blobs", "sha256"))).toEqual([sha256Digest(content).slice(7)])
  })

  test("temp files of an interrupted run are cleared when the layout is opened again", async () => {
    await run(openWriter(dir))
    const leftover = join(dir, "blobs", "sha256", `${"ab".repeat(32)}.partial-deadbeef`)
    await writeFile(leftover, "half a blob")
    await run(openWriter(dir))
    expect(await readdir(join(dir, "blobs", "sha256"))).toEqual([])
  })

  test("putRefs replaces an entry with the same ref name and keeps the others", async () => {
    await run(writeImage(dir, "docker.io/library/busybox:1.36", "one"))
    await run(writeImage(dir, "docker.io/library/alpine:3", "two"))
    const third = await run(writeImage(dir, "docker.io/library/busybox:1.36", "three"))
    const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests: Array<{ digest: string; annotations: Record<string, string> }> }
    expect(index.manifests.map((m) => m.annotations[REF_NAME])).toEqual(["docker.io/library/alpine:3", "docker.io/library/busybox:1.36"])
    expect(index.manifests[1]!.digest).toBe(third.top.digest)
  })

  test("refuses a non-empty directory that is not a layout, and a file", async () => {
    await writeFile(join(dir, "precious.txt"), "keep me")
    const result = await either(openWriter(dir))
    expect(Either.isLeft(result) && result.left.message).toContain("not an OCI image layout")
    expect(await readdir(dir)).toEqual(["precious.txt"])
    const file = await either(openWriter(join(dir, "precious.txt")))
    expect(Either.isLeft(file) && file.left.message).toContain("not a directory")
  })
})

describe("reading", () => {
  test("finds images by ref name and manifests (children too) by digest", async () => {
    const image = await run(writeImage(dir, refNameOf("127.0.0.1:5000", "team/app", "1"), "read"))
    const layout = await run(openLayout(dir))
    expect(layout.refNames).toEqual(["127.0.0.1:5000/team/app:1"])
    const top = layout.byRefName("127.0.0.1:5000/team/app:1")
    expect(Option.getOrThrow(top)).toEqual({ digest: image.top.digest, mediaType: image.top.mediaType, size: image.top.size })
    expect(Option.isNone(layout.byRefName("127.0.0.1:5000/team/app:2"))).toBe(true)
    for (const child of image.children) {
      expect(Option.getOrThrow(layout.byDigest(child.digest)).mediaType).toBe(child.mediaType)
    }
    expect(await run(layout.readBlob(image.top.digest))).toEqual(image.top.bytes)
  })

  test("a corrupted blob file is refused when read (digest mismatch), even with the right size", async () => {
    const image = await run(writeImage(dir, "r/x:1", "corrupt"))
    const layout = await run(openLayout(dir))
    const [layerDigest, layer] = [...image.blobs].at(-1)!
    const flipped = new Uint8Array(layer)
    flipped[10] = flipped[10]! ^ 0xff
    await writeFile(blobPath(dir, layerDigest), flipped)
    const result = await either(layout.readBlob(layerDigest))
    expect(Either.isLeft(result) && result.left._tag).toBe("DigestMismatch")
  })

  test("validates up front: missing dir, no oci-layout, broken index.json, missing or corrupt manifests and blobs", async () => {
    const reason = async (path: string) => {
      const result = await either(openLayout(path))
      if (Either.isRight(result)) throw new Error(`expected ${path} to be refused`)
      expect(result.left._tag).toBe("LayoutInvalid")
      return result.left.reason
    }
    expect(await reason(join(dir, "missing"))).toBe("does not exist")
    const empty = join(dir, "empty")
    await mkdir(empty)
    expect(await reason(empty)).toContain("not an OCI image layout")

    const broken = join(dir, "broken")
    await run(openWriter(broken))
    await writeFile(join(broken, "index.json"), "{not json")
    expect(await reason(broken)).toContain("index.json is not valid JSON")

    const incomplete = join(dir, "incomplete")
    const image = await run(writeImage(incomplete, "r/x:1", "incomplete"))
    const [layerDigest] = [...image.blobs.keys()].slice(-1)
    await rm(blobPath(incomplete, layerDigest!))
    expect(await reason(incomplete)).toContain(`blob ${layerDigest} is missing`)

    const corrupt = join(dir, "corrupt")
    const other = await run(writeImage(corrupt, "r/x:1", "corrupt-manifest"))
    await writeFile(blobPath(corrupt, other.children[0]!.digest), other.children[0]!.bytes.map((b) => (b === 0x61 ? 0x62 : b)))
    expect(await reason(corrupt)).toContain(`manifest ${other.children[0]!.digest} is corrupt`)
  })
})
