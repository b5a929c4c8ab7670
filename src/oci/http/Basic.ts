/** HTTP Basic credentials, built in one place: for a registry, a token realm, or a docker config `auth` field. */
import { Redacted } from "effect"

/** base64("user:password"), as docker config `auth` fields and Basic headers carry it. */
export const basicToken = (username: string, password: Redacted.Redacted<string> | string): string =>
  Buffer.from(`${username}:${typeof password === "string" ? password : Redacted.value(password)}`, "utf8").toString("base64")

/** The `Authorization` value: "Basic <base64(user:password)>". */
export const basicHeader = (username: string, password: Redacted.Redacted<string> | string): string => `Basic ${basicToken(username, password)}`
