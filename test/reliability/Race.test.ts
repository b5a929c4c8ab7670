/**
 * Races on the target tag. A FaultProxy in front of the TARGET lets another writer push a
 * different image to the same tag, straight to the registry, at a chosen moment of our copy:
 *
 * - early: at our first blob upload (after our check said "absent") → we re-check before the
 *   tag and report a conflict (TagTaken); their tag stays;
 * - late: right after our tag PUT → our read-back at the end of the run sees their digest and
 *   reports a conflict, one more line after the one the image finished with; their tag stays
 *   (the last writer wins, and we say so);
 * - between our final HEAD and our PUT → distribution v2.8 has no conditional PUT, so our PUT
 *   overwrites theirs and the image is reported synced: the documented limit of the guarantee.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { startRegistry } from "../../demo/LocalRegistry.ts"
import type { LocalRegistry } from "../../demo/LocalRegistry.ts"
import { pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage, SampleImageSpec } from "../../demo/SampleImages.ts"
import { startFaultProxy, verifyTree } from "../support/FaultProxy.ts"
import type { FaultProxy, ProxiedRequest } from "../support/FaultProxy.ts"
import {
  describeRun,
  headManifest,
  lineFor,
  makeTempDir,
  readReport,
  removeDir,
  reportFor,
  resultLines,
  runCli,
  SMALL,
  TWO_PLATFORMS,
  writeDefinition
} from "../integration/helpers.ts"
import type { CliRun, Report } from "../integration/helpers.ts"

const NAMES = ["early", "late", "between", "clean"] as const
type Name = (typeof NAMES)[number]

const ours = (name: Name): SampleImageSpec => ({ platforms: TWO_PLATFORMS, seed: `race-ours-${name}`, ...SMALL })
const theirs = (name: Name): SampleImageSpec => ({ platforms: TWO_PLATFORMS, seed: `race-theirs-${name}`, ...SMALL })

let src: LocalRegistry
let dst: LocalRegistry
let proxy: FaultProxy
let dir: string
let run: CliRun
let report: Report
const pushed = {} as Record<Name, PushedImage>
const racer = {} as Record<Name, PushedImage>
/** per image: the request during which the other writer wrote */
const racedAt = {} as Record<Name, ProxiedRequest>

const sourceOf = (name: Name) => `${src.host}/race/${name}:1`
const targetRepository = (name: Name) => `race/${src.host.replace(":", "-")}/race/${name}`
const tagPath = (name: Name) => `/v2/${targetRepository(name)}/manifests/1`

/** The other writer: pushes its own image to our target tag, straight to the registry (not through the proxy). */
const race = async (name: Name, when: ProxiedRequest) => {
  if (racer[name] !== undefined) return
  racedAt[name] = when
  racer[name] = await pushImage(dst.url, targetRepository(name), "1", theirs(name))
}

beforeAll(async () => {
  ;[src, dst] = await Promise.all([startRegistry(), startRegistry()])
  dir = await makeTempDir("race")
  for (const name of NAMES) pushed[name] = await pushImage(src.url, `race/${name}`, "1", ours(name))
  const headsOfTag = new Map<Name, number>()
  proxy = await startFaultProxy({
    upstream: dst.url,
    seed: "race",
    onRequest: async (r) => {
      // early: our first blob upload, after the check said the tag was absent
      if (r.method === "POST" && r.pathname === `/v2/${targetRepository("early")}/blobs/uploads/`) await race("early", r)
    },
    onResponse: async (r) => {
      // late: our tag PUT has been stored; the other writer comes right after, before we hear back
      if (r.method === "PUT" && r.pathname === tagPath("late") && r.status === 201) await race("late", r)
      // between: the final look before the PUT said "absent"; the other writer comes before our PUT
      if (r.method === "HEAD" && r.pathname === tagPath("between")) {
        const n = (headsOfTag.get("between") ?? 0) + 1
        headsOfTag.set("between", n)
        if (n === 2 && r.status === 404) await race("between", r)
      }
    }
  })
  const file = await writeDefinition(dir, "images.yaml", {
    targetRepoPrefix: `${proxy.host}/race/`,
    images: NAMES.map((name) => ({ source: sourceOf(name) }))
  })
  const reportPath = join(dir, "report.json")
  run = await runCli(["-i", file, "--report", reportPath], { home: dir })
  report = await readReport(reportPath)
}, 120_000)

