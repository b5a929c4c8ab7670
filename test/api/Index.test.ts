/** The public API (src/index.ts): one namespace per part, each name listed in docs/embedding.md, nothing of the CLI. */
import { describe, expect, test } from "bun:test"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import * as Api from "../../src/index.ts"

const ROOT = join(import.meta.dir, "..", "..")
const doc = readFileSync(join(ROOT, "docs/embedding.md"), "utf8")
const NAMESPACES = ["Sync", "Steps", "Transports", "Definitions", "Model", "Report", "Plugins"] as const

/** The names listed on the `- values:` / `- types:` lines of a namespace's section. */
const listed = (namespace: string, kind: "values" | "types"): ReadonlyArray<string> => {
  const section = doc.split(/^## /m).find((s) => s.startsWith(`\`${namespace}\``)) ?? ""
  const line = section.split("\n").find((l) => l.startsWith(`- ${kind}:`)) ?? ""
  return [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).sort()
}

/** The type names a barrel re-exports (`export type { … }`). */
const typeNames = (namespace: string): ReadonlyArray<string> =>
  [...readFileSync(join(ROOT, "src/api", `${namespace}.ts`), "utf8").matchAll(/export type \{([^}]*)\}/g)]
    .flatMap((m) => m[1]!.split(",").map((n) => n.trim()).filter((n) => n !== ""))
    .sort()

describe("src/index.ts", () => {
  test("exports exactly the seven namespaces", () => {
    expect(Object.keys(Api).sort()).toEqual([...NAMESPACES].sort())
  })

  for (const namespace of NAMESPACES) {
    test(`docs/embedding.md lists every value and type of ${namespace}, and nothing else`, () => {
      expect(listed(namespace, "values")).toEqual(Object.keys(Api[namespace]).sort())
      expect(listed(namespace, "types")).toEqual(typeNames(namespace))
    })
  }

  test("nothing of the command line is reachable from the API modules", () => {
    for (const file of readdirSync(join(ROOT, "src/api"))) {
      expect(readFileSync(join(ROOT, "src/api", file), "utf8")).not.toMatch(/from "\.\.\/cli\//)
    }
  })

  test("the namespaces work as the examples use them", () => {
    expect(Api.Report.exitCodeOf([])).toBe(0)
    expect(Api.Model.formatTarget({ registry: "r.example", repository: "team/app", tag: "1" })).toBe("r.example/team/app:1")
    expect(typeof Api.Plugins.OciTransport.layer).toBe("function")
  })
})
