/**
 * The JUnit XML is parsed with a small, strict XML parser (well-formedness: one root, matching
 * tags, quoted attributes, only known entities, no raw `<` or `&`), then checked against the
 * shape of the Ant/Jenkins JUnit schema: element nesting, required attributes and their types,
 * and totals consistent with the test cases.
 */
import { describe, expect, test } from "bun:test"
import { escapeXmlAttribute, escapeXmlText, junitXml, testCaseName } from "../../src/report/JUnit.ts"
import { imageResult } from "../../src/model/Result.ts"
import type { ImageResult, ImageStatus } from "../../src/model/Result.ts"

// == a small strict XML parser

interface XmlElement {
  readonly name: string
  readonly attributes: Readonly<Record<string, string>>
  readonly children: ReadonlyArray<XmlElement>
  readonly text: string
}

const NAME = /^[A-Za-z_][\w.-]*/

const decodeEntities = (raw: string, where: string): string =>
  raw.replace(/&([^;]*);|&/g, (whole, entity: string | undefined) => {
    if (entity === undefined) throw new Error(`raw "&" in ${where}`)
    const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'" }
    if (entity in named) return named[entity]!
    const dec = /^#(\d+)$/.exec(entity)
    if (dec) return String.fromCodePoint(Number(dec[1]))
    const hex = /^#x([0-9a-fA-F]+)$/.exec(entity)
    if (hex) return String.fromCodePoint(parseInt(hex[1]!, 16))
    throw new Error(`unknown entity &${entity}; in ${where}`)
  })

// eslint-disable-next-line no-control-regex
const NOT_XML_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/

/** Parses a whole document; throws on anything not well-formed. */
const parseXml = (xml: string): XmlElement => {
  if (NOT_XML_CHAR.test(xml)) throw new Error("character not allowed in XML")
  let i = 0
  const rest = () => xml.slice(i)
  const skipSpace = () => {
    while (i < xml.length && /\s/.test(xml[i]!)) i++
  }
  if (rest().startsWith("<?xml")) {
    const end = xml.indexOf("?>", i)
    if (end < 0) throw new Error("unterminated declaration")
    const decl = xml.slice(i, end)
    if (!/^<\?xml version="1\.0" encoding="UTF-8"$/.test(decl)) throw new Error(`unexpected declaration ${decl}`)
    i = end + 2
  }
  const element = (): XmlElement => {
    if (xml[i] !== "<") throw new Error(`expected "<" at ${i}`)
    i++
    const name = NAME.exec(rest())?.[0]
    if (!name) throw new Error(`expected a tag name at ${i}`)
    i += name.length
    const attributes: Record<string, string> = {}
    for (;;) {
      const before = i
      skipSpace()
      if (rest().startsWith("/>")) {
        i += 2
        return { name, attributes, children: [], text: "" }
      }
      if (xml[i] === ">") {
        i++
        break
      }
      if (i === before) throw new Error(`expected whitespace before an attribute of <${name}> at ${i}`)
      const attr = NAME.exec(rest())?.[0]
      if (!attr) throw new Error(`bad attribute in <${name}> at ${i}`)
      i += attr.length
      if (xml[i] !== "=" || xml[i + 1] !== "\"") throw new Error(`attribute ${attr} of <${name}> must be ="…"`)
      i += 2
      const end = xml.indexOf("\"", i)
      if (end < 0) throw new Error("unterminated attribute")
      const raw = xml.slice(i, end)
      if (raw.includes("<")) throw new Error(`raw "<" in attribute ${attr}`)
      if (attr in attributes) throw new Error(`duplicate attribute ${attr}`)
      attributes[attr] = decodeEntities(raw, `attribute ${attr}`)
      i = end + 1
    }
    const children: Array<XmlElement> = []
    let text = ""
    for (;;) {
      const next = xml.indexOf("<", i)
      if (next < 0) throw new Error(`unclosed <${name}>`)
      text += decodeEntities(xml.slice(i, next), `<${name}>`)
      i = next
      if (rest().startsWith("</")) {
        i += 2
        const close = NAME.exec(rest())?.[0]
        if (close !== name) throw new Error(`</${close}> closes <${name}>`)
        i += close.length
        skipSpace()
        if (xml[i] !== ">") throw new Error("bad closing tag")
        i++
        return { name, attributes, children, text }
      }
      children.push(element())
    }
  }
  skipSpace()
  const root = element()
  skipSpace()
  if (i !== xml.length) throw new Error(`content after the root element: ${JSON.stringify(rest().slice(0, 40))}`)
  return root
}

