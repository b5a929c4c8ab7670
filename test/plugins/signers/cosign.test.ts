/**
 * The KMS signer (plugins/signers/cosign.ts) against a stand-in `cosign` executable
 * (test/fixtures/signing/bin/cosign): it accepts only the two calls of the contract and signs
 * with a local key through openssl, so the signatures are checked here with node:crypto.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { BunContext } from "@effect/platform-bun"
import { Effect, Either } from "effect"
import { createPublicKey, verify } from "node:crypto"
import type { KeyObject } from "node:crypto"
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { existsSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { isKmsReference, make } from "../../../plugins/signers/cosign.ts"
import { Exec } from "../../../src/process/Exec.ts"
import { SignKeyUnusable } from "../../../src/signing/KeyLoader.ts"
import { startRegistry } from "../../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../../demo/LocalRegistry.ts"
import { pushImage } from "../../../demo/SampleImages.ts"
import type { PushedImage } from "../../../demo/SampleImages.ts"
import { p256, pkcs8Pem } from "../../fixtures/signing/CosignKeys.ts"
import { expectedPayload, fetchSignature, sha256 } from "../../fixtures/signing/RegistryReads.ts"
import { signedLineFor } from "../../fixtures/signing/Lines.ts"
import {
  describeRun,
  makeTempDir,
  readReport,
  removeDir,
  runCli,
  settledRequests,
  SMALL,
  TWO_PLATFORMS,
  writeDefinition,
  writeRequests
} from "../../integration/helpers.ts"
import { SigningFailed } from "../../../src/signing/Signer.ts"

const STANDIN = join(import.meta.dir, "..", "..", "fixtures", "signing", "bin", "cosign")
const KMS_REF = "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k"

let dir = ""
let keyPath = ""
let publicKey: KeyObject

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cosign-signer-test-"))
  const pair = p256()
  publicKey = pair.publicKey
  keyPath = join(dir, "kms-standin-key.pem")
  await writeFile(keyPath, pkcs8Pem(pair.privateKey), { mode: 0o600 })
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

let wrappers = 0
/**
 * A wrapper around the stand-in with its settings baked in (the plugin passes no environment
 * of its own and the test must not change process.env). Returns its path and its call log.
 */
const standIn = async (settings: Record<string, string> = {}): Promise<{ path: string; log: string }> => {
  const n = ++wrappers
  const log = join(dir, `calls-${n}.log`)
  const env = { STANDIN_COSIGN_REF: KMS_REF, STANDIN_COSIGN_KEY: keyPath, STANDIN_COSIGN_LOG: log, ...settings }
  const exports = Object.entries(env).map(([k, v]) => `export ${k}='${v}'`).join("\n")
  const path = join(dir, `cosign-${n}`)
  await writeFile(path, `#!/bin/sh\n${exports}\nexec '${STANDIN}' "$@"\n`)
  await chmod(path, 0o755)
  return { path, log }
}

const calls = async (log: string): Promise<Array<string>> => existsSync(log) ? (await readFile(log, "utf8")).split("\n").filter((l) => l !== "") : []

const run = <A, E>(effect: Effect.Effect<A, E, Exec>) =>
  Effect.runPromise(Effect.either(effect.pipe(Effect.provide(Exec.layer), Effect.provide(BunContext.layer))))

const spki = (key: KeyObject) => key.export({ format: "der", type: "spki" }).toString("hex")
const PAYLOAD = new TextEncoder().encode(expectedPayload("127.0.0.1:5000/external/library/app", `sha256:${"ab".repeat(32)}`))

