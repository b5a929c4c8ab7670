/** Bodies read into memory: a size limit (announced or read), a stall timeout, error bodies cut short. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Either } from "effect"
import { readBody, readErrorText } from "../../../src/oci/http/BodyReader.ts"

let server: ReturnType<typeof Bun.serve>
const bytes = (n: number) => new Uint8Array(n).fill(0x61)

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      const path = new URL(req.url).pathname
      if (path === "/small") return new Response(bytes(100))
      if (path === "/announced") return new Response(bytes(2000), { headers: { "content-length": "2000" } })
      if (path === "/chunked") {
        let sent = 0
        return new Response(new ReadableStream({ pull: (c) => void (sent++ < 100 ? c.enqueue(bytes(512)) : c.close()) }))
      }
      if (path === "/stall") {
        return new Response(new ReadableStream({ start: (c) => c.enqueue(bytes(10)), pull: () => new Promise<void>(() => {}) }))
      }
      return new Response("not found", { status: 404 })
    }
  })
})
afterAll(() => server.stop(true))

const get = (path: string) => Effect.promise(() => fetch(`http://127.0.0.1:${server.port}${path}`))

const read = (path: string, limit: number) =>
  Effect.runPromise(
    Effect.either(Effect.flatMap(get(path), (res) => readBody(res, { registry: "r", request: `GET ${path}`, what: "manifest", limit, stallMs: 200 })))
  )

describe("readBody", () => {
  test("a body within the limit comes back whole", async () => {
    expect(Either.getOrThrow(await read("/small", 1000))).toHaveLength(100)
  })

  test("over the limit by Content-Length: refused before reading, saying what it announced", async () => {
    const result = await read("/announced", 1024)
    expect(Either.isLeft(result) && result.left._tag).toBe("ResponseTooLarge")
    expect(Either.isLeft(result) && result.left.message).toContain("larger than the 1 KiB limit (it announced 2000 bytes)")
  })

  test("over the limit while reading (no Content-Length): refused", async () => {
    const result = await read("/chunked", 4096)
    expect(Either.isLeft(result) && result.left._tag).toBe("ResponseTooLarge")
  })

  test("a body that stops sending is a retryable failure after the stall timeout", async () => {
    const result = await read("/stall", 1000)
    expect(Either.isLeft(result) && result.left._tag).toBe("Retryable")
    expect(Either.isLeft(result) && result.left.message).toContain("stalled for 200 ms")
  })
})

describe("readErrorText", () => {
  test("only the first bytes of a long error body are read", async () => {
    const text = await Effect.runPromise(Effect.flatMap(get("/chunked"), (res) => readErrorText(res, 200, 1000)))
    expect(text).toHaveLength(1000)
  })

  test("a stalled error body gives up and yields nothing rather than hanging", async () => {
    const text = await Effect.runPromise(Effect.flatMap(get("/stall"), (res) => readErrorText(res, 200)))
    expect(text).toBe("")
  })
})
