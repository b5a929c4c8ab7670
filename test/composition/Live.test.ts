/**
 * The composition root loads the signature formats (and the sigstore libraries under them)
 * only when a key is given: checked in a fresh process through the module registry Bun keeps
 * (`require.cache` lists ES modules too).
 */
import { describe, expect, test } from "bun:test"
import { join, resolve } from "node:path"

const ROOT = resolve(import.meta.dir, "../..")
const HEAVY = /node_modules\/@sigstore\/|src\/pipeline\/OurSignatures\.ts$|src\/signing\/(Bundle|BundleVerify|Dsse|DsseVerify|Provenance)\.ts$/

const script = `
import { Effect, Layer } from "effect"
import { FetchHttpClient } from "@effect/platform"
import { BunContext } from "@effect/platform-bun"
import { generateKeyPairSync } from "node:crypto"
const heavy = () => Object.keys(require.cache).filter((k) => ${HEAVY}.test(k))
await import(${JSON.stringify(join(ROOT, "src/cli/Cli.ts"))})
const { pipelineLayer } = await import(${JSON.stringify(join(ROOT, "src/composition/Live.ts"))})
const KeySigner = await import(${JSON.stringify(join(ROOT, "plugins/signers/key.ts"))})
const platform = Layer.merge(FetchHttpClient.layer, BunContext.layer)
const build = (layer) => Effect.runPromise(Effect.scoped(Layer.build(layer)).pipe(Effect.provide(platform)))
const afterImport = heavy()
await build(pipelineLayer({ dryRun: true, concurrency: 1, credentials: [] }))
const withoutKey = heavy()
const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" })
await build(pipelineLayer({ dryRun: true, concurrency: 1, credentials: [], signer: KeySigner.layer({ privateKey, publicKey, algorithm: "ecdsa-p256" }, "test key") }))
console.log(JSON.stringify({ afterImport, withoutKey, withKey: heavy() }))
`

describe("Live", () => {
  test("a pipeline without a key never loads the signature formats or @sigstore; with a key it does", async () => {
    // evaluated from the repository root, so its packages resolve as the program's do
    const proc = Bun.spawnSync([process.execPath, "--eval", script], { cwd: ROOT, stdout: "pipe", stderr: "pipe" })
    expect(proc.exitCode, proc.stderr.toString()).toBe(0)
    const seen = JSON.parse(proc.stdout.toString()) as Record<"afterImport" | "withoutKey" | "withKey", Array<string>>
    expect(seen.afterImport).toEqual([])
    expect(seen.withoutKey).toEqual([])
    expect(seen.withKey.some((k) => k.endsWith("src/pipeline/OurSignatures.ts"))).toBe(true)
    expect(seen.withKey.some((k) => k.includes("node_modules/@sigstore/bundle/"))).toBe(true)
    expect(seen.withKey.some((k) => k.includes("node_modules/@sigstore/verify/"))).toBe(true)
  })
})
