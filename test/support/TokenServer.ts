/**
 * A token server for distribution's `auth: token` (oci-protocol.md §6.3), GCR-style:
 * Basic credentials (e.g. `_json_key` + key file content) at the realm are exchanged for an ES256 JWT.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from "node:crypto"
import type { KeyObject } from "node:crypto"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NEW_P256_KEY } from "./TestCertificates.ts"

/** One entry of the JWT `access` claim. */
export interface TokenAccess {
  readonly type: string
  readonly name: string
  readonly actions: ReadonlyArray<string>
}

/** One token request as seen by the server (never the password). */
export interface TokenRequest {
  readonly username: string | undefined
  readonly scopes: ReadonlyArray<string>
  readonly method: string
}

/** A token server for distribution's `auth: token` (see oci-protocol.md §6.3). */
export interface TokenServer {
  /** "http://127.0.0.1:PORT/token" */
  readonly realm: string
  /** "test-registry" */
  readonly service: string
  /** "test-issuer" */
  readonly issuer: string
  /** path of the PEM cert bundle to give the registry */
  readonly rootCertBundle: string
  /** every token request seen: the Authorization username used (or undefined), the scopes asked, the method (GET/POST) — never the password */
  readonly requests: () => ReadonlyArray<TokenRequest>
  /** mint a token directly (for --access-token tests): access list as in the JWT claim; ttlSeconds default 300 (negative → already expired) */
  readonly mint: (access: ReadonlyArray<TokenAccess>, ttlSeconds?: number) => string
  readonly stop: () => Promise<void>
}

/** Options of startTokenServer. */
export interface TokenServerOptions {
  /**
   * accepted Basic users → password; e.g. { _json_key: "<key file content>" }, or a function
   * asked at each request (a password that changes: a cloud access token); anonymous requests
   * get pull-only (or nothing if anonymousPull is false)
   */
  readonly users: Readonly<Record<string, string>> | ((username: string) => string | undefined)
  /** default false */
  readonly anonymousPull?: boolean
  /**
   * the registry accepts each token for this many seconds only, while the response still
   * announces the usual lifetime (a token revoked early, a signing key rotated). distribution
   * allows 60 s of clock skew past a token's `exp`, so `exp` is set that much earlier.
   */
  readonly acceptedForSeconds?: number
  /** every token response waits this long (a slow token service) */
  readonly delayMs?: number
}

/** The clock skew distribution allows past a token's `exp` (registry/auth/token: Leeway). */
const REGISTRY_LEEWAY_SECONDS = 60

const SERVICE = "test-registry"
const ISSUER = "test-issuer"
const DEFAULT_TTL_SECONDS = 300

const base64url = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString("base64url")

/** libtrust key ID: SHA-256 of the SPKI DER, first 30 bytes, base32 without padding, 12 groups of 4 joined by ":". */
export const libtrustKeyId = (key: KeyObject): string => {
  const der = createPublicKey(key).export({ type: "spki", format: "der" })
  const hash = createHash("sha256").update(der).digest().subarray(0, 30)
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
  let bits = ""
  for (const byte of hash) bits += byte.toString(2).padStart(8, "0")
  let b32 = ""
  for (let i = 0; i < bits.length; i += 5) b32 += alphabet[parseInt(bits.slice(i, i + 5), 2)]
  return b32.match(/.{4}/g)?.join(":") ?? b32
}

/** Splits "type:name:actions"; the name may itself contain ":" (host:port), so parse from both ends. */
const parseScope = (scope: string): TokenAccess | undefined => {
  const first = scope.indexOf(":")
  const last = scope.lastIndexOf(":")
  if (first < 0 || last <= first) return undefined
  const actions = scope.slice(last + 1).split(",").filter((a) => a !== "")
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions }
}

/** Basic credentials split at the FIRST ":" (the password may be a multi-line JSON key file). */
const parseBasic = (header: string | null): { readonly username: string; readonly password: string } | undefined => {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? "")
  if (match?.[1] === undefined) return undefined
  const decoded = Buffer.from(match[1], "base64").toString("utf8")
  const colon = decoded.indexOf(":")
  if (colon < 0) return undefined
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/** Runs a command; throws with its stderr on failure. */
const run = async (argv: Array<string>): Promise<void> => {
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" })
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited, new Response(proc.stdout).text()])
  if (code !== 0) throw new Error(`${argv[0]} failed (exit ${code}): ${stderr.trim()}`)
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } })

