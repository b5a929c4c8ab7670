/**
 * The layout archive: what we write is a tar that GNU tar reads back exactly; what GNU tar
 * writes we read; and reading refuses what must never come out of an archive (links,
 * escaping paths, corrupt headers).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test"
import { Effect, Either } from "effect"
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { packLayout, parseNumber, tarHeader, unpackLayout } from "../../src/layout/Tar.ts"
import { paxArchive, paxRecord } from "../support/TarFixtures.ts"

const HEX = "ab".repeat(32)
let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "layout-tar-"))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Runs a command; its stdout, or a thrown error with stderr. */
const sh = async (argv: ReadonlyArray<string>, cwd = dir): Promise<string> => {
  const proc = Bun.spawn([...argv], { cwd, stdout: "pipe", stderr: "pipe" })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`${argv.join(" ")}: exit ${code}: ${stderr}`)
  return stdout
}

/** A tiny layout-shaped directory: marker, index, one blob of `size` bytes, and a temp file. */
const makeLayoutDir = async (root: string, size = 1300) => {
  await mkdir(join(root, "blobs", "sha256"), { recursive: true })
  await writeFile(join(root, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}")
  await writeFile(join(root, "index.json"), "{\"schemaVersion\":2,\"manifests\":[]}")
  const blob = new Uint8Array(size).map((_, i) => i % 251)
  await writeFile(join(root, "blobs", "sha256", HEX), blob)
  await writeFile(join(root, "blobs", "sha256", `${HEX}.partial-1234`), "half")
  return blob
}

const unpackEither = (tar: string, into: string) => Effect.runPromise(Effect.either(unpackLayout(tar, into)))

describe("packLayout", () => {
  test("GNU tar lists exactly the layout files (temp files left out) and extracts identical bytes", async () => {
    const src = join(dir, "src")
    const blob = await makeLayoutDir(src)
    const tar = join(dir, "out.tar")
    await Effect.runPromise(packLayout(src, tar))
    const listing = (await sh(["tar", "-tf", tar])).trim().split("\n")
    expect(listing).toEqual(["oci-layout", "index.json", "blobs/", "blobs/sha256/", `blobs/sha256/${HEX}`])
    const out = join(dir, "gnu")
    await mkdir(out)
    await sh(["tar", "-xf", tar, "-C", out])
    expect(new Uint8Array(await readFile(join(out, "blobs", "sha256", HEX)))).toEqual(blob)
    expect(await readFile(join(out, "oci-layout"), "utf8")).toBe("{\"imageLayoutVersion\":\"1.0.0\"}")
    // no temp file of ours is left next to the archive
    expect((await readdir(dir)).sort()).toEqual(["gnu", "out.tar", "src"])
  })

  test("replaces an existing archive atomically (the new content, no leftovers)", async () => {
    const src = join(dir, "src")
    await makeLayoutDir(src, 10)
    const tar = join(dir, "out.tar")
    await writeFile(tar, "old content")
    await Effect.runPromise(packLayout(src, tar))
    expect((await sh(["tar", "-tf", tar])).split("\n")).toContain(`blobs/sha256/${HEX}`)
    expect((await readdir(dir)).sort()).toEqual(["out.tar", "src"])
  })
})

describe("unpackLayout", () => {
  test("round trip: what we pack we unpack, byte for byte", async () => {
    const src = join(dir, "src")
    const blob = await makeLayoutDir(src)
    const tar = join(dir, "out.tar")
    await Effect.runPromise(packLayout(src, tar))
    const out = join(dir, "out")
    await mkdir(out)
    await Effect.runPromise(unpackLayout(tar, out))
    expect(new Uint8Array(await readFile(join(out, "blobs", "sha256", HEX)))).toEqual(blob)
    expect(await readdir(join(out, "blobs", "sha256"))).toEqual([HEX])
  })

  test("reads GNU tar archives with ./ prefixes, pax headers and long names; skips foreign files", async () => {
    const src = join(dir, "src")
    const blob = await makeLayoutDir(src)
    await rm(join(src, "blobs", "sha256", `${HEX}.partial-1234`))
    await writeFile(join(src, "manifest.json"), "[]")
    // 141 characters: GNU tar needs a long-name entry for it, pax a "path" record
    const long = `blobs/sha512/${"cd".repeat(64)}`
    await mkdir(join(src, "blobs", "sha512"))
    await writeFile(join(src, long), "long")
    for (const format of ["gnu", "pax"]) {
      const tar = join(dir, `${format}.tar`)
      await sh(["tar", `--format=${format}`, "-cf", tar, "."], src)
      const out = join(dir, `out-${format}`)
      await mkdir(out)
      await Effect.runPromise(unpackLayout(tar, out))
      expect(new Uint8Array(await readFile(join(out, "blobs", "sha256", HEX)))).toEqual(blob)
      expect(await readFile(join(out, long), "utf8")).toBe("long")
      expect((await readdir(out)).sort()).toEqual(["blobs", "index.json", "oci-layout"])
    }
  })

  test("refuses a symlink entry", async () => {
    const src = join(dir, "src")
    await makeLayoutDir(src)
    await rm(join(src, "index.json"))
    await symlink("/etc/passwd", join(src, "index.json"))
    const tar = join(dir, "link.tar")
    await sh(["tar", "-cf", tar, "oci-layout", "index.json"], src)
    const out = join(dir, "out")
    await mkdir(out)
    const result = await unpackEither(tar, out)
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) expect(result.left.message).toContain("links and special files are not allowed")
    expect(await readdir(out)).not.toContain("index.json")
  })

  test("refuses a path that climbs out with ..", async () => {
    const bad = tarHeader("blobs/../../escape", 4, "0")
    const tar = join(dir, "escape.tar")
    await writeFile(tar, Buffer.concat([bad, Buffer.from("evil"), Buffer.alloc(508), Buffer.alloc(1024)]))
    const out = join(dir, "out")
    await mkdir(out)
    const result = await unpackEither(tar, out)
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) expect(result.left.message).toContain("\"..\" path")
    expect(await readdir(dir)).not.toContain("escape")
  })

  test("refuses a file that is not a tar, and a truncated archive", async () => {
    const notTar = join(dir, "x.tar")
    await writeFile(notTar, "x".repeat(2048))
    const out = join(dir, "out")
    await mkdir(out)
    const a = await unpackEither(notTar, out)
    expect(Either.isLeft(a) && a.left.message).toContain("not a tar archive")

    const src = join(dir, "src")
    await makeLayoutDir(src, 5000)
    const tar = join(dir, "full.tar")
    await Effect.runPromise(packLayout(src, tar))
    const cut = join(dir, "cut.tar")
    await writeFile(cut, (await readFile(tar)).subarray(0, 3000))
    const b = await unpackEither(cut, out)
    expect(Either.isLeft(b) && b.left.message).toContain("truncated")
  })
})

