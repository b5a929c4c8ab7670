/**
 * The `skopeo` transport: moves images with `skopeo copy --all --preserve-digests` and reads
 * them with `skopeo inspect --raw`, through the checked process runner. Credentials go in an
 * auth file in a private temp directory (never on the command line); a bearer access token
 * cannot be passed that way, so it is refused with a clear message. The pipeline's rules
 * (immutability, dry run, report, signing) stay in the core.
 */
import { Effect, Layer, Option, Redacted } from "effect"
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Credentials, refusedBy } from "../../src/transport/Credentials.ts"
import { Exec } from "../../src/process/Exec.ts"
import type { ProcessFailed } from "../../src/process/Exec.ts"
import { sha256Digest } from "../../src/model/Digest.ts"
import { DigestMismatch, ImageNotFound, TransportFailure, Unauthorized } from "../../src/model/Errors.ts"
import type { TransportError } from "../../src/model/Errors.ts"
import { describeLocation } from "../../src/model/Location.ts"
import type { Endpoint, ImageLocation } from "../../src/model/Location.ts"
import { manifestMediaType } from "../../src/model/Manifest.ts"
import type { ManifestDescriptor, RawManifest } from "../../src/model/Manifest.ts"
import { bySide, RegistryClients } from "../../src/transport/RegistryClients.ts"
import { lastLook } from "../../src/transport/TagGuard.ts"
import { ownIndexRefused, Transport } from "../../src/transport/Transport.ts"
import { basicToken } from "../../src/oci/http/Basic.ts"

const encoder = new TextEncoder()

/** "docker://host/repo:tag" or "docker://host/repo@sha256:…" */
export const dockerRef = (image: ImageLocation): string => `docker://${describeLocation(image)}`

const notFound = (e: ProcessFailed) => /manifest unknown|not found|name unknown|NAME_UNKNOWN|MANIFEST_UNKNOWN/i.test(e.stderr)
const denied = (e: ProcessFailed) => /unauthorized|authentication required|denied|\b(401|403) (Unauthorized|Forbidden)\b/i.test(e.stderr)

