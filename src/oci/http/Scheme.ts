/**
 * Which scheme a registry is spoken to with: the endpoint's (https, or http for loopback and
 * `insecure` hosts) — except that a loopback registry found to speak TLS is used over https
 * from then on (it answers plain HTTP with "HTTP request to an HTTPS server").
 */
import type { Endpoint } from "../../model/Location.ts"

/** The scheme state of a client: the hosts switched to https. */
export interface Scheme {
  /** "https://host" or "http://host" for the endpoint as known now */
  readonly baseUrl: (endpoint: Endpoint) => string
  /** true when a plain-HTTP answer says the host speaks TLS, and the host was switched to https */
  readonly upgradeIfTls: (endpoint: Endpoint, status: number, body: string) => boolean
  /** whether a 400 on the ping is worth reading to see if the host speaks TLS */
  readonly mayUpgrade: (endpoint: Endpoint, status: number) => boolean
}

/** A fresh scheme state. */
export const makeScheme = (): Scheme => {
  const upgraded = new Set<string>()
  return {
    baseUrl: (e) => `${upgraded.has(e.host) ? "https" : e.scheme}://${e.host}`,
    mayUpgrade: (e, status) => status === 400 && e.scheme === "http" && !upgraded.has(e.host),
    upgradeIfTls: (e, status, body) => {
      if (status !== 400 || e.scheme !== "http" || !/HTTP request to an HTTPS server/i.test(body)) return false
      upgraded.add(e.host)
      return true
    }
  }
}
