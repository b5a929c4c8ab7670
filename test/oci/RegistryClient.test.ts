/**
 * Registry operations (RegistryClient) against a real docker-registry target (startRegistry)
 * and fake sources that misbehave on demand (test/support/FakeRegistry.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test"
import { FetchHttpClient } from "@effect/platform"
import { Cause, Effect, Either, Exit, Layer, Option } from "effect"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { Credentials } from "../../src/transport/Credentials.ts"
import { RegistryClient } from "../../src/oci/RegistryClient.ts"
import { bySide, RegistryClients } from "../../src/transport/RegistryClients.ts"
import { copyOneBlob } from "../../src/transport/CopyTree.ts"
import { defaultRegistryHttpSettings, RegistryHttp } from "../../src/oci/RegistryHttp.ts"
import type { RetrySettings } from "../../src/oci/http/RetryPolicy.ts"
import { digestOf, sampleBlob, sampleIndex, startBadBlobSource, startCountingServer, startCutOffBlobSource, startServer } from "../support/FakeRegistry.ts"
import { sha256Digest } from "../../src/model/Digest.ts"
import { endpointFor } from "../../src/model/Location.ts"
import type { ImageLocation, Role } from "../../src/model/Location.ts"

const fastRetry: RetrySettings = {
  attempts: 3,
  baseDelay: "5 millis",
  maxDelay: "20 millis",
  maxRetryAfter: "5 seconds",
  maxTotal: "30 seconds"
}

const clientLayer = (readOnly = false) =>
  // one client that reads sources with pull access and writes targets with push access, as a run does
  Layer.effect(RegistryClient, Effect.map(RegistryClients, bySide)).pipe(
    Layer.provide(RegistryClients.layer({ dryRun: readOnly, retry: fastRetry })),
    Layer.provide(RegistryHttp.layer({ ...defaultRegistryHttpSettings, retry: fastRetry })),
    Layer.provide(Credentials.anonymous),
    Layer.provide(FetchHttpClient.layer)
  )

type Client = RegistryClient["Type"]

const withClient = <A, E>(use: (client: Client) => Effect.Effect<A, E>, readOnly = false) =>
  Effect.runPromise(Effect.flatMap(RegistryClient, use).pipe(Effect.provide(clientLayer(readOnly))))

const exitOf = <A, E>(use: (client: Client) => Effect.Effect<A, E>, readOnly = false) =>
  Effect.runPromise(Effect.exit(Effect.flatMap(RegistryClient, use).pipe(Effect.provide(clientLayer(readOnly)))))

const at = (host: string, repository: string, reference: string, role: Role = "source"): ImageLocation => ({
  endpoint: endpointFor(host, new Map(), role),
  repository,
  reference
})

const OCTET = { "content-type": "application/octet-stream" }

/** A plain source serving one good blob. */
const goodSource = (repository: string, blob: Uint8Array) => {
  const digest = digestOf(blob)
  return startServer((_request, url) => {
    if (url.pathname === "/v2/") return new Response("{}")
    if (url.pathname === `/v2/${repository}/blobs/${digest}`) return new Response(blob, { headers: OCTET })
    return undefined
  })
}

let target: LocalRegistry
beforeAll(async () => {
  target = await startRegistry()
})
afterAll(async () => {
  await target.stop()
})

const cleanups: Array<() => Promise<unknown> | void> = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((stop) => stop()))
})

/** Asks the real target directly (not through the client under test). */
const targetHasBlob = async (repository: string, digest: string) =>
  (await fetch(`${target.url}/v2/${repository}/blobs/${digest}`, { method: "HEAD" })).status === 200