// == the JUnit shape

const DECIMAL = /^\d+(\.\d+)?$/
const INTEGER = /^\d+$/
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/

/** Checks the document against the JUnit schema's shape; returns the test cases. */
const checkJUnit = (root: XmlElement): ReadonlyArray<XmlElement> => {
  expect(root.name).toBe("testsuites")
  expect(root.text.trim()).toBe("")
  expect(root.children.length).toBeGreaterThan(0)
  const all: Array<XmlElement> = []
  for (const suite of root.children) {
    expect(suite.name).toBe("testsuite")
    const a = suite.attributes
    expect(Object.keys(a).sort()).toEqual(["errors", "failures", "name", "skipped", "tests", "time", "timestamp"])
    for (const k of ["tests", "failures", "errors", "skipped"]) expect(a[k]).toMatch(INTEGER)
    expect(a["time"]).toMatch(DECIMAL)
    expect(a["timestamp"]).toMatch(TIMESTAMP)
    const cases = suite.children
    for (const c of cases) {
      expect(c.name).toBe("testcase")
      expect(Object.keys(c.attributes).sort()).toEqual(["classname", "name", "time"])
      expect(c.attributes["time"]).toMatch(DECIMAL)
      const kinds = c.children.map((e) => e.name)
      expect(kinds.filter((k) => k === "failure" || k === "error" || k === "skipped").length).toBeLessThanOrEqual(1)
      for (const k of kinds) expect(["failure", "error", "skipped", "system-out", "system-err"]).toContain(k)
      for (const f of c.children.filter((e) => e.name === "failure")) {
        expect(Object.keys(f.attributes).sort()).toEqual(["message", "type"])
      }
    }
    expect(Number(a["tests"])).toBe(cases.length)
    expect(Number(a["failures"])).toBe(cases.filter((c) => c.children.some((e) => e.name === "failure")).length)
    expect(Number(a["errors"])).toBe(cases.filter((c) => c.children.some((e) => e.name === "error")).length)
    expect(Number(a["skipped"])).toBe(cases.filter((c) => c.children.some((e) => e.name === "skipped")).length)
    all.push(...cases)
  }
  for (const k of ["tests", "failures", "errors", "skipped"]) {
    expect(Number(root.attributes[k])).toBe(root.children.reduce((sum, s) => sum + Number(s.attributes[k]), 0))
  }
  return all
}

// == fixtures

const DIGEST = `sha256:${"a".repeat(64)}`

const result = (source: string, status: ImageStatus, extra: Partial<ImageResult> = {}): ImageResult =>
  imageResult({ source, target: `eu.gcr.io/external/library/${source}`, digest: DIGEST, status, durationMs: 1234, ...extra })

const results: ReadonlyArray<ImageResult> = [
  result("busybox:1.36", "synced", { bytesCopied: 4096, signed: true }),
  result("alpine:3.19", "present", { signed: "already" }),
  result("debian:12", "planned", { wouldSign: true, warnings: ["amd64Only has no effect"] }),
  result("nginx:1.25", "conflict", {
    error: "eu.gcr.io/x/nginx:1.25 already holds sha256:<old> & \"more\"; target tags are immutable",
    errorType: "TagConflict"
  }),
  result("missing:1", "failed", { digest: undefined, error: "source image missing:1 not found\n(looked up <docker.io>)", errorType: "SourceNotFound" })
]

const meta = { name: "image-syncer images.yaml", durationMs: 65_432, timestamp: new Date("2026-11-26T16:00:00.123Z") }

