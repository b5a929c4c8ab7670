/** Basic credentials, as headers and as docker config `auth` fields. */
import { expect, test } from "bun:test"
import { Redacted } from "effect"
import { basicHeader, basicToken } from "../../../src/oci/http/Basic.ts"

test("base64 of user:password, from a plain or a redacted password, UTF-8 included", () => {
  expect(basicToken("alice", "s3cret")).toBe(Buffer.from("alice:s3cret").toString("base64"))
  expect(basicToken("_json_key", Redacted.make("{\"k\":\"ü\"}"))).toBe(Buffer.from("_json_key:{\"k\":\"ü\"}", "utf8").toString("base64"))
  expect(basicHeader("alice", Redacted.make("s3cret"))).toBe(`Basic ${Buffer.from("alice:s3cret").toString("base64")}`)
})