describe("a blob copied into a real registry (copyOneBlob over the client)", () => {
  test("a good blob is streamed, verified and stored; the byte count is returned", async () => {
    const blob = sampleBlob(70_000, "good")
    const source = goodSource("team/app", blob)
    cleanups.push(() => source.stop())
    const digest = digestOf(blob)
    const copied = await withClient((c) =>
      copyOneBlob(c, c, at(source.host, "team/app", "1.0"), at(target.host, "copy/good", "1.0", "target"), { digest: digest, size: blob.length })
    )
    expect(await targetHasBlob("copy/good", digest)).toBe(true)
    expect(copied).toBe(blob.length)
  })

  test("corrupted bytes (right length): DigestMismatch, not retried, and the target does not have the blob", async () => {
    const blob = sampleBlob(40_000, "corrupt")
    const source = startBadBlobSource({ repository: "team/app", blob, mode: "wrong-bytes" })
    cleanups.push(() => source.server.stop())
    const r = await withClient((c) =>
      Effect.either(
        copyOneBlob(c, c, at(source.server.host, "team/app", "1.0"), at(target.host, "copy/corrupt", "1.0", "target"), {
          digest: source.digest,
          size: blob.length
        })
      )
    )
    expect(Either.isLeft(r)).toBe(true)
    if (Either.isRight(r)) return
    expect(r.left._tag).toBe("DigestMismatch")
    if (r.left._tag !== "DigestMismatch") return
    expect(r.left.expected).toBe(source.digest)
    expect(r.left.actual).toBe(digestOf(blob.map((b) => b ^ 0xff)))
    expect(source.blobGets()).toBe(1)
    expect(await targetHasBlob("copy/corrupt", source.digest)).toBe(false)
  })

  test("a body shorter than the descriptor: DigestMismatch naming the byte counts; the target does not have the blob", async () => {
    const blob = sampleBlob(40_000, "short")
    const source = startBadBlobSource({ repository: "team/app", blob, mode: "short" })
    cleanups.push(() => source.server.stop())
    const r = await withClient((c) =>
      Effect.either(
        copyOneBlob(c, c, at(source.server.host, "team/app", "1.0"), at(target.host, "copy/short", "1.0", "target"), {
          digest: source.digest,
          size: blob.length
        })
      )
    )
    expect(Either.isLeft(r) && r.left._tag).toBe("DigestMismatch")
    if (Either.isLeft(r)) expect(r.left.message).toContain(`(20000 of 40000 bytes)`)
    expect(await targetHasBlob("copy/short", source.digest)).toBe(false)
  })

  test("a body cut off mid-stream (connection reset): retried (and resumed when bytes got through), then RegistryUnavailable; the target does not have the blob", async () => {
    const blob = sampleBlob(40_000, "cut")
    const source = startCutOffBlobSource({ repository: "team/app", blob })
    cleanups.push(() => source.stop())
    const r = await withClient((c) =>
      Effect.either(
        copyOneBlob(c, c, at(source.host, "team/app", "1.0"), at(target.host, "copy/cut", "1.0", "target"), { digest: source.digest, size: blob.length })
      )
    )
    expect(Either.isLeft(r) && r.left._tag).toBe("RegistryUnavailable")
    if (Either.isLeft(r)) {
      expect(r.left.message).toContain(source.host)
      expect(r.left.message).toContain(`reading blob ${source.digest}`)
    }
    // Every whole try reads once; resumes (bounded by the same attempt count) add at most as many again.
    // Whether a resume happens depends on bytes reaching us before the reset (Bun may drop them);
    // the deterministic resume test is in test/reliability/Faults.test.ts.
    expect(source.blobGets()).toBeGreaterThanOrEqual(fastRetry.attempts)
    expect(source.blobGets()).toBeLessThanOrEqual(2 * fastRetry.attempts)
    expect(await targetHasBlob("copy/cut", source.digest)).toBe(false)
  })
})

/**
 * A target that refuses a token at the streamed PUT that closes an upload (a token revoked
 * mid-copy): tokens from its own realm, `refused(n)` says whether the n-th issued token is
 * refused there; the POST accepts any token it issued.
 */
