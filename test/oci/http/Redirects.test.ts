/** The redirect policy: which responses are followed, where, and with which headers. */
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { nextHop } from "../../../src/oci/http/Redirects.ts"

const request = (method: string, headers: Record<string, string> = { authorization: "Bearer t", accept: "x" }) => ({
  method,
  url: new URL("http://127.0.0.1:5000/v2/app/blobs/sha256:x"),
  headers,
  home: "http://127.0.0.1:5000",
  registry: "127.0.0.1:5000"
})

describe("nextHop", () => {
  test("a same-origin redirect keeps Authorization; another origin (another port counts) drops it and keeps the rest", () => {
    const same = Either.getOrThrow(nextHop({ status: 307, location: "/v2/app/blobs/elsewhere" }, request("GET")))
    expect(same?.headers).toEqual({ authorization: "Bearer t", accept: "x" })
    const other = Either.getOrThrow(nextHop({ status: 302, location: "http://127.0.0.1:5001/storage?sig=s" }, request("GET")))
    expect(other?.url.href).toBe("http://127.0.0.1:5001/storage?sig=s")
    expect(other?.headers).toEqual({ accept: "x" })
  })

  test("only GET and HEAD redirects are followed; a 200 is no redirect", () => {
    expect(Either.getOrThrow(nextHop({ status: 307, location: "/x" }, request("PUT")))).toBeUndefined()
    expect(Either.getOrThrow(nextHop({ status: 307, location: "/x" }, request("HEAD")))?.url.pathname).toBe("/x")
    expect(Either.getOrThrow(nextHop({ status: 200, location: "/x" }, request("GET")))).toBeUndefined()
    expect(Either.getOrThrow(nextHop({ status: 307, location: undefined }, request("GET")))).toBeUndefined()
  })

  test("a redirect to file: is an UnsupportedUrl naming the request it came from", () => {
    const refused = nextHop({ status: 302, location: "file:///etc/passwd" }, request("GET"))
    expect(Either.isLeft(refused) && refused.left.message).toContain("refused the redirect of GET /v2/app/blobs/sha256:x to file:///etc/passwd")
  })
})
