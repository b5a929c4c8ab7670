/**
 * The example of docs/oci-client.md, run as written: the code block is taken from the doc,
 * placed beside a node_modules that holds this package (as an installed `image-syncer` would be)
 * and effect, and run with bun between two real docker-registry processes. It imports only
 * `image-syncer/oci` and `effect`; skopeo checks the copy.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage } from "../../demo/SampleImages.ts"
import { AMD64, makeTempDir, removeDir, REPO_ROOT } from "../integration/helpers.ts"
import { skopeoDigest } from "../support/Skopeo.ts"

let src: LocalRegistry
let dst: LocalRegistry
let dir: string
let pushed: PushedImage

beforeAll(async () => {
  ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
  dir = await makeTempDir("oci-example")
  pushed = await pushImage(src.url, "team/app", "1.0", { platforms: AMD64, index: false, seed: "oci-example", layers: 2, layerSize: 200_000 })
}, 60_000)

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()])
  await removeDir(dir)
})

/** The code block under `<!-- example: copy -->` in docs/oci-client.md. */
const exampleCode = async (): Promise<string> => {
  const doc = await readFile(join(REPO_ROOT, "docs", "oci-client.md"), "utf8")
  const after = doc.split("<!-- example: copy -->")[1]
  const block = after === undefined ? undefined : /```ts\n([\s\S]*?)```/.exec(after)?.[1]
  if (block === undefined) throw new Error("docs/oci-client.md has no example block")
  return block
}

test("the example of docs/oci-client.md copies an image with image-syncer/oci alone", async () => {
  const code = await exampleCode()
  const imports = [...code.matchAll(/from "([^"]+)"/g)].map((m) => m[1])
  expect(new Set(imports)).toEqual(new Set(["effect", "image-syncer/oci"]))
  // As an application that installed the package would see it.
  await mkdir(join(dir, "node_modules"), { recursive: true })
  await symlink(REPO_ROOT, join(dir, "node_modules", "image-syncer"))
  await symlink(join(REPO_ROOT, "node_modules", "effect"), join(dir, "node_modules", "effect"))
  await writeFile(join(dir, "example.ts"), code)
  const proc = Bun.spawn([process.execPath, "example.ts"], {
    cwd: dir,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, SOURCE: src.host, TARGET: dst.host, NO_PROXY: "*" },
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr, code_] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  expect(code_, stderr).toBe(0)
  const result = JSON.parse(stdout.trim()) as { digest: string; written: string; tags: Array<string>; referrersApi: boolean }
  expect(result).toEqual({ digest: pushed.digest, written: pushed.digest, tags: ["1.0"], referrersApi: false })
  expect(await skopeoDigest(`${dst.host}/mirror/app:1.0`)).toBe(pushed.digest)
}, 60_000)
