/**
 * A KMS key (through the stand-in `cosign` first on PATH) signs the bundle formats too: the
 * DSSE pre-authentication encoding goes to `cosign sign-blob` like any payload, and the
 * bundles it gives verify with the key's public key (@sigstore/verify, no log).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { startRegistry } from "../../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../../demo/LocalRegistry.ts"
import { pushImage } from "../../../demo/SampleImages.ts"
import { p256, pkcs8Pem } from "../../fixtures/signing/CosignKeys.ts"
import { COSIGN_SIGN, fallbackIndex, SLSA_V1, verifiedBundles } from "../../fixtures/signing/Sigstore.ts"
import { describeRun, makeTempDir, removeDir, runCli, SMALL, TWO_PLATFORMS, writeDefinition } from "../../integration/helpers.ts"

const STANDIN = join(import.meta.dir, "..", "..", "fixtures", "signing", "bin", "cosign")
const KMS_REF = "awskms:///arn:aws:kms:eu-west-1:123456789012:key/standin"

let src: LocalRegistry
let dst: LocalRegistry
let dir = ""
const key = p256()

beforeAll(async () => {
  ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
  dir = await makeTempDir("kms-bundle")
  await writeFile(join(dir, "kms.pem"), pkcs8Pem(key.privateKey), { mode: 0o600 })
}, 60_000)

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()])
  await removeDir(dir)
}, 60_000)

describe("--sign-key <KMS reference> --signature-format bundle --attest", () => {
  test("a signature bundle and a provenance bundle, both verifying with the KMS key's public key", async () => {
    const pushed = await pushImage(src.url, "team/kms", "1.0", { platforms: TWO_PLATFORMS, seed: "kms-bundle", ...SMALL })
    const file = await writeDefinition(dir, "images.yaml", {
      targetRepoPrefix: `${dst.host}/mirror/`,
      registries: { "docker.io": { mirror: src.host } },
      images: [{ source: "team/kms:1.0" }]
    })
    const run = await runCli(["-i", file, "--sign-key", KMS_REF, "--signature-format", "bundle", "--attest"], {
      home: dir,
      env: { PATH: `${dirname(STANDIN)}:${process.env["PATH"] ?? "/usr/bin:/bin"}`, STANDIN_COSIGN_REF: KMS_REF, STANDIN_COSIGN_KEY: join(dir, "kms.pem") }
    })
    expect(run.code, describeRun(run)).toBe(0)
    const index = await fallbackIndex(dst.url, "mirror/team/kms", pushed.digest)
    const verified = await verifiedBundles(dst.url, "mirror/team/kms", index!.entries, key.publicKey)
    expect(verified.map((v) => v.statement.predicateType).sort()).toEqual([COSIGN_SIGN, SLSA_V1].sort())
    for (const v of verified) expect(v.statement.subject.map((s) => `sha256:${s.digest["sha256"]}`)).toEqual([pushed.digest])
  }, 60_000)
})
