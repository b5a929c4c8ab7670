/**
 * The `skopeo` transport: moves images with `skopeo copy --all --preserve-digests` and reads
 * them with `skopeo inspect --raw`, through the checked process runner. Credentials go in an
 * auth file in a private temp directory (never on the command line); a bearer access token
 * cannot be passed that way, so it is refused with a clear message. What every tool-based
 * transport shares (the copy's guard and check, the small writes through the registry client)
 * is src/transport/CliTransport.ts; the pipeline's rules stay in the core.
 */
import { Effect, Layer, Option, Redacted } from "effect"
import { join } from "node:path"
import { Credentials } from "../../src/transport/Credentials.ts"
import { Exec } from "../../src/process/Exec.ts"
import type { ProcessFailed } from "../../src/process/Exec.ts"
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

/** "docker://host/repo:tag" or "docker://host/repo@sha256:…" */
export const dockerRef = (image: ImageLocation): string => `docker://${describeLocation(image)}`

/** A missing manifest or repository in skopeo's words: the registry's codes, or its own "not found". */
const notFound = (e: ProcessFailed) => hasCode({ codes: codesInText(e.stderr) }, "MANIFEST_UNKNOWN", "NAME_UNKNOWN") || /\bnot found\b/i.test(e.stderr)
/** Refused credentials in skopeo's words: the registry's codes, or the status it reports. */
const denied = (e: ProcessFailed) =>
  hasCode({ codes: codesInText(e.stderr) }, "UNAUTHORIZED", "DENIED") || /\b(401|403) (Unauthorized|Forbidden)\b/i.test(e.stderr)

const tlsFlag = (flag: string, e: Endpoint) => (e.scheme === "http" || e.skipTlsVerify ? [`${flag}=false`] : [])

const translate = (image: ImageLocation) => (e: ProcessFailed): TransportError =>
  notFound(e)
    ? new ImageNotFound({ image: describeLocation(image) })
    : denied(e)
    ? new Unauthorized({ registry: image.endpoint.host, status: 401, detail: `skopeo: ${e.message}` })
    : new TransportFailure({ transport: "skopeo", detail: e.message })

/** Builds the transport on the process runner and the credential chain. */
export const make = (binary = "skopeo") =>
  Effect.gen(function*() {
    const exec = yield* Exec
    const credentials = yield* Credentials
    const registry = bySide(yield* RegistryClients)

    /** Writes an auth file for the endpoint if it has credentials; returns its path, if any. */
    const authFile = (dir: string, name: string, endpoint: Endpoint) =>
      Effect.gen(function*() {
        const cred = yield* credentialFor(credentials, "skopeo", endpoint)
        if (Option.isNone(cred)) return undefined
        const c = cred.value
        if (c._tag === "RegistryToken") {
          return yield* new TransportFailure({
            transport: "skopeo",
            detail:
              "a bearer access token cannot be given to skopeo without putting it on the command line; use the oci transport or a key file / docker config"
          })
        }
        const entry: Record<string, string> = c._tag === "Basic" ? { auth: basicToken(c.username, c.password) } : { identitytoken: Redacted.value(c.token) }
        const path = join(dir, `${name}.json`)
        yield* writeAuthFile(path, { [endpoint.host]: entry })
        return path
      })

    const manifest = (image: ImageLocation): Effect.Effect<RawManifest, TransportError> =>
      withPrivateDir("skopeo", (dir) =>
        Effect.gen(function*() {
          const auth = yield* authFile(dir, "auth", image.endpoint)
          const argv = [binary, "inspect", "--raw", ...tlsFlag("--tls-verify", image.endpoint), ...(auth ? ["--authfile", auth] : []), dockerRef(image)]
          const { stdout } = yield* exec.run(argv).pipe(Effect.mapError(translate(image)))
          return yield* rawManifest("skopeo", image, encoder.encode(stdout))
        }))

    const inspect = (image: ImageLocation): Effect.Effect<Option.Option<ManifestDescriptor>, TransportError> =>
      manifest(image).pipe(
        Effect.map((m) => Option.some({ digest: m.digest, mediaType: m.mediaType, size: m.size })),
        Effect.catchTag("ImageNotFound", () => Effect.succeed(Option.none()))
      )

    const run = (from: ImageLocation, target: ImageLocation, source: ImageLocation) =>
      withPrivateDir("skopeo", (dir) =>
        Effect.gen(function*() {
          const srcAuth = yield* authFile(dir, "source", from.endpoint)
          const dstAuth = yield* authFile(dir, "target", target.endpoint)
          return yield* exec.run([
            binary,
            "copy",
            "--all",
            "--preserve-digests",
            "--retry-times",
            "3",
            ...tlsFlag("--src-tls-verify", from.endpoint),
            ...tlsFlag("--dest-tls-verify", target.endpoint),
            ...(srcAuth ? ["--src-authfile", srcAuth] : []),
            ...(dstAuth ? ["--dest-authfile", dstAuth] : []),
            dockerRef(from),
            dockerRef(target)
          ]).pipe(Effect.mapError(translate(source)))
        }))

    // skopeo has no command for one small blob or manifest: signatures and referrer indexes
    // (the Sign step's writes) go through the registry client, with the same credentials.
    return Transport.of({
      name: "skopeo",
      inspect,
      manifest,
      ...throughRegistryClient(registry),
      copy: guardedCopy({ tool: "skopeo", look: inspect, run })
    })
  })

/** The skopeo transport layer. */
export const layer = Layer.effect(Transport, make())
