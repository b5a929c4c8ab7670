import { beforeEach, describe, expect, test } from "bun:test"
import { Deferred, Effect, Either, Layer, Logger, Option } from "effect"
import type { Definition } from "../../src/definition/Definition.ts"
import { TagLists } from "../../src/pipeline/TagLists.ts"
import { CheckTarget } from "../../src/pipeline/CheckTarget.ts"
import { Compare } from "../../src/pipeline/Compare.ts"
import { Copy } from "../../src/pipeline/Copy.ts"
import { Expand } from "../../src/pipeline/Expand.ts"
import { Pipeline } from "../../src/pipeline/Pipeline.ts"
import { Resolve } from "../../src/pipeline/Resolve.ts"
import { Sign } from "../../src/pipeline/Sign.ts"
import { SyncSettings } from "../../src/pipeline/SyncSettings.ts"
import type { SyncSettingsShape } from "../../src/pipeline/SyncSettings.ts"
import { DigestMismatch, RegistryUnavailable } from "../../src/model/Errors.ts"
import type { TransportError } from "../../src/model/Errors.ts"
import { describeLocation } from "../../src/model/Location.ts"
import type { ImageLocation } from "../../src/model/Location.ts"
import type { ManifestDescriptor, RawManifest } from "../../src/model/Manifest.ts"
import type { ImageResult } from "../../src/model/Result.ts"
import { Transport } from "../../src/transport/Transport.ts"
import type { CopyResult, TransportShape } from "../../src/transport/Transport.ts"
import { parseDefinition } from "../../src/definition/Parse.ts"

const INDEX = "application/vnd.oci.image.index.v1+json"
const MANIFEST = "application/vnd.oci.image.manifest.v1+json"
const digest = (c: string) => `sha256:${c.repeat(64)}`
const TARGET = "target.example"

// == an in-memory transport

/** What lives where, keyed by describeLocation ("host/repo:tag" or "host/repo@sha256:…"). */
interface FakeTransport extends TransportShape {
  readonly manifests: Map<string, ManifestDescriptor>
  readonly raw: Map<string, RawManifest>
  readonly blobs: Map<string, Uint8Array>
  readonly inspected: Array<string>
  readonly copies: Array<string>
}

const key = (image: ImageLocation) => describeLocation(image)

const fakeTransport = (overrides: {
  readonly inspect?: (image: ImageLocation) => Effect.Effect<Option.Option<ManifestDescriptor>, TransportError> | undefined
  readonly copy?: (source: ImageLocation) => Effect.Effect<void, TransportError> | undefined
} = {}): FakeTransport => {
  const manifests = new Map<string, ManifestDescriptor>()
  const raw = new Map<string, RawManifest>()
  const blobs = new Map<string, Uint8Array>()
  const inspected: Array<string> = []
  const copies: Array<string> = []
  return {
    name: "fake",
    manifests,
    raw,
    blobs,
    inspected,
    copies,
    inspect: (image) =>
      Effect.suspend(() => {
        inspected.push(key(image))
        return overrides.inspect?.(image) ?? Effect.succeed(Option.fromNullable(manifests.get(key(image))))
      }),
    manifest: (image) =>
      Effect.suspend(() => {
        const m = raw.get(key(image))
        return m ? Effect.succeed(m) : Effect.die(new Error(`fake: no raw manifest ${key(image)}`))
      }),
    blob: (image, digest) =>
      Effect.suspend(() => {
        const b = blobs.get(digest)
        return b ? Effect.succeed(b) : Effect.die(new Error(`fake: no blob ${digest} for ${key(image)}`))
      }),
    referrers: () => Effect.succeed(Option.none()),
    listTags: (image) =>
      Effect.sync(() =>
        [...manifests.keys()].filter((k) => k.startsWith(`${key({ ...image, reference: "x" }).slice(0, -2)}:`)).map((k) => k.slice(k.lastIndexOf(":") + 1))
      ),
    putManifest: (image) => Effect.die(new Error(`fake: unexpected putManifest ${key(image)}`)),
    putBlob: (image) => Effect.die(new Error(`fake: unexpected putBlob ${key(image)}`)),
    copy: (source, target, manifest) =>
      Effect.gen(function*() {
        const extra = overrides.copy?.(source)
        if (extra) yield* extra
        copies.push(`${key(source)} -> ${key(target)}`)
        manifests.set(key(target), manifest)
        return { blobsCopied: 2, blobsMounted: 0, blobsSkipped: 0, bytesCopied: 1234, manifestsPut: 1 } satisfies CopyResult
      })
  }
}