/** starts the token server (Bun.serve port 0) with a fresh ES256 key and a self-signed cert made with openssl (temp dir); tokens: header alg ES256 + kid (libtrust fingerprint), raw r||s signature (dsaEncoding "ieee-p1363"), claims iss/aud(string)=service/exp/nbf/iat/access. Grants what is asked for authenticated users; 401 for wrong credentials. */
export const startTokenServer = async (options: TokenServerOptions): Promise<TokenServer> => {
  const openssl = Bun.which("openssl")
  if (openssl === null) throw new Error("openssl not found: apt-get install openssl")
  const dir = await mkdtemp(join(tmpdir(), "token-server-"))
  try {
    const keyPath = join(dir, "key.pem")
    const certPath = join(dir, "cert.pem")
    await run([
      openssl,
      "req",
      "-x509",
      ...NEW_P256_KEY,
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-subj",
      "/CN=test-token-issuer",
      "-days",
      "2"
    ])
    const privateKey = createPrivateKey(await readFile(keyPath))
    const kid = libtrustKeyId(privateKey)
    const seen: Array<TokenRequest> = []
    const refreshTokens = new Map<string, string>()
    const users = options.users
    const passwordOf = (username: string): string | undefined =>
      typeof users === "function" ? users(username) : Object.hasOwn(users, username) ? users[username] : undefined

    const mint = (access: ReadonlyArray<TokenAccess>, ttlSeconds = DEFAULT_TTL_SECONDS, subject = ""): string => {
      const now = Math.floor(Date.now() / 1000)
      const header = { alg: "ES256", typ: "JWT", kid }
      const claims = {
        iss: ISSUER,
        sub: subject,
        aud: SERVICE, // distribution rejects an array here
        exp: now + ttlSeconds,
        nbf: now - 1,
        iat: now,
        jti: randomBytes(12).toString("hex"),
        access
      }
      const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`
      // JOSE wants raw r||s; distribution rejects DER
      const signature = sign("sha256", Buffer.from(signingInput), { key: privateKey, dsaEncoding: "ieee-p1363" })
      return `${signingInput}.${base64url(signature)}`
    }

    /** What a caller gets: everything asked when authenticated, pull at most when anonymous. */
    const grant = (username: string | undefined, scopes: ReadonlyArray<string>): Array<TokenAccess> => {
      const granted: Array<TokenAccess> = []
      for (const scope of scopes) {
        const parsed = parseScope(scope)
        if (parsed === undefined) continue
        const actions = username !== undefined
          ? parsed.actions
          : options.anonymousPull === true && parsed.type === "repository"
          ? parsed.actions.filter((a) => a === "pull")
          : []
        if (actions.length > 0) granted.push({ ...parsed, actions })
      }
      return granted
    }

    const issue = (username: string | undefined, scopes: ReadonlyArray<string>, offline: boolean): Response => {
      const ttl = options.acceptedForSeconds === undefined ? DEFAULT_TTL_SECONDS : options.acceptedForSeconds - REGISTRY_LEEWAY_SECONDS
      const token = mint(grant(username, scopes), ttl, username ?? "")
      const body: Record<string, unknown> = {
        token,
        access_token: token,
        expires_in: DEFAULT_TTL_SECONDS,
        issued_at: new Date().toISOString()
      }
      if (offline && username !== undefined) {
        const refresh = randomBytes(24).toString("hex")
        refreshTokens.set(refresh, username)
        body["refresh_token"] = refresh
      }
      return json(200, body)
    }

    const unauthorized = (): Response => json(401, { errors: [{ code: "UNAUTHORIZED", message: "invalid credentials" }] })

    const checkService = (service: string | null): Response | undefined =>
      service !== null && service !== SERVICE
        ? json(400, { errors: [{ code: "DENIED", message: `unknown service ${service}` }] })
        : undefined

    const handleGet = (url: URL, authorization: string | null): Response => {
      const scopes = url.searchParams.getAll("scope").flatMap((s) => s.split(" ")).filter((s) => s !== "")
      const credentials = parseBasic(authorization)
      seen.push({ username: credentials?.username, scopes, method: "GET" })
      const badService = checkService(url.searchParams.get("service"))
      if (badService !== undefined) return badService
      if (authorization !== null && credentials === undefined) return unauthorized()
      if (credentials !== undefined && (passwordOf(credentials.username) === undefined || passwordOf(credentials.username) !== credentials.password)) {
        return unauthorized()
      }
      return issue(credentials?.username, scopes, url.searchParams.get("offline_token") === "true")
    }

    // OAuth2 form POST (docs/spec/auth/oauth.md): password or refresh_token grants
    const handlePost = async (request: Request): Promise<Response> => {
      const form = new URLSearchParams(await request.text())
      const scopes = (form.get("scope") ?? "").split(" ").filter((s) => s !== "")
      const grantType = form.get("grant_type")
      const username = grantType === "password"
        ? (form.get("username") ?? undefined)
        : grantType === "refresh_token"
        ? refreshTokens.get(form.get("refresh_token") ?? "")
        : undefined
      seen.push({ username, scopes, method: "POST" })
      const badService = checkService(form.get("service"))
      if (badService !== undefined) return badService
      if (grantType === "password") {
        if (username === undefined || passwordOf(username) === undefined || passwordOf(username) !== form.get("password")) return unauthorized()
      } else if (grantType === "refresh_token") {
        if (username === undefined) return unauthorized()
      } else {
        return json(400, { error: "unsupported_grant_type" })
      }
      return issue(username, scopes, form.get("access_type") === "offline")
    }

    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        const url = new URL(request.url)
        if (url.pathname !== "/token") return new Response("not found", { status: 404 })
        if (options.delayMs !== undefined) await Bun.sleep(options.delayMs)
        if (request.method === "GET") return handleGet(url, request.headers.get("authorization"))
        if (request.method === "POST") return handlePost(request)
        return new Response("method not allowed", { status: 405 })
      }
    })

    let stopping: Promise<void> | undefined
    return {
      realm: `http://127.0.0.1:${server.port}/token`,
      service: SERVICE,
      issuer: ISSUER,
      rootCertBundle: certPath,
      requests: () => [...seen],
      mint: (access, ttlSeconds) => mint(access, ttlSeconds),
      stop: () => {
        stopping ??= (async () => {
          await server.stop(true)
          await rm(dir, { recursive: true, force: true })
        })()
        return stopping
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}
