/** Which URLs the client fetches: http: and https: only, whatever a registry hands us. */
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { allowedUrl } from "../../../src/oci/http/UrlPolicy.ts"

describe("allowedUrl", () => {
  test("http and https URLs pass, relative ones resolved against the base", () => {
    expect(Either.getOrThrow(allowedUrl("https://r.example/v2/", undefined, "r", "x")).href).toBe("https://r.example/v2/")
    expect(Either.getOrThrow(allowedUrl("/v2/a/blobs/uploads/1?_state=s", "http://127.0.0.1:5000/v2/a/blobs/uploads/", "r", "x")).href)
      .toBe("http://127.0.0.1:5000/v2/a/blobs/uploads/1?_state=s")
  })

  test("file:, data:, ftp: and what is not a URL at all are UnsupportedUrl naming the scheme and what pointed there", () => {
    for (
      const [raw, scheme] of [["file:///etc/passwd", "file:"], ["data:text/plain,hi", "data:"], ["ftp://x/y", "ftp:"], ["::not a url", "(not a URL)"]] as const
    ) {
      const result = allowedUrl(raw, undefined, "evil.example", "token realm")
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) {
        expect(result.left._tag).toBe("UnsupportedUrl")
        expect(result.left.scheme).toBe(scheme)
        expect(result.left.message).toContain("evil.example: refused the token realm")
      }
    }
  })

  test("a relative Location cannot climb into another scheme: resolved against a file: base it stays file:", () => {
    expect(Either.isLeft(allowedUrl("x", "file:///tmp/", "r", "upload Location"))).toBe(true)
  })

  test("the message shows no query string (pre-signed URLs carry secrets there)", () => {
    const result = allowedUrl("gopher://h/p?X-Amz-Signature=secret", undefined, "r", "redirect")
    expect(Either.isLeft(result) && result.left.message).not.toContain("secret")
  })
})