const tokenRefusingTarget = (refused: (n: number) => boolean) => {
  let issued = 0
  const server = startServer((request, url) => {
    const auth = request.headers.get("authorization") ?? ""
    const challenge = `Bearer realm="${url.origin}/token",service="refusing",scope="repository:dst/app:pull,push"`
    if (url.pathname === "/token") return Response.json({ token: `tok-${++issued}`, expires_in: 300 })
    const n = Number(/^Bearer tok-(\d+)$/.exec(auth)?.[1] ?? "0")
    if (n === 0) return new Response(null, { status: 401, headers: { "www-authenticate": challenge } })
    if (request.method === "POST") return new Response(null, { status: 202, headers: { location: `${url.origin}/v2/dst/app/blobs/uploads/u${n}` } })
    if (request.method === "PUT") {
      if (refused(n)) return new Response(null, { status: 401, headers: { "www-authenticate": `${challenge},error="invalid_token"` } })
      return new Response(null, { status: 201, headers: { "docker-content-digest": url.searchParams.get("digest") ?? "" } })
    }
    return undefined
  })
  return server
}

describe("a token refused at the streamed PUT of an upload", () => {
  const blob = sampleBlob(300_000, "refused-token")
  const digest = digestOf(blob)
  const copy = (source: { host: string }, target: { host: string }) =>
    withClient((c) => copyOneBlob(c, c, at(source.host, "src/app", digest), at(target.host, "dst/app", digest, "target"), { digest, size: blob.length }))

  test("the token is dropped, a fresh one fetched, and the whole upload sent again from a fresh read of the source", async () => {
    const source = goodSource("src/app", blob)
    const target = tokenRefusingTarget((n) => n === 1)
    cleanups.push(source.stop, target.stop)
    expect(await copy(source, target)).toBe(blob.length)
    const seen = target.requests().map((r) => `${r.method} ${r.path.split("?")[0]}`)
    expect(seen.filter((r) => r === "GET /token")).toHaveLength(2)
    expect(seen.filter((r) => r.startsWith("PUT "))).toHaveLength(2)
    expect(source.requests().filter((r) => r.path.includes("/blobs/"))).toHaveLength(2)
  })

  test("a fresh token refused too: Unauthorized, after exactly one more upload", async () => {
    const source = goodSource("src/app", blob)
    const target = tokenRefusingTarget(() => true)
    cleanups.push(source.stop, target.stop)
    const exit = await Effect.runPromise(
      Effect.either(
        Effect.flatMap(
          RegistryClient,
          (c) => copyOneBlob(c, c, at(source.host, "src/app", digest), at(target.host, "dst/app", digest, "target"), { digest, size: blob.length })
        ).pipe(Effect.provide(clientLayer()))
      )
    )
    expect(Either.isLeft(exit) && exit.left._tag).toBe("Unauthorized")
    expect(target.requests().filter((r) => r.method === "PUT")).toHaveLength(2)
  })
})