describe("header numbers", () => {
  test("octal and base-256 (sizes above 8 GiB) both parse", () => {
    expect(parseNumber(new TextEncoder().encode("00000001750\0"))).toBe(0o1750)
    const big = 9 * 1024 ** 3
    const header = tarHeader("blobs/sha256/x", big, "0")
    expect(header[124]).toBe(0x80)
    expect(parseNumber(header.subarray(124, 136))).toBe(big)
  })
})

describe("sizes from hostile headers", () => {
  test("a pax size of -1536 (which would send the reader backwards forever) is refused at once", async () => {
    const tar = join(dir, "negative.tar")
    await writeFile(tar, paxArchive(paxRecord("size", "-1536")))
    const started = performance.now()
    const result = await unpackEither(tar, join(dir, "out"))
    expect(Either.isLeft(result) && result.left.detail).toContain("bad pax size \"-1536\"")
    expect(performance.now() - started).toBeLessThan(1000)
  })

  test("pax sizes that are not a plain whole number are refused: 1.5, 1e9, 0x10, empty, and one beyond 2^53", async () => {
    for (const value of ["1.5", "1e9", "0x10", "", "99999999999999999"]) {
      const tar = join(dir, `pax-${value || "empty"}.tar`)
      await writeFile(tar, paxArchive(paxRecord("size", value)))
      const result = await unpackEither(tar, join(dir, `out-${value || "empty"}`))
      expect({ value, refused: Either.isLeft(result) }).toEqual({ value, refused: true })
    }
  })

  test("a base-256 size with the sign bit set (a negative number) is not a size", () => {
    const field = new Uint8Array(12).fill(0xff)
    expect(parseNumber(field)).toBeUndefined()
  })
})
