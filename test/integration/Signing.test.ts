/**
 * Signing on real registries: a source docker-registry behind a docker.io mirror, target
 * docker-registries, and the CLI as a subprocess with `--sign-key`. Every signature check is
 * independent of src/: payload bytes are compared with the spec's text and signatures are
 * verified with node:crypto (and once with openssl) over the exact bytes read back.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { generateKeyPairSync, randomBytes, sign, verify } from "node:crypto"
import type { KeyObject } from "node:crypto"
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { buildImage, pushImage, pushRawManifest } from "../../demo/SampleImages.ts"
import type { PushedImage, SampleImageSpec } from "../../demo/SampleImages.ts"
import { encryptCosignKey, p256, pemBodyLines, pkcs8Pem, spkiPem } from "../fixtures/signing/CosignKeys.ts"
import { signedLineFor, signedLines } from "../fixtures/signing/Lines.ts"
import {
  blobStatus,
  expectedPayload,
  fetchBlob,
  fetchManifest,
  fetchSignature,
  mustFetchManifest,
  rawLayerDescriptors,
  sha256,
  sigTag,
  uploadBlob
} from "../fixtures/signing/RegistryReads.ts"
import type { FoundSignature } from "../fixtures/signing/RegistryReads.ts"
import { AMD64, describeRun, makeTempDir, removeDir, runCli, settledRequests, SMALL, TWO_PLATFORMS, writeDefinition, writeRequests } from "./helpers.ts"
import type { CliRun } from "./helpers.ts"

const SIGNATURE = "dev.cosignproject.cosign/signature"
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
const OCI_INDEX = "application/vnd.oci.image.index.v1+json"
const enc = (s: string) => new TextEncoder().encode(s)
const dec = (b: Uint8Array) => new TextDecoder().decode(b)

/** A password nobody would type, so finding it anywhere in the output means it leaked. */
const PLANTED_PASSWORD = `PLANTED-PW-${randomBytes(8).toString("hex")}`
const PLANTED_WRONG_PASSWORD = `PLANTED-WRONG-PW-${randomBytes(8).toString("hex")}`

/** One seed-like entry (like examples/images.yaml): where it lives in the mirror and how it is named. */
interface SeedImage {
  readonly repository: string
  readonly spec: SampleImageSpec
  /** undefined → pushed by digest only and pinned in the definition */
  readonly sourceTag: string | undefined
  readonly tag?: string
  readonly amd64Only?: boolean
  readonly targetPath: string
  readonly targetTag: string
}

const SEED: ReadonlyArray<SeedImage> = [
  {
    repository: "bitnami/keycloak-gatekeeper",
    spec: { platforms: TWO_PLATFORMS, seed: "sign-keycloak-gatekeeper", ...SMALL },
    sourceTag: "9.0.3",
    targetPath: "bitnami/keycloak-gatekeeper",
    targetTag: "9.0.3"
  },
  {
    repository: "bitnami/postgres-exporter",
    spec: { platforms: TWO_PLATFORMS, seed: "sign-postgres-exporter-old", ...SMALL },
    sourceTag: "0.8.0-debian-10-r28",
    targetPath: "bitnami/postgres-exporter",
    targetTag: "0.8.0-debian-10-r28"
  },
  {
    repository: "library/busybox",
    spec: { platforms: TWO_PLATFORMS, seed: "sign-busybox", ...SMALL },
    sourceTag: undefined,
    tag: "1.32.0-v1",
    targetPath: "library/busybox",
    targetTag: "1.32.0-v1"
  },
  {
    repository: "bitnami/postgres-exporter",
    spec: { platforms: AMD64, index: false, seed: "sign-postgres-exporter-new", ...SMALL },
    sourceTag: "0.11.1-debian-11-r69",
    amd64Only: true,
    targetPath: "bitnami/postgres-exporter",
    targetTag: "0.11.1-debian-11-r69"
  },
  {
    repository: "library/postgres",
    spec: { platforms: AMD64, index: false, seed: "sign-postgres-alpine", ...SMALL },
    sourceTag: undefined,
    tag: "v20230508-11.19-alpine3.17",
    amd64Only: true,
    targetPath: "library/postgres",
    targetTag: "v20230508-11.19-alpine3.17"
  }
]

/** A seed image as pushed: its digest and the `source` string of the definition. */
interface Pushed {
  readonly image: SeedImage
  readonly digest: string
  readonly source: string
  /** the target repository: external/<path> */
  readonly targetRepo: string
}

/** The parts of a report entry the signing tests read. */
interface SignedReportImage {
  readonly source: string
  readonly status: string
  readonly digest: string | null
  readonly signed: boolean | "already"
  readonly signatureDigest?: string
  readonly wouldSign?: boolean
  readonly carried?: ReadonlyArray<string>
}

let src: LocalRegistry
let dstA: LocalRegistry
let dstB: LocalRegistry
let dstC: LocalRegistry
let dstE: LocalRegistry
let dstF: LocalRegistry
let dir = ""
let pushed: Array<Pushed> = []

/** Keys: a plain PKCS#8 file, a second key, an encrypted cosign key, upstream's, and a stranger's. */
const key1 = p256()
const key2 = p256()
const keyEnc = p256()
const keyUpstream = p256()
const keyStranger = p256()
const keyP384 = generateKeyPairSync("ec", { namedCurve: "P-384" })
const paths = { key1: "", key2: "", keyEnc: "", pub1: "", pub2: "", pubEnc: "", pubUpstream: "", pubStranger: "", notAKey: "", p384: "" }
let encryptedPem = ""

/** Every CLI output and report of this file, checked for secrets at the end. */
const outputs: Array<{ readonly what: string; readonly text: string }> = []