describe("other operations on a real registry", () => {
  test("putBlob stores bytes; hasBlob then sees them", async () => {
    const blob = sampleBlob(1000, "upload")
    const digest = digestOf(blob)
    const image = at(target.host, "ops/upload", "1.0", "target")
    const [before, after] = await withClient((c) =>
      Effect.gen(function*() {
        const before = yield* c.hasBlob(image, digest, 0)
        yield* c.putBlob(image, digest, blob)
        return [before, yield* c.hasBlob(image, digest, 0)] as const
      })
    )
    expect(before).toBe(false)
    expect(after).toBe(true)
    expect(await targetHasBlob("ops/upload", digest)).toBe(true)
  })

  test("putBlob with bytes that do not match the digest: DigestMismatch before any request", async () => {
    await target.resetRequests()
    const r = await withClient((c) => Effect.either(c.putBlob(at(target.host, "ops/bad-upload", "1.0", "target"), digestOf("something else"), sampleBlob(10))))
    expect(Either.isLeft(r) && r.left._tag).toBe("DigestMismatch")
    await target.settle()
    expect(target.requests().filter((q) => q.path.includes("ops/bad-upload"))).toEqual([])
  })

  test("putManifest stores the exact bytes under the tag; headManifest and getManifest read them back", async () => {
    const index = sampleIndex("put")
    const image = at(target.host, "ops/put", "v1", "target")
    const [put, head, raw] = await withClient((c) =>
      Effect.gen(function*() {
        const put = yield* c.putManifest(image, index.bytes, index.mediaType)
        const head = yield* c.headManifest(image)
        const raw = yield* c.getManifest(image)
        return [put, head, raw] as const
      })
    )
    expect(put).toBe(index.digest)
    expect(Option.getOrThrow(head)).toEqual({ digest: index.digest, mediaType: index.mediaType, size: index.bytes.length })
    expect(raw.digest).toBe(index.digest)
    expect(Buffer.from(raw.bytes).equals(Buffer.from(index.bytes))).toBe(true)
  })

  test("headManifest of an absent tag is None", async () => {
    const r = await withClient((c) => c.headManifest(at(target.host, "ops/absent", "nope", "target")))
    expect(Option.isNone(r)).toBe(true)
  })

  test("getManifest of an absent tag is ImageNotFound", async () => {
    const r = await withClient((c) => Effect.either(c.getManifest(at(target.host, "ops/absent", "nope"))))
    expect(Either.isLeft(r) && r.left._tag).toBe("ImageNotFound")
  })

  test("mountBlob: true when the blob is in the other repository, false when it is not", async () => {
    const blob = sampleBlob(2000, "mount")
    const digest = digestOf(blob)
    const [mounted, missing] = await withClient((c) =>
      Effect.gen(function*() {
        yield* c.putBlob(at(target.host, "ops/mount-from", "1.0", "target"), digest, blob)
        const mounted = yield* c.mountBlob(at(target.host, "ops/mount-to", "1.0", "target"), digest, "ops/mount-from")
        const missing = yield* c.mountBlob(at(target.host, "ops/mount-to2", "1.0", "target"), digest, "ops/nowhere")
        return [mounted, missing] as const
      })
    )
    expect(mounted).toBe(true)
    expect(await targetHasBlob("ops/mount-to", digest)).toBe(true)
    expect(missing).toBe(false)
    expect(await targetHasBlob("ops/mount-to2", digest)).toBe(false)
  })

  test("referrers: distribution v2.8 has no referrers API (404): None, and the registry is asked only once per run", async () => {
    await target.settle()
    await target.resetRequests()
    const digest = `sha256:${"ab".repeat(32)}`
    const answers = await withClient((c) =>
      Effect.all([
        c.referrers(at(target.host, "ops/ref-a", "1.0", "target"), digest),
        c.referrers(at(target.host, "ops/ref-b", "1.0", "target"), digest)
      ])
    )
    expect(answers.map(Option.isNone)).toEqual([true, true])
    await target.settle()
    expect(target.requests().filter((r) => r.path.includes("/referrers/")).map((r) => r.status)).toEqual([404])
  })
})

