/**
 * The `crane` transport: moves images with go-containerregistry's `crane` CLI, which must be
 * installed and on PATH. `crane digest` (a HEAD) says whether an image exists, `crane manifest`
 * reads bytes (verified here against its digest), and `crane copy` copies
 * (with crane's default `--platform all`, an index is copied whole, byte for byte). crane copy
 * writes a tag unconditionally, so a last `crane digest` of the target comes first (a tag taken
 * meanwhile is TagTaken), and one afterwards checks the tag holds the source digest. Every run
 * goes through the checked process runner. Small blobs (configs, signature payloads) and the
 * Sign step's writes go through the registry client, with the same credentials.
 *
 * Credentials never go on the command line: each run gets a private temp directory (0700) with a
 * docker `config.json` (0600) holding only the `auths` entries our credential chain chose, and
 * `DOCKER_CONFIG` pointing at it in the child's environment only. So crane sees exactly the
 * credentials the other transports would use, and nothing from the user's own docker config.
 * What every tool-based transport shares is src/transport/CliTransport.ts.
 */
import { Effect, Layer, Option, Redacted } from "effect"
import { join } from "node:path"
import type { Credential } from "../../src/transport/Credentials.ts"
import { Credentials } from "../../src/transport/Credentials.ts"
import { Exec } from "../../src/process/Exec.ts"
import type { ProcessFailed } from "../../src/process/Exec.ts"
import { isSha256Digest } from "../../src/model/Digest.ts"
import { ImageNotFound, TransportFailure, Unauthorized } from "../../src/model/Errors.ts"
import type { TransportError } from "../../src/model/Errors.ts"
import { describeLocation } from "../../src/model/Location.ts"
import type { Endpoint, ImageLocation } from "../../src/model/Location.ts"
import type { ManifestDescriptor, RawManifest } from "../../src/model/Manifest.ts"
import { credentialFor, guardedCopy, rawManifest, throughRegistryClient, withPrivateDir, writeAuthFile } from "../../src/transport/CliTransport.ts"
import { bySide, RegistryClients } from "../../src/transport/RegistryClients.ts"
import { Transport } from "../../src/transport/Transport.ts"
import { basicToken } from "../../src/oci/http/Basic.ts"
import { codesInText, hasCode } from "../../src/oci/RegistryError.ts"

const encoder = new TextEncoder()

/** A missing manifest or repository in crane's (ggcr's) words: the registry's codes, or a bodiless HEAD 404. */
const notFound = (stderr: string) => hasCode({ codes: codesInText(stderr) }, "MANIFEST_UNKNOWN", "NAME_UNKNOWN") || /status code 404/i.test(stderr)
/** Refused credentials in crane's words: the registry's codes, or its status line; never a bare "401" (a digest can contain it). */
const denied = (stderr: string) => hasCode({ codes: codesInText(stderr) }, "UNAUTHORIZED", "DENIED") || /status code 40[13]/i.test(stderr)

/** The docker config.json `auths` entry crane (ggcr's authn) understands for a credential. */
export const authEntry = (credential: Credential): Record<string, string> => {
  switch (credential._tag) {
    case "Basic":
      return { auth: basicToken(credential.username, credential.password) }
    case "IdentityToken":
      return { username: credential.username, identitytoken: Redacted.value(credential.token) }
    case "RegistryToken":
      // ggcr sends it as `Authorization: Bearer` without a token exchange, as --access-token means.
      return { registrytoken: Redacted.value(credential.token) }
  }
}

/** Hosts crane itself talks plain HTTP to without `--insecure` (ggcr's name.Registry.Scheme). */
const cranePlainHttpHost = (host: string): boolean => /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i.test(host)

/** Plain HTTP or unverified TLS for this endpoint. */
const lax = (e: Endpoint): boolean => e.scheme === "http" || e.skipTlsVerify

/** The meaningful part of crane's stderr: its "Error: …" line(s), else the last lines. */
const causeOf = (e: ProcessFailed): string => {
  const lines = e.stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "")
  const errors = lines.filter((l) => l.startsWith("Error:")).map((l) => l.slice("Error:".length).trim())
  return (errors.length > 0 ? errors : lines.slice(-3)).join(" ").slice(0, 500) || "no error output"
}

/** `--insecure` when needed; crane has one such flag for every registry of a command. */
const insecureFlag = (endpoints: ReadonlyArray<Endpoint>): Effect.Effect<ReadonlyArray<string>, TransportFailure> => {
  if (endpoints.every(lax)) return Effect.succeed(endpoints.length > 0 ? ["--insecure"] : [])
  // Mixed: a verified registry keeps its TLS checks if crane can reach the other side without the flag.
  const unreachable = endpoints.filter((e) => lax(e) && (e.skipTlsVerify || !cranePlainHttpHost(e.host)))
  if (unreachable.length === 0) return Effect.succeed([])
  return Effect.fail(
    new TransportFailure({
      transport: "crane",
      detail: `crane's --insecure applies to every registry of a copy; it will not be used to reach ${
        unreachable.map((e) => e.host).join(", ")
      } (insecure) together with a verified registry (use the oci or skopeo transport)`
    })
  )
}

/** One crane run, as its errors need it: `image` is what errors are about, `credentialed` the hosts we had credentials for. */
interface RunContext {
  readonly sub: string
  readonly image: ImageLocation
  readonly endpoints: ReadonlyArray<Endpoint>
  readonly credentialed: ReadonlySet<string>
}