describe("the stand-in cosign itself", () => {
  test("stand-in: public-key prints the PEM public key of its key file", async () => {
    const r = Bun.spawnSync([STANDIN, "public-key", "--key", KMS_REF], {
      env: { PATH: process.env["PATH"] ?? "", STANDIN_COSIGN_REF: KMS_REF, STANDIN_COSIGN_KEY: keyPath },
      stdout: "pipe",
      stderr: "pipe"
    })
    expect(r.exitCode, r.stderr.toString()).toBe(0)
    expect(spki(createPublicKey(r.stdout.toString()))).toBe(spki(publicKey))
  })

  test("stand-in: sign-blob writes a base64 DER signature that node:crypto and openssl verify", async () => {
    const payloadPath = join(dir, "direct-payload.json")
    const out = join(dir, "direct-payload.sig")
    await writeFile(payloadPath, PAYLOAD)
    const r = Bun.spawnSync([STANDIN, "sign-blob", "--key", KMS_REF, "--tlog-upload=false", "--yes", "--output-signature", out, payloadPath], {
      env: { PATH: process.env["PATH"] ?? "", STANDIN_COSIGN_REF: KMS_REF, STANDIN_COSIGN_KEY: keyPath },
      stdout: "pipe",
      stderr: "pipe"
    })
    expect(r.exitCode, r.stderr.toString()).toBe(0)
    const b64 = await readFile(out, "utf8")
    expect(b64).toMatch(/^[A-Za-z0-9+/]+=*$/)
    const der = Buffer.from(b64, "base64")
    // ASN.1 SEQUENCE of two INTEGERs
    expect(der[0]).toBe(0x30)
    expect(verify("sha256", PAYLOAD, publicKey, der)).toBe(true)
    const pubPath = join(dir, "direct.pub")
    const derPath = join(dir, "direct.der")
    await writeFile(pubPath, publicKey.export({ format: "pem", type: "spki" }))
    await writeFile(derPath, der)
    const o = Bun.spawnSync(["openssl", "dgst", "-sha256", "-verify", pubPath, "-signature", derPath, payloadPath], { stdout: "pipe", stderr: "pipe" })
    expect(o.stdout.toString().trim()).toBe("Verified OK")
  })

  test("stand-in: any other arguments exit 1 with a message on stderr", async () => {
    const env = { PATH: process.env["PATH"] ?? "", STANDIN_COSIGN_REF: KMS_REF, STANDIN_COSIGN_KEY: keyPath }
    for (
      const argv of [
        ["public-key", "--key", "gcpkms://projects/other/locations/l/keyRings/r/cryptoKeys/k"],
        ["public-key", "--key=" + KMS_REF],
        ["sign-blob", "--key", KMS_REF, "--yes", "--tlog-upload=false", "--output-signature", "o", "p"],
        ["sign", "--key", KMS_REF, "image"],
        []
      ]
    ) {
      const r = Bun.spawnSync([STANDIN, ...argv], { env, stdout: "pipe", stderr: "pipe" })
      expect(r.exitCode, argv.join(" ")).toBe(1)
      expect(r.stderr.toString()).toContain("stand-in cosign:")
    }
  })
})