describe("verification of what sources serve", () => {
  test("getBlob with corrupted bytes: DigestMismatch, not retried", async () => {
    const blob = sampleBlob(500, "getblob")
    const source = startBadBlobSource({ repository: "team/app", blob, mode: "wrong-bytes" })
    cleanups.push(() => source.server.stop())
    const r = await withClient((c) => Effect.either(c.getBlob(at(source.server.host, "team/app", "1.0"), source.digest)))
    expect(Either.isLeft(r) && r.left._tag).toBe("DigestMismatch")
    expect(source.blobGets()).toBe(1)
  })

  test("getManifest by digest with other content: DigestMismatch", async () => {
    const served = sampleIndex("served")
    const asked = sampleIndex("asked").digest
    const source = startServer((_request, url) => {
      if (url.pathname === "/v2/") return new Response("{}")
      if (url.pathname === `/v2/team/app/manifests/${asked}`) {
        return new Response(served.bytes, { headers: { "content-type": served.mediaType } })
      }
      return undefined
    })
    cleanups.push(() => source.stop())
    const r = await withClient((c) => Effect.either(c.getManifest(at(source.host, "team/app", asked))))
    expect(Either.isLeft(r)).toBe(true)
    if (Either.isLeft(r) && r.left._tag === "DigestMismatch") {
      expect(r.left.expected).toBe(asked)
      expect(r.left.actual).toBe(served.digest)
    } else {
      throw new Error(`expected DigestMismatch, got ${JSON.stringify(r)}`)
    }
  })

  test("headManifest without Docker-Content-Digest: GETs the body and hashes it", async () => {
    const index = sampleIndex("no-digest-header")
    const source = startServer((request, url) => {
      if (url.pathname === "/v2/") return new Response("{}")
      if (url.pathname === "/v2/team/app/manifests/1.0") {
        return new Response(request.method === "HEAD" ? null : index.bytes, { headers: { "content-type": index.mediaType } })
      }
      return undefined
    })
    cleanups.push(() => source.stop())
    const r = await withClient((c) => c.headManifest(at(source.host, "team/app", "1.0")))
    expect(Option.getOrThrow(r).digest).toBe(index.digest)
    expect(source.requests().filter((q) => q.path === "/v2/team/app/manifests/1.0").map((q) => q.method)).toEqual(["HEAD", "GET"])
  })

  test("a schema 1 manifest is refused with a clear TransportFailure", async () => {
    const source = startServer((_request, url) => {
      if (url.pathname === "/v2/") return new Response("{}")
      if (url.pathname === "/v2/team/old/manifests/1.0") {
        return new Response(null, {
          headers: {
            "content-type": "application/vnd.docker.distribution.manifest.v1+prettyjws",
            "docker-content-digest": digestOf("old")
          }
        })
      }
      return undefined
    })
    cleanups.push(() => source.stop())
    const r = await withClient((c) => Effect.either(c.headManifest(at(source.host, "team/old", "1.0"))))
    expect(Either.isLeft(r) && r.left._tag).toBe("TransportFailure")
    if (Either.isLeft(r)) expect(r.left.message).toContain("schema 1")
  })

  test("sha256Digest is sha256:<hex> of the bytes", () => {
    expect(sha256Digest(new TextEncoder().encode(""))).toBe("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  })
})

describe("read-only mode (dry run)", () => {
  const refused = async (use: (c: Client, host: string) => Effect.Effect<unknown, unknown>, method: string) => {
    const server = startCountingServer()
    cleanups.push(() => server.stop())
    const exit = await exitOf((c) => use(c, server.host), true)
    expect(Exit.isFailure(exit)).toBe(true)
    if (Exit.isSuccess(exit)) return
    const defect = Cause.dieOption(exit.cause)
    expect(Option.isSome(defect)).toBe(true)
    expect(String(Option.getOrUndefined(defect))).toContain(`read-only mode: refused ${method}`)
    expect(server.requests()).toEqual([])
  }

  test("putManifest is a defect and no request reaches the server", async () => {
    const index = sampleIndex("ro")
    await refused((c, host) => c.putManifest(at(host, "ro/app", "v1", "target"), index.bytes, index.mediaType), "PUT")
  })

  test("putBlob is a defect and no request reaches the server", async () => {
    const blob = sampleBlob(10)
    await refused((c, host) => c.putBlob(at(host, "ro/app", "v1", "target"), digestOf(blob), blob), "POST")
  })

  test("mountBlob is a defect and no request reaches the server", async () => {
    await refused((c, host) => c.mountBlob(at(host, "ro/app", "v1", "target"), digestOf("x"), "ro/other"), "POST")
  })

  test("a blob copy into a read-only client is a defect and no request reaches the target", async () => {
    const blob = sampleBlob(100, "ro-copy")
    const source = goodSource("team/app", blob)
    cleanups.push(() => source.stop())
    await refused(
      (c, host) => copyOneBlob(c, c, at(source.host, "team/app", "1.0"), at(host, "ro/app", "v1", "target"), { digest: digestOf(blob), size: blob.length }),
      "POST"
    )
  })

  test("reads still work", async () => {
    const index = sampleIndex("ro-read")
    const source = startServer((request, url) => {
      if (url.pathname === "/v2/") return new Response("{}")
      if (url.pathname === "/v2/team/app/manifests/1.0") {
        return new Response(request.method === "HEAD" ? null : index.bytes, {
          headers: { "content-type": index.mediaType, "docker-content-digest": index.digest }
        })
      }
      return undefined
    })
    cleanups.push(() => source.stop())
    const r = await withClient((c) => c.headManifest(at(source.host, "team/app", "1.0", "target")), true)
    expect(Option.getOrThrow(r).digest).toBe(index.digest)
  })
})