/** Runs the CLI (sync runs get --debug, so debug logs are checked for secrets too). */
const cli = async (what: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<CliRun> => {
  const run = await runCli(args, { home: dir, env })
  outputs.push({ what: `${what} stdout`, text: run.stdout }, { what: `${what} stderr`, text: run.stderr })
  return run
}
const sync = (what: string, file: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) => cli(what, ["-i", file, "--debug", ...args], env)

/** Reads a report file (and keeps its text for the secrets check). */
const report = async (path: string): Promise<Array<SignedReportImage>> => {
  const text = await readFile(path, "utf8")
  outputs.push({ what: `report ${path}`, text })
  return (JSON.parse(text) as { images: Array<SignedReportImage> }).images
}
const entryOf = (images: ReadonlyArray<SignedReportImage>, source: string): SignedReportImage => {
  const found = images.filter((i) => i.source === source)
  if (found.length !== 1) throw new Error(`expected one report entry for ${source}: ${JSON.stringify(images)}`)
  return found[0]!
}

/** A definition of some seed images into `dst` (prefix `<dst>/external/`, docker.io mirrored to the source). */
const seedDefinition = (dst: LocalRegistry, name: string, images: ReadonlyArray<Pushed> = pushed) =>
  writeDefinition(dir, name, {
    targetRepoPrefix: `${dst.host}/external/`,
    registries: { "docker.io": { mirror: src.host } },
    images: images.map(({ image, source }) => ({
      source,
      ...(image.tag === undefined ? {} : { tag: image.tag }),
      ...(image.amd64Only === undefined ? {} : { amd64Only: image.amd64Only })
    }))
  })

/** The signature (base64) of a layer. */
const sigOf = (found: FoundSignature, i: number): string => found.json.layers[i]?.annotations?.[SIGNATURE] ?? ""

/** node:crypto: does the layer's signature verify over its payload blob with this key? */
const layerVerifiesWith = (found: FoundSignature, i: number, key: KeyObject): boolean =>
  verify("sha256", found.payloads[i]!, key, Buffer.from(sigOf(found, i), "base64"))

/** The target's `.sig` of `p` must exist; returns it. */
const signatureIn = async (dst: LocalRegistry, p: Pushed): Promise<FoundSignature> => {
  const found = await fetchSignature(dst.url, p.targetRepo, p.digest)
  if (found === undefined) throw new Error(`${dst.host}/${p.targetRepo}:${sigTag(p.digest)} does not exist`)
  return found
}

/**
 * The checks of (a) for one target: `sha256-<hex>.sig` exists as an OCI manifest, the layer at
 * `index` is a simple-signing payload naming exactly this digest and the target repository,
 * and its signature verifies with node:crypto and `key`.
 */
const expectSignedLayer = (dst: LocalRegistry, p: Pushed, found: FoundSignature, index: number, key: KeyObject) => {
  const what = `${p.targetRepo}@${p.digest} layer ${index}`
  expect(found.manifest.mediaType, what).toBe(OCI_MANIFEST)
  expect(found.json.mediaType, what).toBe(OCI_MANIFEST)
  expect(found.json.config.mediaType, what).toBe("application/vnd.oci.image.config.v1+json")
  const layer = found.json.layers[index]!
  expect(layer.mediaType, what).toBe("application/vnd.dev.cosign.simplesigning.v1+json")
  expect(layer.digest, what).toBe(sha256(found.payloads[index]!))
  expect(layer.size, what).toBe(found.payloads[index]!.length)
  expect(dec(found.payloads[index]!), what).toBe(expectedPayload(`${dst.host}/${p.targetRepo}`, p.digest))
  expect(layerVerifiesWith(found, index, key), what).toBe(true)
}

beforeAll(async () => {
  ;[src, dstA, dstB, dstC, dstE, dstF] = await Promise.all([
    startRegistry(),
    startRegistry(),
    startRegistry(),
    startRegistry(),
    startRegistry(),
    startRegistry()
  ])
  dir = await makeTempDir("signing")
  for (const image of SEED) {
    const reference = image.sourceTag ?? buildImage(image.spec).top.digest
    const result = await pushImage(src.url, image.repository, reference, image.spec)
    const short = image.repository.startsWith("library/") ? image.repository.slice("library/".length) : image.repository
    pushed.push({
      image,
      digest: result.digest,
      source: image.sourceTag === undefined ? `${short}@${result.digest}` : `${short}:${image.sourceTag}`,
      targetRepo: `external/${image.targetPath}`
    })
  }
  const write = async (name: string, content: string) => {
    const path = join(dir, name)
    await writeFile(path, content, { mode: 0o600 })
    return path
  }
  encryptedPem = encryptCosignKey(keyEnc.privateKey, PLANTED_PASSWORD)
  paths.key1 = await write("key1.pem", pkcs8Pem(key1.privateKey))
  paths.key2 = await write("key2.pem", pkcs8Pem(key2.privateKey))
  paths.keyEnc = await write("cosign.key", encryptedPem)
  paths.pub1 = await write("key1.pub", spkiPem(key1.publicKey))
  paths.pub2 = await write("key2.pub", spkiPem(key2.publicKey))
  paths.pubEnc = await write("cosign.pub", spkiPem(keyEnc.publicKey))
  paths.pubUpstream = await write("upstream.pub", spkiPem(keyUpstream.publicKey))
  paths.pubStranger = await write("stranger.pub", spkiPem(keyStranger.publicKey))
  paths.notAKey = await write("not-a-key.pem", "this file is not a key\nbut it has two lines\n")
  paths.p384 = await write("p384.pem", pkcs8Pem(keyP384.privateKey))
}, 60_000)

afterAll(async () => {
  await Promise.all([src?.stop(), dstA?.stop(), dstB?.stop(), dstC?.stop(), dstE?.stop(), dstF?.stop()])
  await removeDir(dir)
}, 60_000)

describe("a. the seed-like set synced with --sign-key (PKCS#8 P-256 key file)", () => {
  let run: CliRun
  let images: Array<SignedReportImage>
  const sigs = new Map<string, FoundSignature>()

  beforeAll(async () => {
    const file = await seedDefinition(dstA, "seed-a.yaml")
    const reportPath = join(dir, "report-a.json")
    run = await sync("a: sign with key1", file, ["--sign-key", paths.key1, "--report", reportPath])
    images = await report(reportPath)
    for (const p of pushed) {
      const found = await fetchSignature(dstA.url, p.targetRepo, p.digest)
      if (found !== undefined) sigs.set(p.source, found)
    }
  }, 60_000)

  test("exit 0; every image synced and marked (signed)", () => {
    expect(run.code, describeRun(run)).toBe(0)
    expect(pushed.length).toBeGreaterThanOrEqual(4)
    for (const p of pushed) {
      const line = signedLineFor(run.stdout, p.source)
      expect(line.status, line.line).toBe("synced")
      expect(line.digest).toBe(p.digest)
      expect(line.marker, line.line).toBe("signed")
    }
  })

  test("the set has indexes, an amd64Only single manifest and digest-pinned entries", async () => {
    const kinds = await Promise.all(pushed.map(async (p) => (await mustFetchManifest(dstA.url, p.targetRepo, p.digest)).mediaType))
    expect(kinds.filter((k) => k === OCI_INDEX).length).toBeGreaterThanOrEqual(2)
    expect(pushed.some((p, i) => p.image.amd64Only === true && kinds[i] === OCI_MANIFEST)).toBe(true)
    expect(pushed.filter((p) => p.source.includes("@sha256:")).length).toBeGreaterThanOrEqual(1)
  })

  test("for every target digest the tag sha256-<hex>.sig exists", () => {
    for (const p of pushed) expect(sigs.has(p.source), `${p.targetRepo}:${sigTag(p.digest)}`).toBe(true)
  })

  test("each .sig layer's payload names that digest and <dst host>/external/<repo>, and verifies with node:crypto", () => {
    for (const p of pushed) {
      const found = sigs.get(p.source)!
      expect(found.json.layers).toHaveLength(1)
      expectSignedLayer(dstA, p, found, 0, key1.publicKey)
    }
  })

  test("openssl verifies one of the signatures too", async () => {
    const found = sigs.get(pushed[0]!.source)!
    const payloadPath = join(dir, "a-payload.json")
    const sigPath = join(dir, "a-sig.der")
    await writeFile(payloadPath, found.payloads[0]!)
    await writeFile(sigPath, Buffer.from(sigOf(found, 0), "base64"))
    const r = Bun.spawnSync(["openssl", "dgst", "-sha256", "-verify", paths.pub1, "-signature", sigPath, payloadPath], { stdout: "pipe", stderr: "pipe" })
    expect(r.stdout.toString().trim(), r.stderr.toString()).toBe("Verified OK")
  })

  test("no signature verifies with a stranger's key", () => {
    for (const p of pushed) expect(layerVerifiesWith(sigs.get(p.source)!, 0, keyStranger.publicKey)).toBe(false)
  })

  test("report: signed true and signatureDigest = the .sig manifest digest", () => {
    for (const p of pushed) {
      const entry = entryOf(images, p.source)
      expect(entry.status).toBe("synced")
      expect(entry.signed).toBe(true)
      expect(entry.signatureDigest).toBe(sigs.get(p.source)!.manifest.digest)
    }
  })
})

describe("b. a second signed run with the same key", () => {
  let run: CliRun
  let images: Array<SignedReportImage>
  let writes: Awaited<ReturnType<typeof writeRequests>>
  let reads = 0

  beforeAll(async () => {
    const file = await seedDefinition(dstA, "seed-b.yaml")
    const reportPath = join(dir, "report-b.json")
    await dstA.resetRequests()
    run = await sync("b: sign again with key1", file, ["--sign-key", paths.key1, "--report", reportPath])
    writes = await writeRequests(dstA)
    reads = dstA.requests().length
    images = await report(reportPath)
  }, 60_000)

  test("exit 0; every image present with (signature present)", () => {
    expect(run.code, describeRun(run)).toBe(0)
    for (const p of pushed) {
      const line = signedLineFor(run.stdout, p.source)
      expect(line.status, line.line).toBe("present")
      expect(line.marker, line.line).toBe("signature present")
    }
  })

  test("ZERO write requests (POST/PUT/PATCH/DELETE) in the target log", () => {
    expect(writes).toEqual([])
    // the run did read the target, so the empty write list means something
    expect(reads).toBeGreaterThanOrEqual(pushed.length * 2)
  })

  test("report: signed \"already\" and the existing .sig digest", async () => {
    for (const p of pushed) {
      const entry = entryOf(images, p.source)
      expect(entry.signed).toBe("already")
      expect(entry.signatureDigest).toBe((await signatureIn(dstA, p)).manifest.digest)
    }
  })
})

/** One line of `verify` stdout. */
const verifyLines = (run: CliRun) =>
  run.stdout.split("\n").flatMap((line) => {
    const m = /^(verified|unsigned|missing|failed)\s+(\S+) (\S+)(?: : (.*))?$/.exec(line)
    return m === null ? [] : [{ status: m[1]!, target: m[2]!, digest: m[3]!, detail: m[4] ?? "", line }]
  })
const targetName = (dst: LocalRegistry, p: Pushed) => `${dst.host}/${p.targetRepo}:${p.image.targetTag}`

describe("g. the verify command", () => {
  test("after a signed sync: exit 0 and one \"verified\" line per image", async () => {
    const file = await seedDefinition(dstA, "seed-g.yaml")
    const run = await cli("g: verify key1", ["verify", "-i", file, "--key", paths.pub1])
    expect(run.code, describeRun(run)).toBe(0)
    const lines = verifyLines(run)
    expect(lines).toHaveLength(pushed.length)
    for (const p of pushed) {
      const line = lines.find((l) => l.target === targetName(dstA, p))
      expect(line?.status, run.stdout).toBe("verified")
      expect(line?.digest).toBe(p.digest)
    }
    expect(run.stdout).toContain(`${pushed.length} images: ${pushed.length} verified, 0 not verified`)
  })

  test("with another public key: exit 1, every image \"unsigned\"", async () => {
    const file = await seedDefinition(dstA, "seed-g2.yaml")
    const run = await cli("g: verify stranger", ["verify", "-i", file, "--key", paths.pubStranger])
    expect(run.code, describeRun(run)).toBe(1)
    const lines = verifyLines(run)
    expect(lines).toHaveLength(pushed.length)
    for (const line of lines) expect(line.status, line.line).toBe("unsigned")
  })

  test("verify writes nothing to the target", async () => {
    const file = await seedDefinition(dstA, "seed-g3.yaml")
    await dstA.resetRequests()
    const run = await cli("g: verify read-only", ["verify", "-i", file, "--key", paths.pub1])
    expect(run.code, describeRun(run)).toBe(0)
    expect(await writeRequests(dstA)).toEqual([])
  })
})

describe("d. a second key appends a second layer to the same .sig manifest", () => {
  let run: CliRun
  let images: Array<SignedReportImage>
  const before = new Map<string, FoundSignature>()
  const after = new Map<string, FoundSignature>()

  beforeAll(async () => {
    for (const p of pushed) before.set(p.source, await signatureIn(dstA, p))
    const file = await seedDefinition(dstA, "seed-d.yaml")
    const reportPath = join(dir, "report-d.json")
    run = await sync("d: sign with key2", file, ["--sign-key", paths.key2, "--report", reportPath])
    images = await report(reportPath)
    for (const p of pushed) after.set(p.source, await signatureIn(dstA, p))
  }, 60_000)

  test("exit 0; every image present and (signed) again", () => {
    expect(run.code, describeRun(run)).toBe(0)
    for (const p of pushed) {
      const line = signedLineFor(run.stdout, p.source)
      expect(line.status, line.line).toBe("present")
      expect(line.marker, line.line).toBe("signed")
    }
  })

  test("the .sig manifest now has two layers; the first descriptor is byte-identical", () => {
    for (const p of pushed) {
      const old = rawLayerDescriptors(before.get(p.source)!.manifest.bytes)
      const now = rawLayerDescriptors(after.get(p.source)!.manifest.bytes)
      expect(old).toHaveLength(1)
      expect(now).toHaveLength(2)
      expect(now[0]).toBe(old[0]!)
    }
  })

  test("layer 1 verifies with key1 and layer 2 with key2 (node:crypto), each naming the digest and target", () => {
    for (const p of pushed) {
      const found = after.get(p.source)!
      expectSignedLayer(dstA, p, found, 0, key1.publicKey)
      expectSignedLayer(dstA, p, found, 1, key2.publicKey)
      expect(layerVerifiesWith(found, 1, key1.publicKey)).toBe(false)
    }
  })

  test("the config gains a diff_id and a history entry per signature", async () => {
    for (const p of pushed) {
      const found = after.get(p.source)!
      const config = JSON.parse(dec(await fetchBlob(dstA.url, p.targetRepo, found.json.config.digest))) as {
        rootfs: { diff_ids: Array<string> }
        history: Array<unknown>
      }
      expect(config.rootfs.diff_ids).toEqual(found.json.layers.map((l) => l.digest))
      expect(config.history).toHaveLength(2)
    }
  })

  test("report: signed true with the new .sig digest", () => {
    for (const p of pushed) {
      const entry = entryOf(images, p.source)
      expect(entry.signed).toBe(true)
      expect(entry.signatureDigest).toBe(after.get(p.source)!.manifest.digest)
      expect(entry.signatureDigest).not.toBe(before.get(p.source)!.manifest.digest)
    }
  })

  test("verify passes with either public key", async () => {
    const file = await seedDefinition(dstA, "seed-d-verify.yaml")
    for (const [name, pub] of [["key1", paths.pub1], ["key2", paths.pub2]] as const) {
      const v = await cli(`d: verify ${name}`, ["verify", "-i", file, "--key", pub])
      expect(v.code, `${name}\n${describeRun(v)}`).toBe(0)
      expect(verifyLines(v).every((l) => l.status === "verified")).toBe(true)
    }
  })
})

describe("a (encrypted key). the seed-like set signed with an encrypted cosign key and SYNCER_SIGN_KEY_PASSWORD", () => {
  let run: CliRun
  let images: Array<SignedReportImage>

  beforeAll(async () => {
    const file = await seedDefinition(dstB, "seed-enc.yaml")
    const reportPath = join(dir, "report-enc.json")
    run = await sync("a-enc: sign with encrypted key", file, ["--sign-key", paths.keyEnc, "--report", reportPath], {
      SYNCER_SIGN_KEY_PASSWORD: PLANTED_PASSWORD
    })
    images = await report(reportPath)
  }, 60_000)

  test("the key file is cosign's encrypted format", () => {
    expect(encryptedPem).toStartWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
  })

  test("exit 0; every image synced and (signed)", () => {
    expect(run.code, describeRun(run)).toBe(0)
    for (const p of pushed) {
      const line = signedLineFor(run.stdout, p.source)
      expect(line.status, line.line).toBe("synced")
      expect(line.marker, line.line).toBe("signed")
    }
  })

  test("every target digest has a .sig whose payload names it and verifies with the encrypted key's public key", async () => {
    for (const p of pushed) {
      const found = await signatureIn(dstB, p)
      expect(found.json.layers).toHaveLength(1)
      expectSignedLayer(dstB, p, found, 0, keyEnc.publicKey)
      expect(entryOf(images, p.source).signed).toBe(true)
      expect(entryOf(images, p.source).signatureDigest).toBe(found.manifest.digest)
    }
  })

  test("verify with the matching cosign.pub: exit 0", async () => {
    const file = await seedDefinition(dstB, "seed-enc-verify.yaml")
    const v = await cli("a-enc: verify", ["verify", "-i", file, "--key", paths.pubEnc])
    expect(v.code, describeRun(v)).toBe(0)
  })
})

describe("c. a present but unsigned image is signed on the next run (encrypted key, COSIGN_PASSWORD)", () => {
  let subset: Array<Pushed>
  let unsigned: CliRun
  let signed: CliRun
  let images: Array<SignedReportImage>
  const sigsBefore: Array<FoundSignature | undefined> = []

  beforeAll(async () => {
    // an index and an amd64Only single manifest
    subset = [pushed[0]!, pushed[3]!]
    const file = await seedDefinition(dstC, "seed-c.yaml", subset)
    unsigned = await sync("c: unsigned", file, [])
    for (const p of subset) sigsBefore.push(await fetchSignature(dstC.url, p.targetRepo, p.digest))
    const reportPath = join(dir, "report-c.json")
    signed = await sync("c: sign present", file, ["--sign-key", paths.keyEnc, "--report", reportPath], { COSIGN_PASSWORD: PLANTED_PASSWORD })
    images = await report(reportPath)
  }, 60_000)

  test("the run without --sign-key synced the images and wrote no .sig", () => {
    expect(unsigned.code, describeRun(unsigned)).toBe(0)
    for (const p of subset) {
      const line = signedLineFor(unsigned.stdout, p.source)
      expect(line.status).toBe("synced")
      expect(line.marker).toBe("")
    }
    expect(sigsBefore).toEqual([undefined, undefined])
  })

  test("the run with the key: images present and (signed); report signed true", () => {
    expect(signed.code, describeRun(signed)).toBe(0)
    for (const p of subset) {
      const line = signedLineFor(signed.stdout, p.source)
      expect(line.status, line.line).toBe("present")
      expect(line.marker, line.line).toBe("signed")
      expect(entryOf(images, p.source).signed).toBe(true)
    }
  })

  test("the .sig now exists, names the digest and target, and verifies with node:crypto", async () => {
    for (const p of subset) {
      const found = await signatureIn(dstC, p)
      expectSignedLayer(dstC, p, found, 0, keyEnc.publicKey)
      expect(entryOf(images, p.source).signatureDigest).toBe(found.manifest.digest)
    }
  })
})

describe("c (env). SYNCER_SIGN_KEY and the password variables", () => {
  test("SYNCER_SIGN_KEY selects the key like --sign-key, and SYNCER_SIGN_KEY_PASSWORD wins over COSIGN_PASSWORD", async () => {
    const subset = [pushed[0]!, pushed[3]!]
    const file = await seedDefinition(dstC, "seed-c-env.yaml", subset)
    await dstC.resetRequests()
    const run = await sync("c-env: key from env", file, [], {
      SYNCER_SIGN_KEY: paths.keyEnc,
      SYNCER_SIGN_KEY_PASSWORD: PLANTED_PASSWORD,
      COSIGN_PASSWORD: PLANTED_WRONG_PASSWORD
    })
    expect(run.code, describeRun(run)).toBe(0)
    // the signature of (c) is recognised, so the key was loaded and decrypted
    for (const p of subset) expect(signedLineFor(run.stdout, p.source).marker).toBe("signature present")
    expect(await writeRequests(dstC)).toEqual([])
  })
})

describe("e. upstream .sig, .att and OCI 1.1 referrer (fallback tag) travel with the image", () => {
  const REPO = "library/signed-app"
  const TARGET_REPO = "external/library/signed-app"
  let app: PushedImage
  let upstreamSig: { bytes: Uint8Array; digest: string; payload: Uint8Array }
  let app2: PushedImage
  let upstreamSig2: { bytes: Uint8Array; descriptor: string }
  let att: { bytes: Uint8Array; digest: string; blobs: Array<string> }
  let referrer: { bytes: Uint8Array; digest: string; blobs: Array<string> }
  let fallback: { bytes: Uint8Array; digest: string }
  let run: CliRun
  let images: Array<SignedReportImage>
  let pushedE: Pushed

  /** A cosign-style config (as ggcr writes it) for these layer digests. */
  const cosignConfig = (diffIds: ReadonlyArray<string>) =>
    enc(JSON.stringify({
      architecture: "",
      created: "2023-02-17T09:25:33.91047962-08:00",
      history: diffIds.map(() => ({ created: "0001-01-01T00:00:00Z" })),
      os: "",
      rootfs: { type: "layers", diff_ids: diffIds },
      config: {}
    }))

  beforeAll(async () => {
    app = await pushImage(src.url, REPO, "1.0", { platforms: TWO_PLATFORMS, seed: "upstream-signed-app", ...SMALL })
    pushedE = {
      image: { repository: REPO, spec: { platforms: TWO_PLATFORMS, seed: "x" }, sourceTag: "1.0", targetPath: "library/signed-app", targetTag: "1.0" },
      digest: app.digest,
      source: "signed-app:1.0",
      targetRepo: TARGET_REPO
    }

    // upstream's cosign signature: payload naming the SOURCE digest, signed with upstream's key
    const payload = enc(expectedPayload("index.docker.io/library/signed-app", app.digest))
    const signature = sign("sha256", payload, keyUpstream.privateKey).toString("base64")
    const bundle = JSON.stringify({
      SignedEntryTimestamp: "MEUCIQC0upstream",
      Payload: {
        body: "eyJhcGlWZXJzaW9uIjoiMC4wLjEifQ==",
        integratedTime: 1700000000,
        logIndex: 42,
        logID: "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"
      }
    })
    const config = cosignConfig([sha256(payload)])
    await uploadBlob(src.url, REPO, payload)
    await uploadBlob(src.url, REPO, config)
    const sigBytes = enc(
      `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":${config.length},"digest":"${
        sha256(config)
      }"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":${payload.length},"digest":"${sha256(payload)}","annotations":${
        JSON.stringify({ [SIGNATURE]: signature, "dev.sigstore.cosign/bundle": bundle })
      }}]}`
    )
    upstreamSig = { bytes: sigBytes, digest: await pushRawManifest(src.url, REPO, sigTag(app.digest), sigBytes, OCI_MANIFEST), payload }

    // an attestation at sha256-<hex>.att (DSSE envelope layer)
    const statement = JSON.stringify({
      _type: "https://in-toto.io/Statement/v0.1",
      predicateType: "https://slsa.dev/provenance/v0.2",
      subject: [{ name: "index.docker.io/library/signed-app", digest: { sha256: app.digest.slice(7) } }],
      predicate: {}
    })
    const envelope = enc(
      JSON.stringify({
        payloadType: "application/vnd.in-toto+json",
        payload: Buffer.from(statement).toString("base64"),
        signatures: [{ keyid: "", sig: sign("sha256", enc(statement), keyUpstream.privateKey).toString("base64") }]
      })
    )
    const attConfig = cosignConfig([sha256(envelope)])
    await uploadBlob(src.url, REPO, envelope)
    await uploadBlob(src.url, REPO, attConfig)
    const attBytes = enc(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", size: attConfig.length, digest: sha256(attConfig) },
      layers: [{
        mediaType: "application/vnd.dsse.envelope.v1+json",
        size: envelope.length,
        digest: sha256(envelope),
        annotations: { predicateType: "https://slsa.dev/provenance/v0.2" }
      }]
    }))
    att = {
      bytes: attBytes,
      digest: await pushRawManifest(src.url, REPO, sigTag(app.digest, ".att"), attBytes, OCI_MANIFEST),
      blobs: [sha256(envelope), sha256(attConfig)]
    }

    // an OCI 1.1 referrer (subject = the image), listed in the referrers fallback index at sha256-<hex>
    const empty = enc("{}")
    const sbom = enc(JSON.stringify({ spdxVersion: "SPDX-2.3", name: "signed-app", packages: [] }))
    await uploadBlob(src.url, REPO, empty)
    await uploadBlob(src.url, REPO, sbom)
    const refBytes = enc(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/spdx+json",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha256(empty), size: 2 },
      layers: [{ mediaType: "application/spdx+json", digest: sha256(sbom), size: sbom.length }],
      subject: { mediaType: app.mediaType, digest: app.digest, size: app.size },
      annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" }
    }))
    const refDigest = await pushRawManifest(src.url, REPO, sha256(refBytes), refBytes, OCI_MANIFEST)
    referrer = { bytes: refBytes, digest: refDigest, blobs: [sha256(empty), sha256(sbom)] }
    const indexBytes = enc(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{
        mediaType: OCI_MANIFEST,
        digest: refDigest,
        size: refBytes.length,
        artifactType: "application/spdx+json",
        annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" }
      }]
    }))
    fallback = { bytes: indexBytes, digest: await pushRawManifest(src.url, REPO, sigTag(app.digest, ""), indexBytes, OCI_INDEX) }

    // a second image whose upstream .sig layer is serialised in OCI's documented key order
    // (mediaType, digest, size), as tools other than cosign write descriptors
    app2 = await pushImage(src.url, REPO, "2.0", { platforms: TWO_PLATFORMS, seed: "upstream-signed-app-2", ...SMALL })
    const payload2 = enc(expectedPayload("index.docker.io/library/signed-app", app2.digest))
    const config2 = cosignConfig([sha256(payload2)])
    await uploadBlob(src.url, REPO, payload2)
    await uploadBlob(src.url, REPO, config2)
    const descriptor2 = `{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"${
      sha256(payload2)
    }","size":${payload2.length},"annotations":{"${SIGNATURE}":"${sign("sha256", payload2, keyUpstream.privateKey).toString("base64")}"}}`
    const sig2Bytes = enc(
      `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"${
        sha256(config2)
      }","size":${config2.length}},"layers":[${descriptor2}]}`
    )
    await pushRawManifest(src.url, REPO, sigTag(app2.digest), sig2Bytes, OCI_MANIFEST)
    upstreamSig2 = { bytes: sig2Bytes, descriptor: descriptor2 }

    const file = await writeDefinition(dir, "upstream.yaml", {
      targetRepoPrefix: `${dstE.host}/external/`,
      registries: { "docker.io": { mirror: src.host } },
      images: [{ source: "signed-app:1.0" }, { source: "signed-app:2.0" }]
    })
    const reportPath = join(dir, "report-e.json")
    run = await sync("e: upstream signatures", file, ["--sign-key", paths.key1, "--report", reportPath])
    images = await report(reportPath)
  }, 60_000)

  test("the source really carries .sig, .att and the fallback tag (and the upstream signature verifies)", async () => {
    expect((await mustFetchManifest(src.url, REPO, sigTag(app.digest))).digest).toBe(upstreamSig.digest)
    expect((await mustFetchManifest(src.url, REPO, sigTag(app.digest, ".att"))).digest).toBe(att.digest)
    expect((await mustFetchManifest(src.url, REPO, sigTag(app.digest, ""))).digest).toBe(fallback.digest)
    const found = await fetchSignature(src.url, REPO, app.digest)
    expect(layerVerifiesWith(found!, 0, keyUpstream.publicKey)).toBe(true)
  })

  test("exit 0; synced and (signed); report lists the carried artifacts", () => {
    expect(run.code, describeRun(run)).toBe(0)
    const line = signedLineFor(run.stdout, "signed-app:1.0")
    expect(line.status, line.line).toBe("synced")
    expect(line.marker, line.line).toBe("signed")
    const entry = entryOf(images, "signed-app:1.0")
    expect(entry.signed).toBe(true)
    expect(entry.carried).toEqual(expect.arrayContaining([sigTag(app.digest), sigTag(app.digest, ".att"), expect.stringContaining(sigTag(app.digest, ""))]))
  })

  test("the target .sig keeps upstream's layer byte-identical (descriptor and payload blob) and it still verifies with upstream's key", async () => {
    const found = await signatureIn(dstE, pushedE)
    const upstreamDescriptor = rawLayerDescriptors(upstreamSig.bytes)
    expect(upstreamDescriptor).toHaveLength(1)
    const targetDescriptors = rawLayerDescriptors(found.manifest.bytes)
    expect(targetDescriptors).toHaveLength(2)
    expect(targetDescriptors[0]).toBe(upstreamDescriptor[0]!)
    expect(Buffer.from(found.payloads[0]!).equals(Buffer.from(upstreamSig.payload))).toBe(true)
    expect(layerVerifiesWith(found, 0, keyUpstream.publicKey)).toBe(true)
    expect(found.json.layers[0]!.annotations?.["dev.sigstore.cosign/bundle"]).toContain("SignedEntryTimestamp")
  })

  test("our layer sits beside it: names the target repository and digest, verifies with our key", async () => {
    const found = await signatureIn(dstE, pushedE)
    expectSignedLayer(dstE, pushedE, found, 1, key1.publicKey)
    expect(layerVerifiesWith(found, 1, keyUpstream.publicKey)).toBe(false)
    expect(entryOf(images, "signed-app:1.0").signatureDigest).toBe(found.manifest.digest)
  })

  test("an upstream layer serialised in another key order (mediaType, digest, size) is kept byte-identical too", async () => {
    const line = signedLineFor(run.stdout, "signed-app:2.0")
    expect(line.status, line.line).toBe("synced")
    expect(line.marker, line.line).toBe("signed")
    const found = await signatureIn(dstE, { ...pushedE, digest: app2.digest, source: "signed-app:2.0" })
    expect(rawLayerDescriptors(upstreamSig2.bytes)).toEqual([upstreamSig2.descriptor])
    expect(found.json.layers).toHaveLength(2)
    expect(layerVerifiesWith(found, 0, keyUpstream.publicKey)).toBe(true)
    expect(rawLayerDescriptors(found.manifest.bytes)[0]).toBe(upstreamSig2.descriptor)
  })

  test(".att is copied byte-exact (same manifest digest) with its blobs", async () => {
    const copied = await mustFetchManifest(dstE.url, TARGET_REPO, sigTag(app.digest, ".att"))
    expect(copied.digest).toBe(att.digest)
    expect(Buffer.from(copied.bytes).equals(Buffer.from(att.bytes))).toBe(true)
    for (const blob of att.blobs) expect(await blobStatus(dstE.url, TARGET_REPO, blob), blob).toBe(200)
  })

  test("the referrers fallback index tag is copied byte-exact and the referrer manifest is present by digest", async () => {
    const index = await mustFetchManifest(dstE.url, TARGET_REPO, sigTag(app.digest, ""))
    expect(index.digest).toBe(fallback.digest)
    expect(Buffer.from(index.bytes).equals(Buffer.from(fallback.bytes))).toBe(true)
    const ref = await fetchManifest(dstE.url, TARGET_REPO, referrer.digest)
    expect(ref?.digest).toBe(referrer.digest)
    expect(Buffer.from(ref!.bytes).equals(Buffer.from(referrer.bytes))).toBe(true)
    for (const blob of referrer.blobs) expect(await blobStatus(dstE.url, TARGET_REPO, blob), blob).toBe(200)
  })

  test("a second signed run writes nothing: our signature beside upstream's is recognised", async () => {
    const file = await writeDefinition(dir, "upstream-again.yaml", {
      targetRepoPrefix: `${dstE.host}/external/`,
      registries: { "docker.io": { mirror: src.host } },
      images: [{ source: "signed-app:1.0" }]
    })
    await dstE.resetRequests()
    const again = await sync("e: second run", file, ["--sign-key", paths.key1])
    expect(again.code, describeRun(again)).toBe(0)
    expect(signedLineFor(again.stdout, "signed-app:1.0").marker).toBe("signature present")
    expect(await writeRequests(dstE)).toEqual([])
  })

  test("verify with upstream's public key passes on the target (the carried signature counts)", async () => {
    const file = await writeDefinition(dir, "upstream-verify.yaml", {
      targetRepoPrefix: `${dstE.host}/external/`,
      registries: { "docker.io": { mirror: src.host } },
      images: [{ source: "signed-app:1.0" }]
    })
    const v = await cli("e: verify upstream key", ["verify", "-i", file, "--key", paths.pubUpstream])
    expect(v.code, describeRun(v)).toBe(0)
    expect(verifyLines(v).map((l) => l.status)).toEqual(["verified"])
  })
})

