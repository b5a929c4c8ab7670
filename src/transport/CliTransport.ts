/**
 * What every transport built on a command-line tool (skopeo, crane) shares, so each plugin
 * holds only what is its own (its commands, its auth file's shape, its error words): the
 * credentials of an endpoint from the run's chain; a private directory (0700) for the auth
 * file handed to the tool, removed afterwards; manifest bytes checked against the digest they
 * were asked by; the copy's guard — the last look before the tool writes the tag (it would
 * overwrite it) and the check afterwards that the tag holds exactly the source digest — and
 * the small reads and writes (configs, signatures, referrers) done through the registry client.
 */
import { Effect, Option } from "effect"
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { isDigestReference, sha256Digest } from "../model/Digest.ts"
import { DigestMismatch, ImageNotFound, TransportFailure } from "../model/Errors.ts"
import type { TransportError } from "../model/Errors.ts"
import type { ImageStore } from "../model/ImageStore.ts"
import { describeLocation, withReference } from "../model/Location.ts"
import type { Endpoint, ImageLocation } from "../model/Location.ts"
import { manifestMediaType } from "../model/Manifest.ts"
import type { ManifestDescriptor, RawManifest } from "../model/Manifest.ts"
import { refusedBy } from "./Credentials.ts"
import type { Credentials } from "./Credentials.ts"
import { lastLook } from "./TagGuard.ts"
import { noCopy, ownIndexRefused } from "./Transport.ts"
import type { TransportShape } from "./Transport.ts"

/** The credential of one endpoint, as the run's chain answers it; a refusal is Unauthorized, any other trouble the tool's failure. */
export const credentialFor = (credentials: Credentials["Type"], tool: string, endpoint: Endpoint) =>
  credentials.lookup(endpoint.host, endpoint.role).pipe(
    Effect.mapError((e) => e.unauthorized === true ? refusedBy(e, endpoint.host) : new TransportFailure({ transport: tool, detail: e.message }))
  )

/** `use` with a private directory (0700) of its own, removed afterwards whatever happens. */
export const withPrivateDir = <A, E>(tool: string, use: (dir: string) => Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.acquireUseRelease(
    Effect.promise(async () => {
      const dir = await mkdtemp(join(tmpdir(), `image-syncer-${tool}-`))
      await chmod(dir, 0o700)
      return dir
    }),
    use,
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

/** Writes a docker-style auth file (`{ auths }`) readable by its owner only. */
export const writeAuthFile = (path: string, auths: Readonly<Record<string, Readonly<Record<string, string>>>>) =>
  Effect.promise(() => writeFile(path, JSON.stringify({ auths }), { mode: 0o600 }))

/** Manifest bytes a tool printed for `image`: checked against the digest `image` names, if it names one. */
export const rawManifest = (tool: string, image: ImageLocation, bytes: Uint8Array): Effect.Effect<RawManifest, TransportError> =>
  Effect.gen(function*() {
    const digest = sha256Digest(bytes)
    if (isDigestReference(image.reference) && digest !== image.reference) {
      return yield* new DigestMismatch({ what: describeLocation(image), expected: image.reference, actual: digest })
    }
    const mediaType = yield* Effect.try({
      try: () => manifestMediaType(bytes),
      catch: () => new TransportFailure({ transport: tool, detail: `${describeLocation(image)}: manifest is not JSON` })
    })
    return { digest, mediaType, size: bytes.length, bytes }
  })

/** How a tool copies, for `guardedCopy`. */
export interface ToolCopy {
  readonly tool: string
  /** what the target tag holds now (None: absent) */
  readonly look: (image: ImageLocation) => Effect.Effect<Option.Option<ManifestDescriptor>, TransportError>
  /** the tool's copy of `from` (the source by digest) to `target`, its tag included; `source` as the caller named it */
  readonly run: (from: ImageLocation, target: ImageLocation, source: ImageLocation) => Effect.Effect<unknown, TransportError>
}

/**
 * The Transport's `copy` of a tool that copies an index whole (no index of our own) and writes
 * a tag unconditionally: a last look first (another writer may have taken the tag meanwhile),
 * then the tool, then the tag read back — the tool must not have rewritten anything. The tool
 * does not say what it moved.
 */
export const guardedCopy = ({ look, run, tool }: ToolCopy): TransportShape["copy"] => (source, target, manifest, root) =>
  root !== undefined
    ? Effect.fail(ownIndexRefused(tool, target))
    : Effect.gen(function*() {
      if ((yield* lastLook(look, target, manifest.digest)) === "ours") return noCopy()
      // By digest: the tag cannot move between Resolve and the copy.
      yield* run(withReference(source, manifest.digest), target, source)
      const written = yield* look(target)
      if (Option.isNone(written)) return yield* new ImageNotFound({ image: describeLocation(target) })
      if (written.value.digest !== manifest.digest) {
        return yield* new DigestMismatch({ what: `${tool} copy to ${describeLocation(target)}`, expected: manifest.digest, actual: written.value.digest })
      }
      return noCopy(1)
    })

/** The Transport's small reads and writes, through the registry client (a tool has no command to push one manifest or blob). */
export const throughRegistryClient = (registry: ImageStore): Pick<TransportShape, "blob" | "referrers" | "listTags" | "putManifest" | "putBlob"> => ({
  blob: registry.getBlob,
  referrers: registry.referrers,
  listTags: registry.listTags,
  putManifest: registry.putManifest,
  putBlob: registry.putBlob
})