describe("plugins/signers/cosign.ts with a stand-in cosign", () => {
  test("isKmsReference: gcpkms, awskms, azurekms, hashivault URIs only", () => {
    for (const ref of [KMS_REF, "awskms:///arn:aws:kms:us-east-1:1:key/k", "azurekms://v.vault.azure.net/k", "hashivault://transit-key"]) {
      expect(isKmsReference(ref), ref).toBe(true)
    }
    for (const ref of ["cosign.key", "/keys/gcpkms.key", "gcpkms:/projects/p", "k8s://ns/secret", "GCPKMS://x"]) {
      expect(isKmsReference(ref), ref).toBe(false)
    }
  })

  test("stand-in: make calls exactly `public-key --key REF` once and takes the printed PEM as public key", async () => {
    const { path, log } = await standIn()
    const r = await run(make(KMS_REF, path))
    if (Either.isLeft(r)) throw new Error(`make failed: ${r.left.message}`)
    expect(r.right.name).toBe(`cosign ${KMS_REF}`)
    expect(spki(r.right.publicKey)).toBe(spki(publicKey))
    expect(await calls(log)).toEqual([`public-key --key ${KMS_REF}`])
  })

  test("stand-in: sign calls `sign-blob --key REF --tlog-upload=false --yes --output-signature OUT PAYLOAD`; node:crypto verifies the signature", async () => {
    const { path, log } = await standIn()
    const signer = await run(make(KMS_REF, path))
    if (Either.isLeft(signer)) throw new Error(signer.left.message)
    const sig = await Effect.runPromise(signer.right.sign(PAYLOAD))
    expect(sig).toMatch(/^[A-Za-z0-9+/]+=*$/)
    expect(verify("sha256", PAYLOAD, publicKey, Buffer.from(sig, "base64"))).toBe(true)
    const lines = await calls(log)
    expect(lines).toHaveLength(2)
    const m = /^sign-blob --key (\S+) --tlog-upload=false --yes --output-signature (\S+) (\S+)$/.exec(lines[1]!)
    expect(m, lines[1]).not.toBeNull()
    expect(m![1]).toBe(KMS_REF)
    // OUT and PAYLOAD sit in one temp dir that is gone afterwards
    expect(dirname(m![2]!)).toBe(dirname(m![3]!))
    expect(existsSync(dirname(m![3]!))).toBe(false)
  })

  test("stand-in: each payload is signed separately (two payloads, two sign-blob calls, both verify)", async () => {
    const { path, log } = await standIn()
    const signer = await run(make(KMS_REF, path))
    if (Either.isLeft(signer)) throw new Error(signer.left.message)
    const other = new TextEncoder().encode(expectedPayload("127.0.0.1:5000/external/library/other", `sha256:${"cd".repeat(32)}`))
    const [a, b] = await Promise.all([Effect.runPromise(signer.right.sign(PAYLOAD)), Effect.runPromise(signer.right.sign(other))])
    expect(verify("sha256", PAYLOAD, publicKey, Buffer.from(a, "base64"))).toBe(true)
    expect(verify("sha256", other, publicKey, Buffer.from(b, "base64"))).toBe(true)
    expect(verify("sha256", other, publicKey, Buffer.from(a, "base64"))).toBe(false)
    expect((await calls(log)).filter((l) => l.startsWith("sign-blob "))).toHaveLength(2)
  })

  test("stand-in exiting 1 on public-key: SignKeyUnusable \"not a key\" carrying cosign's stderr", async () => {
    const { path } = await standIn({ STANDIN_COSIGN_FAIL: "public-key" })
    const r = await run(make(KMS_REF, path))
    if (Either.isRight(r)) throw new Error("expected make to fail")
    expect(r.left).toBeInstanceOf(SignKeyUnusable)
    const e = r.left as SignKeyUnusable
    expect(e.problem).toBe("not a key")
    expect(e.source).toBe(KMS_REF)
    expect(e.message).toContain("exited with 1")
    expect(e.message).toContain("permission denied")
  })

  test("stand-in printing no PEM on public-key: SignKeyUnusable \"not a key\"", async () => {
    const { path } = await standIn({ STANDIN_COSIGN_PUBLIC_KEY_OUT: "garbage" })
    const r = await run(make(KMS_REF, path))
    if (Either.isRight(r)) throw new Error("expected make to fail")
    expect(r.left).toBeInstanceOf(SignKeyUnusable)
    expect((r.left as SignKeyUnusable).problem).toBe("not a key")
    expect(r.left.message).toContain("printed no PEM public key")
  })

  test("a cosign that cannot be started (no such file, no stand-in): SignKeyUnusable \"not a key\"", async () => {
    const r = await run(make(KMS_REF, join(dir, "no-such-cosign")))
    if (Either.isRight(r)) throw new Error("expected make to fail")
    expect(r.left).toBeInstanceOf(SignKeyUnusable)
    expect((r.left as SignKeyUnusable).problem).toBe("not a key")
    expect(r.left.message).toContain("could not be started")
  })

  test("stand-in exiting 1 on sign-blob: SigningFailed with cosign's stderr, temp dir removed", async () => {
    const { path, log } = await standIn({ STANDIN_COSIGN_FAIL: "sign-blob" })
    const signer = await run(make(KMS_REF, path))
    if (Either.isLeft(signer)) throw new Error(signer.left.message)
    const r = await Effect.runPromise(Effect.either(signer.right.sign(PAYLOAD)))
    if (Either.isRight(r)) throw new Error("expected sign to fail")
    expect(r.left).toBeInstanceOf(SigningFailed)
    expect(r.left.message).toContain("quota exceeded")
    const line = (await calls(log)).find((l) => l.startsWith("sign-blob "))!
    expect(existsSync(dirname(line.split(" ").at(-1)!))).toBe(false)
  })

  test("stand-in writing a non-base64 signature: SigningFailed", async () => {
    const { path } = await standIn({ STANDIN_COSIGN_SIGNATURE_OUT: "garbage" })
    const signer = await run(make(KMS_REF, path))
    if (Either.isLeft(signer)) throw new Error(signer.left.message)
    const r = await Effect.runPromise(Effect.either(signer.right.sign(PAYLOAD)))
    if (Either.isRight(r)) throw new Error("expected sign to fail")
    expect(r.left).toBeInstanceOf(SigningFailed)
    expect(r.left.message).toContain("no base64 signature")
  })
})