describe("f. --dry-run --sign-key writes nothing and says what would be signed", () => {
  let dry: CliRun
  let images: Array<SignedReportImage>
  let writesDst: Awaited<ReturnType<typeof writeRequests>>
  let writesSrc: Awaited<ReturnType<typeof writeRequests>>

  beforeAll(async () => {
    // image 0: present and signed; image 1: present, unsigned; the rest: absent
    await sync("f: setup unsigned", await seedDefinition(dstF, "seed-f0.yaml", pushed.slice(0, 2)), [])
    await sync("f: setup sign one", await seedDefinition(dstF, "seed-f1.yaml", pushed.slice(0, 1)), ["--sign-key", paths.key1])
    const file = await seedDefinition(dstF, "seed-f.yaml")
    const reportPath = join(dir, "report-f.json")
    await src.resetRequests()
    await dstF.resetRequests()
    dry = await sync("f: dry run", file, ["--dry-run", "--sign-key", paths.key1, "--report", reportPath])
    ;[writesDst, writesSrc] = await Promise.all([writeRequests(dstF), writeRequests(src)])
    images = await report(reportPath)
  }, 60_000)

  test("exit 0 and zero write requests to target and source", () => {
    expect(dry.code, describeRun(dry)).toBe(0)
    expect(writesDst).toEqual([])
    expect(writesSrc).toEqual([])
    expect(dstF.requests().length).toBeGreaterThan(0)
  })

  test("absent images: planned, (would sign), report wouldSign true", () => {
    for (const p of pushed.slice(2)) {
      const line = signedLineFor(dry.stdout, p.source)
      expect(line.status, line.line).toBe("planned")
      expect(line.marker, line.line).toBe("would sign")
      expect(entryOf(images, p.source).wouldSign).toBe(true)
      expect(entryOf(images, p.source).signed).toBe(false)
    }
  })

  test("a present but unsigned image: present, (would sign), report wouldSign true", () => {
    const p = pushed[1]!
    const line = signedLineFor(dry.stdout, p.source)
    expect(line.status, line.line).toBe("present")
    expect(line.marker, line.line).toBe("would sign")
    expect(entryOf(images, p.source).wouldSign).toBe(true)
  })

  test("an image already signed by this key: (signature present), no wouldSign", () => {
    const p = pushed[0]!
    const line = signedLineFor(dry.stdout, p.source)
    expect(line.status, line.line).toBe("present")
    expect(line.marker, line.line).toBe("signature present")
    expect(entryOf(images, p.source).signed).toBe("already")
    expect(entryOf(images, p.source).wouldSign).toBeUndefined()
  })

  test("nothing was signed: only image 0 has a .sig", async () => {
    expect(await fetchSignature(dstF.url, pushed[0]!.targetRepo, pushed[0]!.digest)).toBeDefined()
    for (const p of pushed.slice(1)) expect(await fetchSignature(dstF.url, p.targetRepo, p.digest), p.source).toBeUndefined()
  })

  test("verify: exit 1 naming the unsigned and the missing images", async () => {
    const v = await cli("f/g: verify partial", ["verify", "-i", await seedDefinition(dstF, "seed-f-verify.yaml"), "--key", paths.pub1])
    expect(v.code, describeRun(v)).toBe(1)
    const lines = verifyLines(v)
    const statusOf = (p: Pushed) => lines.find((l) => l.target === targetName(dstF, p))?.status
    expect(statusOf(pushed[0]!)).toBe("verified")
    expect(statusOf(pushed[1]!)).toBe("unsigned")
    for (const p of pushed.slice(2)) expect(statusOf(p), p.source).toBe("missing")
    expect(v.stdout).toContain(`${pushed.length} images: 1 verified, ${pushed.length - 1} not verified`)
  })
})

