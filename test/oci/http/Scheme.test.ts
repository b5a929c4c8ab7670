/** Which scheme a registry is spoken to with, and the switch to https for a loopback registry that speaks TLS. */
import { expect, test } from "bun:test"
import { endpointFor } from "../../../src/model/Location.ts"
import { makeScheme } from "../../../src/oci/http/Scheme.ts"

test("loopback starts on http and moves to https only on the TLS server's answer; other hosts stay as they are", () => {
  const scheme = makeScheme()
  const loopback = endpointFor("127.0.0.1:5000", new Map(), "target")
  const remote = endpointFor("registry.example", new Map(), "target")
  expect(scheme.baseUrl(loopback)).toBe("http://127.0.0.1:5000")
  expect(scheme.baseUrl(remote)).toBe("https://registry.example")
  expect(scheme.upgradeIfTls(loopback, 400, "something else")).toBe(false)
  expect(scheme.baseUrl(loopback)).toBe("http://127.0.0.1:5000")
  expect(scheme.mayUpgrade(loopback, 400)).toBe(true)
  expect(scheme.upgradeIfTls(loopback, 400, "Client sent an HTTP request to an HTTPS server.")).toBe(true)
  expect(scheme.baseUrl(loopback)).toBe("https://127.0.0.1:5000")
  expect(scheme.mayUpgrade(loopback, 400)).toBe(false)
  expect(scheme.mayUpgrade(remote, 400)).toBe(false)
})