/** Builds the crane transport on the process runner and the credential chain; `binary` is looked up on PATH. */
export const make = (binary = "crane") =>
  Effect.gen(function*() {
    const exec = yield* Exec
    const credentials = yield* Credentials
    const registry = bySide(yield* RegistryClients)

    /** A private DOCKER_CONFIG with the `auths` of these endpoints (and which hosts got one); removed after `use`. */
    const withDockerConfig = <A, E>(
      endpoints: ReadonlyArray<Endpoint>,
      use: (dir: string, credentialed: ReadonlySet<string>) => Effect.Effect<A, E>
    ) =>
      Effect.gen(function*() {
        const auths: Record<string, Record<string, string>> = {}
        for (const endpoint of endpoints) {
          const credential = yield* credentialFor(credentials, "crane", endpoint)
          if (Option.isNone(credential)) continue
          const entry = authEntry(credential.value)
          const other = auths[endpoint.host]
          // One config file, one entry per host: a copy within one registry cannot use two identities.
          if (other !== undefined && JSON.stringify(other) !== JSON.stringify(entry)) {
            return yield* new TransportFailure({
              transport: "crane",
              detail: `${endpoint.host} has different credentials as source and as target; crane can use only one per registry (use the oci transport)`
            })
          }
          auths[endpoint.host] = entry
        }
        return yield* withPrivateDir("crane", (dir) =>
          // Always written, even empty: crane must not fall back to the user's own docker config.
          Effect.zipRight(writeAuthFile(join(dir, "config.json"), auths), use(dir, new Set(Object.keys(auths)))))
      })

    /** Turns a failed crane run into a typed error. */
    const translate = ({ credentialed, endpoints, image, sub }: RunContext) => (e: ProcessFailed): TransportError => {
      if (e.exitCode === undefined) {
        return new TransportFailure({
          transport: "crane",
          detail: `could not run ${binary} (install crane and put it on PATH): ${e.stderr.trim() || "not found"}`
        })
      }
      const cause = causeOf(e)
      if (notFound(e.stderr)) return new ImageNotFound({ image: describeLocation(image) })
      if (denied(e.stderr)) {
        // crane's error names the URL it was refused at; that is the registry to blame.
        const refused = endpoints.find((p) => e.stderr.includes(`/${p.host}/`)) ?? image.endpoint
        // Say when we had nothing to send: "access denied" alone reads like refused credentials (the CLI adds where to give them).
        const anonymous = !credentialed.has(refused.host)
        return new Unauthorized({
          registry: refused.host,
          status: hasCode({ codes: codesInText(e.stderr) }, "DENIED") || /status code 403/i.test(e.stderr) ? 403 : 401,
          detail: `crane ${sub}: ${cause}${anonymous ? `; no credentials found for ${refused.host}` : ""}`,
          anonymous
        })
      }
      return new TransportFailure({ transport: "crane", detail: `crane ${sub} ${describeLocation(image)} failed (exit ${e.exitCode}): ${cause}` })
    }

    /** Runs `crane SUB [--insecure] REF…` with a private DOCKER_CONFIG; `about` is the image errors are about. */
    const crane = (sub: string, images: ReadonlyArray<ImageLocation>, about: ImageLocation) =>
      Effect.gen(function*() {
        const endpoints = images.map((i) => i.endpoint)
        const flags = yield* insecureFlag(endpoints)
        return yield* withDockerConfig(endpoints, (dir, credentialed) =>
          exec.run([binary, sub, ...flags, ...images.map(describeLocation)], { env: { DOCKER_CONFIG: dir } }).pipe(
            Effect.mapError(translate({ sub, image: about, endpoints, credentialed }))
          ))
      })

    /** `crane digest`: the digest at `image` (a HEAD where the registry allows it). */
    const digest = (image: ImageLocation) =>
      Effect.gen(function*() {
        const { stdout } = yield* crane("digest", [image], image)
        const printed = stdout.trim()
        if (!isSha256Digest(printed)) {
          return yield* new TransportFailure({
            transport: "crane",
            detail: `crane digest ${describeLocation(image)} printed ${JSON.stringify(printed.slice(0, 100))}, not a digest`
          })
        }
        return printed
      })

    const manifest = (image: ImageLocation): Effect.Effect<RawManifest, TransportError> =>
      Effect.flatMap(crane("manifest", [image], image), ({ stdout }) => rawManifest("crane", image, encoder.encode(stdout)))

    /** What `crane digest` says is at `image` (the digest alone: enough for the last look and the check after a copy). */
    const found = (image: ImageLocation): Effect.Effect<Option.Option<ManifestDescriptor>, TransportError> =>
      digest(image).pipe(
        Effect.map((d) => Option.some({ digest: d, mediaType: "", size: 0 })),
        Effect.catchTag("ImageNotFound", () => Effect.succeed(Option.none()))
      )

    const inspect = (image: ImageLocation): Effect.Effect<Option.Option<ManifestDescriptor>, TransportError> =>
      Effect.gen(function*() {
        const found = yield* digest(image).pipe(
          Effect.map(Option.some),
          Effect.catchTag("ImageNotFound", () => Effect.succeed(Option.none<string>()))
        )
        if (Option.isNone(found)) return Option.none()
        // By digest, so media type and size describe exactly what the digest names.
        const raw = yield* manifest({ ...image, reference: found.value })
        return Option.some({ digest: raw.digest, mediaType: raw.mediaType, size: raw.size })
      })

    // Signatures and referrer indexes (the Sign step's small writes) go through the registry
    // client, with the same credentials; crane has no command to push one manifest or blob.
    return Transport.of({
      name: "crane",
      inspect,
      manifest,
      ...throughRegistryClient(registry),
      copy: guardedCopy({ tool: "crane", look: found, run: (from, target) => crane("copy", [from, target], from) })
    })
  })

/** The crane transport layer (crane on PATH). */
export const layer = Layer.effect(Transport, make())