describe("h. a key that cannot be loaded: exit 2, the reason on stderr, no registry contacted", () => {
  const cases = [
    {
      name: "an encrypted key with the wrong password",
      key: () => paths.keyEnc,
      env: () => ({ SYNCER_SIGN_KEY_PASSWORD: PLANTED_WRONG_PASSWORD }),
      problem: "wrong password"
    },
    { name: "a file that is not a key", key: () => paths.notAKey, env: () => ({}), problem: "not a key" },
    { name: "a P-384 key", key: () => paths.p384, env: () => ({}), problem: "unsupported curve" },
    { name: "a key file that does not exist", key: () => join(dir, "missing.key"), env: () => ({}), problem: "not a key" }
  ]

  for (const c of cases) {
    test(`${c.name} → exit 2, stderr says "${c.problem}", zero requests to source and target`, async () => {
      const file = await seedDefinition(dstA, `seed-h-${c.problem.replace(/ /g, "-")}.yaml`)
      await src.resetRequests()
      await dstA.resetRequests()
      const run = await sync(`h: ${c.name}`, file, ["--sign-key", c.key()], c.env())
      expect(run.code, describeRun(run)).toBe(2)
      expect(run.stderr).toContain(`signing key ${c.key()}: ${c.problem}`)
      expect(run.stdout).toBe("")
      expect(await settledRequests(src)).toEqual([])
      expect(await settledRequests(dstA)).toEqual([])
    })
  }

  test("SYNCER_SIGN_KEY naming a P-384 key → exit 2 \"unsupported curve\", zero requests", async () => {
    const file = await seedDefinition(dstA, "seed-h-env.yaml")
    await src.resetRequests()
    await dstA.resetRequests()
    const run = await sync("h: env P-384", file, [], { SYNCER_SIGN_KEY: paths.p384 })
    expect(run.code, describeRun(run)).toBe(2)
    expect(run.stderr).toContain(`signing key ${paths.p384}: unsupported curve`)
    expect(await settledRequests(src)).toEqual([])
    expect(await settledRequests(dstA)).toEqual([])
  })

  test("the wrong-password case names neither password", () => {
    const wrong = outputs.filter((o) => o.what.startsWith("h: an encrypted key with the wrong password"))
    expect(wrong).toHaveLength(2)
    for (const o of wrong) {
      expect(o.text).not.toContain(PLANTED_WRONG_PASSWORD)
      expect(o.text).not.toContain(PLANTED_PASSWORD)
    }
  })
})

