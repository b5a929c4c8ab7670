/** Pins in the definition file's text: only source scalars change, in the quoting they were written in. */
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { parseDefinition } from "../../src/definition/Parse.ts"
import { applySourceEdits, pinnedSource, pinState, sourceWithoutDigest } from "../../src/definition/Pin.ts"

const D = `sha256:${"a".repeat(64)}`

const edited = (text: string, edits: Array<{ index: number; source: string }>) => {
  const result = applySourceEdits(text, edits)
  if (Either.isLeft(result)) throw new Error(JSON.stringify(result.left))
  return result.right
}

describe("pinnedSource", () => {
  test("keeps the source as written and adds the digest; an implicit latest is written out", () => {
    expect(pinnedSource("busybox:1.36", D)).toBe(`busybox:1.36@${D}`)
    expect(pinnedSource("busybox", D)).toBe(`busybox:latest@${D}`)
    expect(pinnedSource("127.0.0.1:5000/team/app", D)).toBe(`127.0.0.1:5000/team/app:latest@${D}`)
    expect(pinnedSource("127.0.0.1:5000/team/app:1.0", D)).toBe(`127.0.0.1:5000/team/app:1.0@${D}`)
    expect(sourceWithoutDigest(`busybox:1.32.0@${D}`)).toBe("busybox:1.32.0")
  })
})

describe("pinState", () => {
  test("tells unpinned, pinned, digest-only and rule entries apart", () => {
    const text = `targetRepoPrefix: "r.example/m/"
images:
  - source: busybox:1.36
  - source: busybox
  - source: "alpine:3.20@${D}"
  - source: "nginx@${D}"
    tag: "1.27"
  - source: bitnami/postgres-exporter
    tags: { semver: "^0.11" }
`
    const definition = parseDefinition("images.yaml", text)
    if (Either.isLeft(definition)) throw new Error(definition.left.message)
    expect(definition.right.images.map((e) => pinState(e)._tag)).toEqual(["Unpinned", "Unpinned", "Pinned", "DigestOnly", "Rule"])
    const implicit = pinState(definition.right.images[1]!)
    expect(implicit._tag === "Unpinned" && implicit.tag).toBe("latest")
    const pinned = pinState(definition.right.images[2]!)
    expect(pinned._tag === "Pinned" && [pinned.tag, pinned.digest]).toEqual(["3.20", D])
  })
})

describe("applySourceEdits", () => {
  test("replaces plain, double- and single-quoted sources in their own style; the rest stays byte for byte", () => {
    const text = `# mirrored images
targetRepoPrefix: "r.example/m/"   # our registry

images:
  # plain
  - source: busybox:1.36   # a comment after the value
  - source: "alpine:3.20"
    tag: "3.20-mirror"
  - source: 'nginx:1.27'

  - {source: redis:7, amd64Only: true}
`
    const out = edited(text, [
      { index: 0, source: `busybox:1.36@${D}` },
      { index: 1, source: `alpine:3.20@${D}` },
      { index: 2, source: `nginx:1.27@${D}` },
      { index: 3, source: `redis:7@${D}` }
    ])
    expect(out).toBe(
      text
        .replace("busybox:1.36 ", `busybox:1.36@${D} `)
        .replace(`"alpine:3.20"`, `"alpine:3.20@${D}"`)
        .replace(`'nginx:1.27'`, `'nginx:1.27@${D}'`)
        .replace("redis:7,", `redis:7@${D},`)
    )
    const again = parseDefinition("images.yaml", out)
    expect(Either.isRight(again) && again.right.images.map((e) => e.reference.digest)).toEqual([D, D, D, D])
  })

  test("keeps CRLF line ends and leaves entries without edits alone", () => {
    const text = "targetRepoPrefix: r.example/m/\r\nimages:\r\n  - source: a:1\r\n  - source: b:2\r\n"
    expect(edited(text, [{ index: 1, source: `b:2@${D}` }])).toBe(`targetRepoPrefix: r.example/m/\r\nimages:\r\n  - source: a:1\r\n  - source: b:2@${D}\r\n`)
  })

  test("a block scalar becomes double-quoted, the next key unharmed", () => {
    const text = "targetRepoPrefix: r.example/m/\nimages:\n  - source: >-\n      busybox:1.36\n    tag: x\n"
    const out = edited(text, [{ index: 0, source: `busybox:1.36@${D}` }])
    expect(out).toBe(`targetRepoPrefix: r.example/m/\nimages:\n  - source: "busybox:1.36@${D}"\n    tag: x\n`)
  })

  test("a source written as an alias is not edited (the anchor may be used elsewhere)", () => {
    const text = "targetRepoPrefix: r.example/m/\nx: &img busybox:1.36\nimages:\n  - source: *img\n"
    const result = applySourceEdits(text, [{ index: 0, source: `busybox:1.36@${D}` }])
    expect(Either.isLeft(result) && result.left[0]?.line).toBe(4)
    expect(Either.isLeft(result) && result.left[0]?.message).toContain("alias")
  })
})