describe("CLI --sign-key gcpkms://… with the stand-in cosign first on PATH", () => {
  let src: LocalRegistry
  let dst: LocalRegistry
  let home = ""
  let imagesFile = ""
  let image: PushedImage
  const TARGET_REPO = "external/library/app"

  const cliEnv = (log: string, extra: Record<string, string> = {}) => ({
    PATH: `${dirname(STANDIN)}:${process.env["PATH"] ?? "/usr/bin:/bin"}`,
    STANDIN_COSIGN_REF: KMS_REF,
    STANDIN_COSIGN_KEY: keyPath,
    STANDIN_COSIGN_LOG: log,
    ...extra
  })

  beforeAll(async () => {
    ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
    home = await makeTempDir("cosign-kms")
    image = await pushImage(src.url, "library/app", "1.0", { platforms: TWO_PLATFORMS, seed: "kms-app", ...SMALL })
    imagesFile = await writeDefinition(home, "images.yaml", {
      targetRepoPrefix: `${dst.host}/external/`,
      registries: { "docker.io": { mirror: src.host } },
      images: [{ source: "app:1.0" }]
    })
  })

  afterAll(async () => {
    await Promise.all([src?.stop(), dst?.stop()])
    await removeDir(home)
  })

  test("stand-in exiting 1 on public-key: exit 2, stderr names the key reference, zero registry requests", async () => {
    await src.resetRequests()
    await dst.resetRequests()
    const log = join(home, "fail.log")
    const r = await runCli(["-i", imagesFile, "--sign-key", KMS_REF], { home, env: cliEnv(log, { STANDIN_COSIGN_FAIL: "public-key" }) })
    expect(r.code, describeRun(r)).toBe(2)
    expect(r.stderr).toContain(KMS_REF)
    expect(r.stderr).toContain("permission denied")
    expect(r.stdout).toBe("")
    expect(await calls(log)).toEqual([`public-key --key ${KMS_REF}`])
    expect(await settledRequests(src)).toEqual([])
    expect(await settledRequests(dst)).toEqual([])
  })

  test("stand-in: a sync signs through cosign; the .sig payload names the target and digest and verifies with node:crypto", async () => {
    const log = join(home, "sync.log")
    const report = join(home, "report.json")
    const r = await runCli(["-i", imagesFile, "--sign-key", KMS_REF, "--report", report], { home, env: cliEnv(log) })
    expect(r.code, describeRun(r)).toBe(0)
    const line = signedLineFor(r.stdout, "app:1.0")
    expect(line.status).toBe("synced")
    expect(line.marker).toBe("signed")
    const lines = await calls(log)
    expect(lines[0]).toBe(`public-key --key ${KMS_REF}`)
    expect(lines.slice(1).map((l) => l.replace(/--output-signature \S+ \S+$/, "…"))).toEqual([
      `sign-blob --key ${KMS_REF} --tlog-upload=false --yes …`
    ])
    const sig = await fetchSignature(dst.url, TARGET_REPO, image.digest)
    expect(sig).toBeDefined()
    expect(sig!.json.layers).toHaveLength(1)
    const payload = sig!.payloads[0]!
    expect(new TextDecoder().decode(payload)).toBe(expectedPayload(`${dst.host}/${TARGET_REPO}`, image.digest))
    const b64 = sig!.json.layers[0]!.annotations?.["dev.cosignproject.cosign/signature"] ?? ""
    expect(verify("sha256", payload, publicKey, Buffer.from(b64, "base64"))).toBe(true)
    const entry = (await readReport(report)).images[0] as unknown as { signed: unknown; signatureDigest: string }
    expect(entry.signed).toBe(true)
    expect(entry.signatureDigest).toBe(sha256(sig!.manifest.bytes))
  })

  test("stand-in: a second run asks cosign for the public key only, writes nothing, signature present", async () => {
    const log = join(home, "again.log")
    await dst.resetRequests()
    const r = await runCli(["-i", imagesFile, "--sign-key", KMS_REF], { home, env: cliEnv(log) })
    expect(r.code, describeRun(r)).toBe(0)
    const line = signedLineFor(r.stdout, "app:1.0")
    expect(line.status).toBe("present")
    expect(line.marker).toBe("signature present")
    expect(await calls(log)).toEqual([`public-key --key ${KMS_REF}`])
    expect(await writeRequests(dst)).toEqual([])
  })

  test("stand-in: a dry run asks cosign for the public key only and says (would sign), zero writes", async () => {
    const other = await pushImage(src.url, "library/app", "3.0", { platforms: TWO_PLATFORMS, seed: "kms-app-3", ...SMALL })
    const file = await writeDefinition(home, "images-3.yaml", {
      targetRepoPrefix: `${dst.host}/external/`,
      registries: { "docker.io": { mirror: src.host } },
      images: [{ source: "app:3.0" }]
    })
    const log = join(home, "dry.log")
    await dst.resetRequests()
    const r = await runCli(["-i", file, "--dry-run", "--sign-key", KMS_REF], { home, env: cliEnv(log) })
    expect(r.code, describeRun(r)).toBe(0)
    const line = signedLineFor(r.stdout, "app:3.0")
    expect(line.status).toBe("planned")
    expect(line.digest).toBe(other.digest)
    expect(line.marker).toBe("would sign")
    expect(await calls(log)).toEqual([`public-key --key ${KMS_REF}`])
    expect(await writeRequests(dst)).toEqual([])
  })

  test("stand-in exiting 1 on sign-blob: the image fails with cosign's error, exit 1, no .sig written", async () => {
    const other = await pushImage(src.url, "library/app", "2.0", { platforms: TWO_PLATFORMS, seed: "kms-app-2", ...SMALL })
    const file = await writeDefinition(home, "images-2.yaml", {
      targetRepoPrefix: `${dst.host}/external/`,
      registries: { "docker.io": { mirror: src.host } },
      images: [{ source: "app:2.0" }]
    })
    const r = await runCli(["-i", file, "--sign-key", KMS_REF], { home, env: cliEnv(join(home, "signfail.log"), { STANDIN_COSIGN_FAIL: "sign-blob" }) })
    expect(r.code, describeRun(r)).toBe(1)
    const line = signedLineFor(r.stdout, "app:2.0")
    expect(line.status).toBe("failed")
    expect(line.error).toContain("quota exceeded")
    expect(await fetchSignature(dst.url, TARGET_REPO, other.digest)).toBeUndefined()
  })
})