describe("i. secrets never appear in stdout, stderr or reports", () => {
  test("no output of any run above contains a password, a private key PEM line or body", () => {
    // every phase above contributed (sync runs with --debug, verify runs, reports)
    expect(outputs.length).toBeGreaterThanOrEqual(40)
    expect(outputs.some((o) => o.what.startsWith("a-enc"))).toBe(true)
    expect(outputs.some((o) => o.what.startsWith("c: sign present"))).toBe(true)
    expect(outputs.some((o) => o.what.startsWith("h: an encrypted key"))).toBe(true)
    expect(outputs.some((o) => o.what.startsWith("report"))).toBe(true)

    const privatePems = [key1, key2, keyEnc, keyP384].map((k) => pkcs8Pem(k.privateKey))
    const secrets = new Set<string>([PLANTED_PASSWORD, PLANTED_WRONG_PASSWORD])
    for (const pem of [...privatePems, encryptedPem]) {
      const body = pemBodyLines(pem)
      secrets.add(body.join(""))
      // a line shorter than 12 characters (a PEM's last line may be) could occur by chance
      for (const line of body) if (line.length >= 12) secrets.add(line)
    }
    for (const k of [key1, key2, keyEnc, keyP384]) {
      const der = k.privateKey.export({ format: "der", type: "pkcs8" })
      secrets.add(der.toString("hex"))
      secrets.add(der.toString("base64"))
    }
    for (const o of outputs) {
      for (const secret of secrets) {
        if (o.text.includes(secret)) throw new Error(`${o.what} contains secret material: ${secret.slice(0, 8)}…`)
      }
    }
  })
})
