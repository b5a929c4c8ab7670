/** Repositories created on demand: looked at once per repository and run, created at most once, concurrent images waiting on one creation. */
import { describe, expect, test } from "bun:test"
import { Deferred, Effect, Either, Fiber } from "effect"
import { TransportFailure } from "../../src/model/Errors.ts"
import { endpointFor } from "../../src/model/Location.ts"
import type { ImageLocation } from "../../src/model/Location.ts"
import { onDemand } from "../../src/transport/Repositories.ts"
import type { RepositoryCreator } from "../../src/transport/Repositories.ts"

const at = (host: string, repository: string, tag = "1"): ImageLocation => ({ endpoint: endpointFor(host, new Map(), "target"), repository, reference: tag })

/** A creator over a set of existing repositories on `host`, recording what it is asked. */
const recording = (host: string, existing: ReadonlyArray<string>, gate?: Deferred.Deferred<void>) => {
  const repositories = new Set(existing)
  const asked: Array<string> = []
  const creator: RepositoryCreator = {
    creates: (target) => target.endpoint.host === host,
    exists: (target) =>
      Effect.sync(() => asked.push(`exists ${target.repository}`)).pipe(
        Effect.zipRight(gate ? Deferred.await(gate) : Effect.void),
        Effect.map(() => repositories.has(target.repository))
      ),
    create: (target) => Effect.sync(() => void (asked.push(`create ${target.repository}`), repositories.add(target.repository)))
  }
  return { creator, asked, repositories }
}

describe("ensure", () => {
  test("a missing repository is created once however many images of it come, concurrently; all of them were created by this run", async () => {
    const results = await Effect.runPromise(Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const r = recording("ecr.example", [], gate)
      const repositories = onDemand(r.creator)
      const fibers = yield* Effect.forEach(["1", "2", "3", "4"], (tag) => Effect.fork(repositories.ensure(at("ecr.example", "mirror/app", tag))))
      yield* Effect.yieldNow()
      yield* Deferred.succeed(gate, undefined)
      const created = yield* Fiber.joinAll(fibers)
      return { created, asked: r.asked, later: yield* repositories.ensure(at("ecr.example", "mirror/app", "5")) }
    }))
    expect(results.asked).toEqual(["exists mirror/app", "create mirror/app"])
    expect(results.created).toEqual([true, true, true, true])
    expect(results.later).toBe(true)
  })

  test("a repository that exists is left as it is", async () => {
    const r = recording("ecr.example", ["mirror/app"])
    const created = await Effect.runPromise(onDemand(r.creator).ensure(at("ecr.example", "mirror/app")))
    expect(created).toBe(false)
    expect(r.asked).toEqual(["exists mirror/app"])
  })

  test("a target whose registry did not ask is not looked at", async () => {
    const r = recording("ecr.example", [])
    const created = await Effect.runPromise(onDemand(r.creator).ensure(at("ghcr.io", "mirror/app")))
    expect(created).toBe(false)
    expect(r.asked).toEqual([])
  })

  test("a refused creation fails every image of that repository without asking again", async () => {
    let asked = 0
    const repositories = onDemand({
      creates: () => true,
      exists: () => Effect.succeed(false),
      create: () => Effect.suspend(() => (asked++, Effect.fail(new TransportFailure({ transport: "ecr", detail: "refused" }))))
    })
    const [a, b] = await Effect.runPromise(
      Effect.all([Effect.either(repositories.ensure(at("e", "x", "1"))), Effect.either(repositories.ensure(at("e", "x", "2")))])
    )
    expect([Either.isLeft(a), Either.isLeft(b), asked]).toEqual([true, true, 1])
  })
})

describe("wouldCreate (dry run)", () => {
  test("says whether the repository is missing, once per repository, and creates nothing", async () => {
    const r = recording("ecr.example", ["mirror/present"])
    const repositories = onDemand(r.creator)
    const answers = await Effect.runPromise(Effect.all([
      repositories.wouldCreate(at("ecr.example", "mirror/absent", "1")),
      repositories.wouldCreate(at("ecr.example", "mirror/absent", "2")),
      repositories.wouldCreate(at("ecr.example", "mirror/present")),
      repositories.wouldCreate(at("ghcr.io", "mirror/absent"))
    ]))
    expect(answers).toEqual([true, true, false, false])
    expect(r.asked).toEqual(["exists mirror/absent", "exists mirror/present"])
    expect([...r.repositories]).toEqual(["mirror/present"])
  })
})