describe("junitXml", () => {
  const xml = junitXml(results, meta)
  const root = parseXml(xml)
  const cases = root.children[0]?.children ?? []

  test("is well-formed XML with the JUnit shape", () => {
    expect(xml.startsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites")).toBe(true)
    expect(checkJUnit(root)).toHaveLength(5)
  })

  test("totals: tests, failures = conflict + failed, time in seconds, timestamp without zone", () => {
    const suite = root.children[0]!
    expect(suite.attributes).toEqual({
      name: "image-syncer images.yaml",
      tests: "5",
      failures: "2",
      errors: "0",
      skipped: "0",
      time: "65.432",
      timestamp: "2026-11-26T16:00:00"
    })
    expect(root.attributes["failures"]).toBe("2")
  })

  test("one test case per image: classname image-syncer, name \"source -> target\", its time", () => {
    expect(cases.map((c) => c.attributes["name"])).toEqual(results.map(testCaseName))
    expect(cases[0]!.attributes).toEqual({
      classname: "image-syncer",
      name: `busybox:1.36 -> eu.gcr.io/external/library/busybox:1.36`,
      time: "1.234"
    })
  })

  test("conflicts and failures are <failure>s with the message and the error type; text survives escaping", () => {
    const conflict = cases[3]!.children.find((e) => e.name === "failure")!
    expect(conflict.attributes).toEqual({ message: results[3]!.error!, type: "TagConflict" })
    expect(conflict.text).toContain("conflict: eu.gcr.io/x/nginx:1.25 already holds sha256:<old> & \"more\"")
    const failed = cases[4]!.children.find((e) => e.name === "failure")!
    // the newline in the message survives the attribute round trip
    expect(failed.attributes).toEqual({ message: "source image missing:1 not found\n(looked up <docker.io>)", type: "SourceNotFound" })
    expect(failed.text).toContain("digest: -")
  })

  test("synced, present and planned pass, with their status in <system-out>", () => {
    for (const [i, status] of [[0, "synced"], [1, "present"], [2, "planned"]] as const) {
      expect(cases[i]!.children.map((e) => e.name)).toEqual(["system-out"])
      expect(cases[i]!.children[0]!.text).toContain(`status: ${status}`)
      expect(cases[i]!.children[0]!.text).toContain(`digest: ${DIGEST}`)
    }
    expect(cases[0]!.children[0]!.text).toContain("signed: yes")
    expect(cases[2]!.children[0]!.text).toContain("warning: amd64Only has no effect")
  })

  test("an empty run is still a valid document", () => {
    const empty = parseXml(junitXml([], meta))
    expect(checkJUnit(empty)).toHaveLength(0)
    expect(empty.children[0]!.attributes["tests"]).toBe("0")
  })

  test("characters XML cannot carry are replaced, markup characters escaped", () => {
    const nasty = result("weird:1", "failed", { error: "a\u0000b\u001b[31mc</failure><x a=\"1\">&amp;'" })
    const doc = junitXml([nasty], meta)
    const failure = checkJUnit(parseXml(doc))[0]!.children[0]!
    expect(failure.attributes["message"]).toBe("a\ufffdb\ufffd[31mc</failure><x a=\"1\">&amp;'")
    expect(escapeXmlText("<a & b>")).toBe("&lt;a &amp; b&gt;")
    // an unpaired surrogate cannot be written as UTF-8; a proper pair stays
    expect(escapeXmlText("x\ud800y \ud83d\ude00")).toBe("x\ufffdy \ud83d\ude00")
    expect(escapeXmlAttribute("\"x\"\t'y'")).toBe("&quot;x&quot;&#9;&apos;y&apos;")
  })

  test("the parser used here rejects what is not well-formed", () => {
    expect(() => parseXml("<a><b></a></b>")).toThrow()
    expect(() => parseXml("<a x=\"1 & 2\"/>")).toThrow()
    expect(() => parseXml("<a>1 < 2</a>")).toThrow()
    expect(() => parseXml("<a/><b/>")).toThrow()
    expect(parseXml("<a x=\"&lt;\">t&amp;<b/></a>")).toEqual({
      name: "a",
      attributes: { x: "<" },
      children: [{ name: "b", attributes: {}, children: [], text: "" }],
      text: "t&"
    })
  })
})