/** Builds the transport on the process runner and the credential chain. */
export const make = (binary = "skopeo") =>
  Effect.gen(function*() {
    const exec = yield* Exec
    const credentials = yield* Credentials
    const registry = bySide(yield* RegistryClients)

    /** Writes an auth file for the endpoints that have credentials; returns its path, if any. */
    const authFile = (dir: string, name: string, endpoint: Endpoint) =>
      Effect.gen(function*() {
        const cred = yield* credentials.lookup(endpoint.host, endpoint.role).pipe(
          Effect.mapError((e) => e.unauthorized === true ? refusedBy(e, endpoint.host) : new TransportFailure({ transport: "skopeo", detail: e.message }))
        )
        if (Option.isNone(cred)) return undefined
        const c = cred.value
        if (c._tag === "RegistryToken") {
          return yield* new TransportFailure({
            transport: "skopeo",
            detail: "a bearer access token cannot be given to skopeo without putting it on the command line; use the oci transport or a key file / docker config"
          })
        }
        const entry = c._tag === "Basic"
          ? { auth: basicToken(c.username, c.password) }
          : { identitytoken: Redacted.value(c.token) }
        const path = join(dir, `${name}.json`)
        yield* Effect.promise(() => writeFile(path, JSON.stringify({ auths: { [endpoint.host]: entry } }), { mode: 0o600 }))
        return path
      })

    /** Runs skopeo with a private directory for auth files, removed afterwards. */
    const withAuthDir = <A, E>(use: (dir: string) => Effect.Effect<A, E>) =>
      Effect.acquireUseRelease(
        Effect.promise(async () => {
          const dir = await mkdtemp(join(tmpdir(), "image-syncer-skopeo-"))
          await chmod(dir, 0o700)
          return dir
        }),
        use,
        (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
      )

    const tlsFlag = (flag: string, e: Endpoint) => (e.scheme === "http" || e.skipTlsVerify ? [`${flag}=false`] : [])

    const translate = (image: ImageLocation) => (e: ProcessFailed): TransportError =>
      notFound(e)
        ? new ImageNotFound({ image: describeLocation(image) })
        : denied(e)
        ? new Unauthorized({ registry: image.endpoint.host, status: 401, detail: `skopeo: ${e.message}` })
        : new TransportFailure({ transport: "skopeo", detail: e.message })

    const inspectRaw = (image: ImageLocation) =>
      withAuthDir((dir) =>
        Effect.gen(function*() {
          const auth = yield* authFile(dir, "auth", image.endpoint)
          const argv = [binary, "inspect", "--raw", ...tlsFlag("--tls-verify", image.endpoint), ...(auth ? ["--authfile", auth] : []), dockerRef(image)]
          const { stdout } = yield* exec.run(argv).pipe(Effect.mapError(translate(image)))
          return encoder.encode(stdout)
        })
      )

    const manifest = (image: ImageLocation): Effect.Effect<RawManifest, TransportError> =>
      Effect.gen(function*() {
        const bytes = yield* inspectRaw(image)
        const digest = sha256Digest(bytes)
        if (image.reference.startsWith("sha256:") && digest !== image.reference) {
          return yield* new DigestMismatch({ what: describeLocation(image), expected: image.reference, actual: digest })
        }
        const mediaType = yield* Effect.try({
          try: () => manifestMediaType(bytes),
          catch: () => new TransportFailure({ transport: "skopeo", detail: `${describeLocation(image)}: manifest is not JSON` })
        })
        return { digest, mediaType, size: bytes.length, bytes }
      })

    const inspect = (image: ImageLocation): Effect.Effect<Option.Option<ManifestDescriptor>, TransportError> =>
      manifest(image).pipe(
        Effect.map((m) => Option.some({ digest: m.digest, mediaType: m.mediaType, size: m.size })),
        Effect.catchTag("ImageNotFound", () => Effect.succeed(Option.none()))
      )

    const copy = (source: ImageLocation, target: ImageLocation, m: ManifestDescriptor, root?: RawManifest) =>
      root !== undefined ? Effect.fail(ownIndexRefused("skopeo", target)) :
      withAuthDir((dir) =>
        Effect.gen(function*() {
          const srcAuth = yield* authFile(dir, "source", source.endpoint)
          const dstAuth = yield* authFile(dir, "target", target.endpoint)
          const from: ImageLocation = { ...source, reference: m.digest }
          // Last look before skopeo writes the tag (it would overwrite unconditionally).
          if ((yield* lastLook(inspect, target, m.digest)) === "ours") {
            return { blobsCopied: 0, blobsMounted: 0, blobsSkipped: 0, bytesCopied: 0, manifestsPut: 0 }
          }
          yield* exec.run([
            binary,
            "copy",
            "--all",
            "--preserve-digests",
            "--retry-times",
            "3",
            ...tlsFlag("--src-tls-verify", source.endpoint),
            ...tlsFlag("--dest-tls-verify", target.endpoint),
            ...(srcAuth ? ["--src-authfile", srcAuth] : []),
            ...(dstAuth ? ["--dest-authfile", dstAuth] : []),
            dockerRef(from),
            dockerRef(target)
          ]).pipe(Effect.mapError(translate(source)))
          // skopeo must not have rewritten anything: the tag holds exactly the source digest.
          const written = yield* manifest(target)
          if (written.digest !== m.digest) {
            return yield* new DigestMismatch({ what: `skopeo copy to ${describeLocation(target)}`, expected: m.digest, actual: written.digest })
          }
          return { blobsCopied: 0, blobsMounted: 0, blobsSkipped: 0, bytesCopied: 0, manifestsPut: 1 }
        })
      )

    // skopeo has no command for one small blob or manifest: signatures and referrer indexes
    // (the Sign step's writes) go through the registry client, with the same credentials.
    return Transport.of({
      name: "skopeo",
      inspect,
      manifest,
      blob: registry.getBlob,
      referrers: registry.referrers,
      listTags: registry.listTags,
      putManifest: registry.putManifest,
      putBlob: registry.putBlob,
      copy
    })
  })

/** The skopeo transport layer. */
export const layer = Layer.effect(Transport, make())