/** A source index at src.example/team/<name>:1. */
const addIndex = (t: FakeTransport, name: string, d: string) => t.manifests.set(`src.example/team/${name}:1`, { digest: d, mediaType: INDEX, size: 300 })

/** A single-platform source at src.example/team/<name>:1 whose config says os/arch. */
const addSingle = (t: FakeTransport, name: string, d: string, os: string, architecture: string) => {
  const config = new TextEncoder().encode(JSON.stringify({ os, architecture }))
  const configDigest = digest(d.slice(-1) === "f" ? "e" : "f")
  const bytes = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
      layers: []
    })
  )
  t.manifests.set(`src.example/team/${name}:1`, { digest: d, mediaType: MANIFEST, size: bytes.length })
  t.raw.set(`src.example/team/${name}@${d}`, { digest: d, mediaType: MANIFEST, size: bytes.length, bytes })
  t.blobs.set(configDigest, config)
}

const targetKey = (name: string) => `${TARGET}/mirror/src.example/team/${name}:1`

const definitionOf = (entries: ReadonlyArray<string>): Definition => {
  const text = [`targetRepoPrefix: "${TARGET}/mirror/"`, "images:", ...entries].join("\n")
  const parsed = parseDefinition("images.yaml", text)
  if (Either.isLeft(parsed)) throw new Error(parsed.left.message)
  return parsed.right
}

const entries = (...names: ReadonlyArray<string>) => names.map((n) => `  - source: "src.example/team/${n}:1"`)

/** Records sign calls; answers "signed". */
const recordingSign = (calls: Array<string>) =>
  Layer.succeed(Sign, {
    signs: true,
    sign: (image) =>
      Effect.sync(() => {
        calls.push(image.entry.source)
        return { signed: true, signatureDigest: digest("5") }
      })
  })

const pipelineLayer = (
  transport: TransportShape,
  settings: Partial<SyncSettingsShape> = {},
  sign: Layer.Layer<Sign> = Sign.none
) => {
  const steps = Layer.mergeAll(Expand.layer, Resolve.layer, CheckTarget.layer, Copy.layer).pipe(
    Layer.provide(TagLists.layer),
    Layer.provide(Layer.succeed(Transport, transport))
  )
  return Pipeline.layer.pipe(Layer.provide(Layer.mergeAll(steps, Compare.layer, sign, SyncSettings.layer(settings))))
}

const syncAll = (
  definition: Definition,
  transport: TransportShape,
  settings: Partial<SyncSettingsShape> = {},
  sign?: Layer.Layer<Sign>,
  onResult?: (r: ImageResult, revised: boolean) => Effect.Effect<void>
) =>
  Effect.runPromise(
    Effect.flatMap(Pipeline, (p) => p.syncAll(definition, onResult)).pipe(
      Effect.provide(pipelineLayer(transport, settings, sign)),
      Effect.provide(captureLogs)
    )
  )

/** Log lines of the current test (the pipeline logs warnings; keep them off the test output). */
const logs: Array<string> = []
const captureLogs = Logger.replace(
  Logger.defaultLogger,
  Logger.make(({ logLevel, message }) => {
    logs.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
  })
)
beforeEach(() => {
  logs.length = 0
})

const summary = (results: ReadonlyArray<ImageResult>) => results.map((r) => [r.source, r.status])

