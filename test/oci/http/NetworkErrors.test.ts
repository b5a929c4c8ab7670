/** Network failures as people read them: one code, no question marks, TLS trouble explained and final. */
import { describe, expect, test } from "bun:test"
import { describeCause, fetchFailure, tlsProblem } from "../../../src/oci/http/NetworkErrors.ts"

const withCode = (code: string, message: string) => Object.assign(new Error(message), { code })

describe("describeCause", () => {
  test("a refused connection from a real fetch reads as such, its code once", async () => {
    // port 1 on loopback: nothing listens there
    const error = await fetch("http://127.0.0.1:1/v2/", { proxy: false } as RequestInit).then(() => undefined, (e: unknown) => e)
    expect(describeCause(error)).toBe("ECONNREFUSED: connection refused")
  })

  test("a code is not repeated when the message already starts with it", () => {
    expect(describeCause(withCode("ECONNRESET", "ECONNRESET: socket hang up"))).toBe("ECONNRESET: socket hang up")
    expect(describeCause(withCode("ETIMEDOUT", "timed out"))).toBe("ETIMEDOUT: timed out")
    expect(describeCause("plain")).toBe("plain")
  })
})

describe("fetchFailure", () => {
  const request = { registry: "r.example", method: "GET", url: new URL("https://r.example/v2/"), timeout: "30 seconds" } as const

  test("a certificate problem is final and says how to fix it", () => {
    const failure = fetchFailure(withCode("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate"), request)
    expect(tlsProblem(withCode("DEPTH_ZERO_SELF_SIGNED_CERT", "self signed certificate"))).toBe(true)
    expect(failure._tag).toBe("TransportFailure")
    expect(failure.message).toContain("NODE_EXTRA_CA_CERTS")
  })

  test("anything else is worth another try, naming the request", () => {
    const failure = fetchFailure(withCode("ECONNREFUSED", "Unable to connect. Is the computer able to access the url?"), request)
    expect(failure._tag).toBe("Retryable")
    expect(failure.message).toBe("r.example: GET /v2/: ECONNREFUSED: connection refused")
  })
})
