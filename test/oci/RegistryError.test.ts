/** Registry errors as data: the one parser of error bodies, the words of Harbor and of the CLI tools, and the rule that codes are decided on nowhere else as text. */
import { describe, expect, test } from "bun:test"
import { readdir, readFile } from "node:fs/promises"
import { join, relative } from "node:path"
import { codesInText, hasCode, missingProject, parseErrorBody } from "../../src/oci/RegistryError.ts"
import { REPO_ROOT } from "../integration/helpers.ts"

describe("parseErrorBody", () => {
  test("distribution's errors array: every code (upper-cased) and the messages", () => {
    const body = parseErrorBody(
      JSON.stringify({ errors: [{ code: "name_unknown", message: "repository name not known to registry" }, { code: "DENIED", message: "no" }] })
    )
    expect(body).toEqual({ codes: ["NAME_UNKNOWN", "DENIED"], detail: "repository name not known to registry; no" })
  })

  test("a bare code and message (older Docker Hub, proxies), a message alone, plain text", () => {
    expect(parseErrorBody(JSON.stringify({ code: "TOOMANYREQUESTS", message: "slow down" }))).toEqual({ codes: ["TOOMANYREQUESTS"], detail: "slow down" })
    expect(parseErrorBody(JSON.stringify({ message: "toomanyrequests: You have reached your pull rate limit" })).codes).toEqual([])
    expect(parseErrorBody("404 page not found\n")).toEqual({ codes: [], detail: "404 page not found" })
  })

  test("hasCode decides on codes only", () => {
    expect(hasCode({ codes: ["MANIFEST_INVALID"] }, "MANIFEST_INVALID", "UNSUPPORTED")).toBe(true)
    expect(hasCode({ codes: [] }, "MANIFEST_INVALID")).toBe(false)
  })
})

describe("missingProject (Harbor)", () => {
  test("401 UNAUTHORIZED \"project P not found\" (2.2 and later) and 404 NOT_FOUND \"project not found, name: P\" (2.0, 2.1)", () => {
    expect(missingProject({ codes: ["UNAUTHORIZED"], detail: "project external not found: project external not found" })).toBe("external")
    expect(missingProject({ codes: ["NOT_FOUND"], detail: "project not found, name: library" })).toBe("library")
  })

  test("other refusals name no project", () => {
    expect(missingProject({ codes: ["UNAUTHORIZED"], detail: "authentication required" })).toBeUndefined()
    expect(missingProject({ codes: [], detail: "project external not found" })).toBeUndefined()
  })
})

describe("codesInText (what skopeo and crane print)", () => {
  test("codes and the messages registries send with them", () => {
    expect(codesInText("Error: GET https://r/v2/x/manifests/1: MANIFEST_UNKNOWN: manifest unknown")).toEqual(["MANIFEST_UNKNOWN"])
    expect(codesInText("reading manifest 1 in r/x: name unknown: repository name not known to registry")).toEqual(["NAME_UNKNOWN"])
    expect(codesInText("unauthorized: authentication required")).toEqual(["UNAUTHORIZED"])
    expect(codesInText("requested access to the resource is denied")).toEqual(["DENIED"])
    expect(codesInText("copying blob sha256:4010401: done")).toEqual([])
  })
})

const CODES = [
  "BLOB_UNKNOWN",
  "BLOB_UPLOAD_INVALID",
  "BLOB_UPLOAD_UNKNOWN",
  "DIGEST_INVALID",
  "MANIFEST_BLOB_UNKNOWN",
  "MANIFEST_INVALID",
  "MANIFEST_UNKNOWN",
  "NAME_INVALID",
  "NAME_UNKNOWN",
  "SIZE_INVALID",
  "UNAUTHORIZED",
  "DENIED",
  "UNSUPPORTED",
  "TOOMANYREQUESTS",
  "TAG_INVALID"
]

/** Every .ts file under `dir`. */
const sources = async (dir: string): Promise<Array<string>> =>
  (await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".ts")).map((f) => join(dir, f))

describe("the one parser", () => {
  test("no registry error code is matched as text (a regular expression, includes, startsWith, indexOf) outside src/oci/RegistryError.ts", async () => {
    const files = [...(await sources(join(REPO_ROOT, "src"))), ...(await sources(join(REPO_ROOT, "plugins")))]
    const offences: Array<string> = []
    for (const file of files) {
      if (file.endsWith(join("src", "oci", "RegistryError.ts"))) continue
      const lines = (await readFile(file, "utf8")).split("\n")
      lines.forEach((line, i) => {
        const code = line.trim()
        if (code.startsWith("//") || code.startsWith("*") || code.startsWith("/*")) return
        // a code inside a regular expression literal, or in a string handed to a text search
        const regexes = [...code.matchAll(/(?:^|[=(,:!&|?]\s*|return\s+)\/((?:\\.|[^/\n\\])+)\/[gimsuy]*/g)].map((m) => m[1] ?? "")
        const searched = [...code.matchAll(/\.(?:includes|startsWith|endsWith|indexOf|match|search)\(\s*["'`]([^"'`]*)["'`]/g)].map((m) => m[1] ?? "")
        const named = [...regexes, ...searched].filter((text) => CODES.some((c) => new RegExp(`\\b${c}\\b`).test(text.replace(/\\b/g, " "))))
        if (named.length > 0) offences.push(`${relative(REPO_ROOT, file)}:${i + 1}: ${code}`)
      })
    }
    expect(offences).toEqual([])
  })
})