describe("Pipeline.syncAll over an in-memory transport", () => {
  test("absent images are copied, signed and reported synced with the source digest", async () => {
    const t = fakeTransport()
    addIndex(t, "a", digest("a"))
    addIndex(t, "b", digest("b"))
    const signed: Array<string> = []
    const results = await syncAll(definitionOf(entries("a", "b")), t, {}, recordingSign(signed))
    expect(summary(results)).toEqual([["src.example/team/a:1", "synced"], ["src.example/team/b:1", "synced"]])
    expect(results[0]).toMatchObject({
      target: targetKey("a"),
      digest: digest("a"),
      error: undefined,
      signed: true,
      signatureDigest: digest("5"),
      bytesCopied: 1234
    })
    expect(t.copies).toContain(`src.example/team/a:1 -> ${targetKey("a")}`)
    expect(t.copies).toHaveLength(2)
    expect(signed.sort()).toEqual(["src.example/team/a:1", "src.example/team/b:1"])
  })

  test("a target holding the same digest is present: no copy, still signed", async () => {
    const t = fakeTransport()
    addIndex(t, "a", digest("a"))
    t.manifests.set(targetKey("a"), { digest: digest("a"), mediaType: INDEX, size: 300 })
    const signed: Array<string> = []
    const results = await syncAll(definitionOf(entries("a")), t, {}, recordingSign(signed))
    expect(summary(results)).toEqual([["src.example/team/a:1", "present"]])
    expect(results[0]!.digest).toBe(digest("a"))
    expect(t.copies).toEqual([])
    expect(signed).toEqual(["src.example/team/a:1"])
  })

  test("a conflict of one image doesn't stop the others; its target is left untouched", async () => {
    const t = fakeTransport()
    addIndex(t, "a", digest("a"))
    addIndex(t, "b", digest("b"))
    addIndex(t, "c", digest("c"))
    t.manifests.set(targetKey("b"), { digest: digest("9"), mediaType: INDEX, size: 1 })
    const results = await syncAll(definitionOf(entries("a", "b", "c")), t, { concurrency: 1 })
    expect(summary(results)).toEqual([
      ["src.example/team/a:1", "synced"],
      ["src.example/team/b:1", "conflict"],
      ["src.example/team/c:1", "synced"]
    ])
    expect(results[1]!.errorType).toBe("TagConflict")
    expect(results[1]!.error).toContain(digest("9"))
    expect(results[1]!.digest).toBe(digest("b"))
    expect(t.copies.some((c) => c.includes("team/b"))).toBe(false)
    expect(t.manifests.get(targetKey("b"))!.digest).toBe(digest("9"))
  })

  test("results come in definition order even when images finish in another order", async () => {
    // a's target check waits until c's result is out: a finishes after c.
    const gate = Effect.runSync(Deferred.make<void>())
    const t = fakeTransport({
      inspect: (image) => {
        const found = Option.fromNullable(t.manifests.get(key(image)))
        if (image.repository === "mirror/src.example/team/a") return Deferred.await(gate).pipe(Effect.as(found))
        return undefined
      }
    })
    for (const n of ["a", "b", "c"]) {
      addIndex(t, n, digest(n))
      t.manifests.set(targetKey(n), { digest: digest(n), mediaType: INDEX, size: 300 })
    }
    const finished: Array<string> = []
    const results = await syncAll(
      definitionOf(entries("a", "b", "c")),
      t,
      { concurrency: 3 },
      undefined,
      (r) =>
        Effect.sync(() => void finished.push(r.source)).pipe(
          Effect.zipRight(r.source === "src.example/team/c:1" ? Deferred.succeed(gate, undefined) : Effect.void)
        )
    )
    expect(finished.indexOf("src.example/team/a:1")).toBeGreaterThan(finished.indexOf("src.example/team/c:1"))
    expect(results.map((r) => r.source)).toEqual(["src.example/team/a:1", "src.example/team/b:1", "src.example/team/c:1"])
    expect(results.every((r) => r.status === "present")).toBe(true)
  })

  test("a written tag is read back once at the end: a second look that revises the result when another writer replaced it", async () => {
    // Another writer replaces b's tag after our copy wrote it (seen at the next read of that tag).
    const t = fakeTransport({
      inspect: (image) => {
        if (key(image) === targetKey("b") && t.copies.some((c) => c.includes("team/b"))) {
          t.manifests.set(targetKey("b"), { digest: digest("9"), mediaType: INDEX, size: 1 })
        }
        return undefined
      }
    })
    for (const n of ["a", "b"]) addIndex(t, n, digest(n))
    const seen: Array<string> = []
    const results = await syncAll(
      definitionOf(entries("a", "b")),
      t,
      {},
      undefined,
      (r, revised) => Effect.sync(() => void seen.push(`${r.source} ${r.status}${revised ? " (revised)" : ""}`))
    )
    expect(summary(results)).toEqual([["src.example/team/a:1", "synced"], ["src.example/team/b:1", "conflict"]])
    expect(results[1]!.errorType).toBe("TagTaken")
    expect(results[1]!.error).toContain("replaced by another writer after this run wrote it")
    expect(results[1]!.error).toContain(digest("9"))
    // each image as it finished (b written and verified: synced), then b once more with the read-back's word
    expect(seen.slice(0, 2).sort()).toEqual(["src.example/team/a:1 synced", "src.example/team/b:1 synced"])
    expect(seen.slice(2)).toEqual(["src.example/team/b:1 conflict (revised)"])
    // one read of each written tag at the end, after the check before the copy
    expect(t.inspected.filter((k) => k === targetKey("a"))).toHaveLength(2)
  })

  test("a written image's result comes as it finishes, before the next image has started (-j 1)", async () => {
    const t = fakeTransport()
    for (const n of ["a", "b", "c"]) addIndex(t, n, digest(n))
    const seen: Array<string> = []
    const results = await syncAll(
      definitionOf(entries("a", "b", "c")),
      t,
      { concurrency: 1 },
      undefined,
      (r) => Effect.sync(() => void seen.push(`${r.source} ${r.status} after ${t.copies.length} copies`))
    )
    expect(summary(results).map(([, status]) => status)).toEqual(["synced", "synced", "synced"])
    expect(seen).toEqual([
      "src.example/team/a:1 synced after 1 copies",
      "src.example/team/b:1 synced after 2 copies",
      "src.example/team/c:1 synced after 3 copies"
    ])
  })

  test("onResult sees every image exactly once as it finishes; a read-back that confirms adds nothing", async () => {
    const t = fakeTransport()
    for (const n of ["a", "b", "c", "d"]) addIndex(t, n, digest(n))
    t.manifests.set(targetKey("b"), { digest: digest("9"), mediaType: INDEX, size: 1 })
    const seen: Array<string> = []
    const results = await syncAll(
      definitionOf(entries("a", "b", "c", "d")),
      t,
      { concurrency: 2 },
      undefined,
      (r, revised) => Effect.sync(() => void seen.push(`${r.source} ${r.status}${revised ? " (revised)" : ""}`))
    )
    expect(seen.sort()).toEqual(results.map((r) => `${r.source} ${r.status}`).sort())
    expect(seen).toHaveLength(4)
  })

  test("dry run: absent images are planned, present ones present, copy is never called, and Sign is only asked what it would do", async () => {
    const t = fakeTransport()
    addIndex(t, "a", digest("a"))
    addIndex(t, "b", digest("b"))
    addSingle(t, "s", digest("4"), "linux", "amd64")
    t.manifests.set(targetKey("b"), { digest: digest("b"), mediaType: INDEX, size: 300 })
    const signed: Array<string> = []
    const def = definitionOf([...entries("a", "b"), "  - source: \"src.example/team/s:1\"", "    amd64Only: true"])
    const results = await syncAll(def, t, { dryRun: true }, recordingSign(signed))
    expect(summary(results)).toEqual([
      ["src.example/team/a:1", "planned"],
      ["src.example/team/b:1", "present"],
      ["src.example/team/s:1", "planned"]
    ])
    expect(results[0]!.digest).toBe(digest("a"))
    expect(t.copies).toEqual([])
    // The Sign step itself writes nothing in a dry run (test/integration/Signing.test.ts); here it is consulted for each image.
    expect([...signed].sort()).toEqual(["src.example/team/a:1", "src.example/team/b:1", "src.example/team/s:1"])
    expect(t.manifests.has(targetKey("a"))).toBe(false)
  })

  test("dry run still reports conflicts", async () => {
    const t = fakeTransport()
    addIndex(t, "a", digest("a"))
    t.manifests.set(targetKey("a"), { digest: digest("9"), mediaType: INDEX, size: 1 })
    const results = await syncAll(definitionOf(entries("a")), t, { dryRun: true })
    expect(summary(results)).toEqual([["src.example/team/a:1", "conflict"]])
    expect(t.copies).toEqual([])
  })

  test("a defect in one image becomes `failed` for that image; the others go on", async () => {
    const t = fakeTransport({
      inspect: (image) => (image.repository === "team/b" ? Effect.die(new Error("boom in inspect")) : undefined)
    })
    for (const n of ["a", "b", "c"]) addIndex(t, n, digest(n))
    const results = await syncAll(definitionOf(entries("a", "b", "c")), t)
    expect(summary(results)).toEqual([
      ["src.example/team/a:1", "synced"],
      ["src.example/team/b:1", "failed"],
      ["src.example/team/c:1", "synced"]
    ])
    expect(results[1]!.errorType).toBe("Defect")
    expect(results[1]!.error).toContain("internal error")
    expect(results[1]!.error).toContain("boom in inspect")
  })

  test("a thrown exception during copy is a defect too, and becomes `failed`", async () => {
    const t = fakeTransport({
      copy: (source) => (source.repository === "team/a" ?
        Effect.sync(() => {
          throw new TypeError("cannot read properties of undefined")
        }) :
        undefined)
    })
    for (const n of ["a", "b"]) addIndex(t, n, digest(n))
    const results = await syncAll(definitionOf(entries("a", "b")), t)
    expect(summary(results)).toEqual([["src.example/team/a:1", "failed"], ["src.example/team/b:1", "synced"]])
    expect(results[0]!.errorType).toBe("Defect")
    expect(results[0]!.error).toContain("cannot read properties of undefined")
  })

  test("a copy that fails with a typed error becomes `failed` with that error; the others go on", async () => {
    const t = fakeTransport({
      copy: (source) =>
        source.repository === "team/a" ? Effect.fail(new RegistryUnavailable({ registry: TARGET, detail: "HTTP 503 after 5 tries" })) : undefined
    })
    for (const n of ["a", "b"]) addIndex(t, n, digest(n))
    const results = await syncAll(definitionOf(entries("a", "b")), t)
    expect(summary(results)).toEqual([["src.example/team/a:1", "failed"], ["src.example/team/b:1", "synced"]])
    expect(results[0]!.errorType).toBe("RegistryUnavailable")
    expect(results[0]!.error).toContain("HTTP 503 after 5 tries")
    expect(results[0]!.digest).toBe(digest("a"))
  })

  test("a missing source is `failed` with SourceNotFound", async () => {
    const t = fakeTransport()
    addIndex(t, "a", digest("a"))
    const results = await syncAll(definitionOf(entries("missing", "a")), t)
    expect(summary(results)).toEqual([["src.example/team/missing:1", "failed"], ["src.example/team/a:1", "synced"]])
    expect(results[0]!.errorType).toBe("SourceNotFound")
    expect(results[0]!.digest).toBeUndefined()
  })

  test("a single-platform source without amd64Only fails with a hint to add it, and is not copied", async () => {
    const t = fakeTransport()
    addSingle(t, "s", digest("4"), "linux", "amd64")
    const results = await syncAll(definitionOf(entries("s")), t)
    expect(results[0]).toMatchObject({ status: "failed", errorType: "PlatformMismatch" })
    expect(results[0]!.error).toContain("amd64Only: true")
    expect(t.copies).toEqual([])
  })

  test("a single-platform source whose config fails its digest check is a DigestMismatch, not an \"unknown platform\"", async () => {
    const t = fakeTransport()
    addSingle(t, "s", digest("4"), "linux", "amd64")
    const broken = { ...t, blob: () => Effect.fail(new DigestMismatch({ what: "config of s", expected: digest("f"), actual: digest("0") })) }
    const results = await syncAll(definitionOf(entries("s")), broken)
    expect(results[0]).toMatchObject({ status: "failed", errorType: "DigestMismatch" })
    expect(results[0]!.error).not.toContain("unknown")
    expect(t.copies).toEqual([])
  })

  test("amd64Only on a linux/amd64 single-platform source syncs it", async () => {
    const t = fakeTransport()
    addSingle(t, "s", digest("4"), "linux", "amd64")
    const results = await syncAll(definitionOf(["  - source: \"src.example/team/s:1\"", "    amd64Only: true"]), t)
    expect(summary(results)).toEqual([["src.example/team/s:1", "synced"]])
    expect(t.copies).toHaveLength(1)
  })

  test("amd64Only on a linux/arm64 single-platform source fails and is not copied", async () => {
    const t = fakeTransport()
    addSingle(t, "s", digest("4"), "linux", "arm64")
    const results = await syncAll(definitionOf(["  - source: \"src.example/team/s:1\"", "    amd64Only: true"]), t)
    expect(results[0]).toMatchObject({ status: "failed", errorType: "PlatformMismatch" })
    expect(results[0]!.error).toContain("linux/arm64")
    expect(t.copies).toEqual([])
  })

  test("amd64Only on an index syncs the whole index with a warning", async () => {
    const t = fakeTransport()
    addIndex(t, "a", digest("a"))
    const results = await syncAll(definitionOf(["  - source: \"src.example/team/a:1\"", "    amd64Only: true"]), t)
    expect(results[0]!.status).toBe("synced")
    expect(results[0]!.warnings.join(" ")).toContain("no effect")
    expect(logs.some((l) => l.startsWith("WARN") && l.includes("src.example/team/a:1") && l.includes("amd64Only has no effect"))).toBe(true)
  })

  test("a pinned digest the source does not serve fails with DigestMismatch and is not copied", async () => {
    const t = fakeTransport()
    t.manifests.set(`src.example/team/a@${digest("a")}`, { digest: digest("7"), mediaType: INDEX, size: 1 })
    const results = await syncAll(definitionOf([`  - source: "src.example/team/a@${digest("a")}"`, "    tag: \"v1\""]), t)
    expect(results[0]).toMatchObject({ status: "failed", errorType: "DigestMismatch", target: `${TARGET}/mirror/src.example/team/a:v1` })
    expect(t.copies).toEqual([])
  })

  test("never more images in flight than `concurrency`", async () => {
    let inFlight = 0
    let peak = 0
    const t = fakeTransport({
      copy: () =>
        Effect.gen(function*() {
          inFlight++
          peak = Math.max(peak, inFlight)
          for (let i = 0; i < 5; i++) yield* Effect.yieldNow()
          inFlight--
        })
    })
    const names = ["a", "b", "c", "d", "e", "f"]
    for (const n of names) addIndex(t, n, digest(n))
    const results = await syncAll(definitionOf(entries(...names)), t, { concurrency: 2 })
    expect(results.every((r) => r.status === "synced")).toBe(true)
    expect(peak).toBeLessThanOrEqual(2)
  })

  test("the target is checked with inspect (HEAD), on the target location, before and again after the copy", async () => {
    const t = fakeTransport()
    addIndex(t, "a", digest("a"))
    await syncAll(definitionOf(entries("a")), t)
    expect(t.inspected).toEqual(["src.example/team/a:1", targetKey("a"), targetKey("a")])
  })

  test("a tag written by someone else during the copy is reported as a conflict, not silently accepted", async () => {
    const t = fakeTransport()
    addIndex(t, "a", digest("a"))
    addIndex(t, "b", digest("b"))
    // Another writer takes a's tag right after our copy of a.
    const racing: TransportShape = {
      ...t,
      copy: (source, target, manifest) =>
        t.copy(source, target, manifest).pipe(
          Effect.tap(() =>
            Effect.sync(() => {
              if (target.repository.endsWith("/a")) t.manifests.set(targetKey("a"), { digest: digest("9"), mediaType: INDEX, size: 1 })
            })
          )
        )
    }
    const results = await syncAll(definitionOf(entries("a", "b")), racing)
    expect(summary(results)).toEqual([["src.example/team/a:1", "conflict"], ["src.example/team/b:1", "synced"]])
    expect(results[0]!.errorType).toBe("TagTaken")
  })
})