afterAll(async () => {
  await proxy?.stop()
  await Promise.all([src?.stop(), dst?.stop()])
  await removeDir(dir)
}, 60_000)

const tagDigest = async (name: Name) => (await headManifest(dst.url, targetRepository(name), "1")).digest

describe("the tag appears between our check and our push", () => {
  test("the other writer came at our first blob upload, after our check had found the tag absent", () => {
    expect(racedAt.early?.method).toBe("POST")
    const heads = proxy.requests().filter((r) => r.method === "HEAD" && r.pathname === tagPath("early"))
    expect(heads[0]!.status).toBe(404)
    expect(heads[0]!.id).toBeLessThan(racedAt.early!.id)
  })

  test("reported as a conflict with the TagTaken message naming their digest and ours", () => {
    const line = lineFor(run, sourceOf("early"))
    expect(line.status, describeRun(run)).toBe("conflict")
    expect(line.error).toContain("was written by someone else during the copy")
    expect(line.error).toContain(`it holds ${racer.early.digest}, not ${pushed.early.digest}; not overwritten`)
    expect(reportFor(report, sourceOf("early"))).toMatchObject({ status: "conflict", errorType: "TagTaken" })
  })

  test("their tag is untouched: we never PUT the tag, and it still holds their image, complete", async () => {
    expect(proxy.requests().filter((r) => r.method === "PUT" && r.pathname === tagPath("early"))).toEqual([])
    const tree = await verifyTree(dst.url, targetRepository("early"), "1")
    expect(tree.digest).toBe(racer.early.digest)
    expect(tree.problems).toEqual([])
  })
})

describe("the tag is overwritten right after our PUT", () => {
  test("our PUT was stored, then theirs; our read-back at the end of the run reports a conflict (TagTaken), not synced", async () => {
    expect(racedAt.late?.method).toBe("PUT")
    // the line as it finished (written and verified), then one more from the read-back at the end
    const lines = resultLines(run).filter((l) => l.source === sourceOf("late"))
    expect(lines.map((l) => l.status), describeRun(run)).toEqual(["synced", "conflict"])
    const line = lines[1]!
    expect(line.error).toContain(`replaced by another writer after this run wrote it: it now holds ${racer.late.digest}, not ${pushed.late.digest}`)
    expect(reportFor(report, sourceOf("late"))).toMatchObject({ status: "conflict", errorType: "TagTaken" })
    expect(await tagDigest("late")).toBe(racer.late.digest)
  })
})

describe("the documented limit: a writer between our final HEAD and our PUT", () => {
  test("without a conditional PUT in distribution v2.8, our PUT overwrites theirs and the image is reported synced", async () => {
    expect(racedAt.between?.method).toBe("HEAD")
    const line = lineFor(run, sourceOf("between"))
    expect(line.status, describeRun(run)).toBe("synced")
    expect(await tagDigest("between")).toBe(pushed.between.digest)
    expect(racer.between.digest).not.toBe(pushed.between.digest)
  })
})

describe("the rest of the run", () => {
  test("the image nobody raced is synced and complete; exit 1 because of the conflicts", async () => {
    expect(run.code, describeRun(run)).toBe(1)
    expect(lineFor(run, sourceOf("clean")).status).toBe("synced")
    const tree = await verifyTree(dst.url, targetRepository("clean"), "1")
    expect(tree.digest).toBe(pushed.clean.digest)
    expect(tree.problems).toEqual([])
  })
})
