/**
 * `image-syncer verify --images-file F --key cosign.pub`: checks that every target image
 * carries a cosign signature by that key for the digest its tag holds. Read-only.
 */
import { Command, Options } from "@effect/cli"
import { FetchHttpClient } from "@effect/platform"
import { Effect, Either, Layer, Option } from "effect"
import { readTextCapped } from "../../model/InputFile.ts"
import type { ImageEntry } from "../../definition/Definition.ts"
import { formatTarget } from "../../model/Target.ts"
import { BunContext } from "@effect/platform-bun"
import { transportLayer } from "../../composition/Live.ts"
import { perTarget, targetLocation } from "../../definition/Locate.ts"
import { Transport } from "../../transport/Transport.ts"
import type { TransportShape } from "../../transport/Transport.ts"
import { loadPublicKey } from "../../signing/KeyLoader.ts"
import { layersOf } from "../../signing/SimpleSigning.ts"
import { layerVerifies } from "../../signing/Verify.ts"
import { credentialChain } from "../../composition/CredentialChain.ts"
import { checkTargetCredentials } from "../Checks.ts"
import { out } from "../Console.ts"
import { invalid, InvalidInput, SyncIncomplete } from "../Errors.ts"
import { accessToken, imagesFile, targetPrefixes, targetRepoAuthKey, targetRepoPrefix } from "../Flags.ts"
import type { KeyObject } from "node:crypto"
import { withReference } from "../../model/Location.ts"
import type { ImageLocation } from "../../model/Location.ts"
import { SIMPLE_SIGNING } from "../../model/MediaTypes.ts"
import { signatureTag } from "../../model/Signatures.ts"
import { loadDefinition } from "../../definition/Load.ts"

/** The outcome for one image. */
export type VerifyStatus = "verified" | "unsigned" | "missing" | "failed"


const key = Options.text("key").pipe(
  Options.withDescription("public key (PEM) the signatures must verify with")
)
const verifyOne = (transport: TransportShape, entry: ImageEntry, location: ImageLocation, publicKey: KeyObject) =>
  Effect.gen(function*() {
    const head = yield* transport.inspect(location)
    if (Option.isNone(head)) return { status: "missing" as VerifyStatus, digest: undefined, detail: "target tag not found" }
    const digest = head.value.digest
    const sig = yield* transport.manifest(withReference(location, signatureTag(digest))).pipe(
      Effect.map(Option.some),
      Effect.catchTag("ImageNotFound", () => Effect.succeed(Option.none()))
    )
    if (Option.isNone(sig)) return { status: "unsigned" as VerifyStatus, digest, detail: "no signature" }
    for (const layer of layersOf(sig.value.bytes)) {
      if (layer.mediaType !== SIMPLE_SIGNING) continue
      const payload = yield* transport.blob(location, layer.digest)
      if (layerVerifies(layer, payload, digest, publicKey)) return { status: "verified" as VerifyStatus, digest, detail: "" }
    }
    return { status: "unsigned" as VerifyStatus, digest, detail: "no signature by this key verifies for this digest" }
  }).pipe(
    Effect.catchTags({
      ImageNotFound: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message }),
      Unauthorized: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message }),
      RegistryUnavailable: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message }),
      DigestMismatch: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message }),
      TransportFailure: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message }),
      UnsupportedUrl: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message }),
      ResponseTooLarge: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message }),
      RateLimited: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message }),
      RepositoryNotFound: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message }),
      RegistryError: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message })
    }),
    Effect.map((r) => ({ entry, ...r }))
  )

/** The verify command. */
export const verifyCommand = Command.make(
  "verify",
  { imagesFile, key, targetRepoAuthKey, accessToken, targetRepoPrefix },
  (flags) =>
    Effect.gen(function*() {
      const pem = yield* Effect.tryPromise(() => readTextCapped(flags.key)).pipe(
        Effect.mapError(() => new InvalidInput({ message: `--key ${flags.key}: cannot be read` }))
      )
      const publicKey = yield* Either.match(loadPublicKey(pem, flags.key), {
        onLeft: (e) => Effect.fail(new InvalidInput({ message: e.message })),
        onRight: Effect.succeed
      })
      const definition = yield* loadDefinition(flags.imagesFile, {
        targetRepoPrefix: yield* targetPrefixes(flags.targetRepoPrefix)
      }).pipe(Effect.mapError((e) => new InvalidInput({ message: e.message })))
      yield* checkTargetCredentials(flags)
      const providers = yield* credentialChain({ ...flags, authPlugins: [] }).pipe(Effect.mapError(invalid))
      const results = yield* Effect.flatMap(Transport, (transport) =>
        Effect.forEach(definition.images.flatMap(perTarget), (entry) => {
          return verifyOne(transport, entry, targetLocation(entry, definition), publicKey).pipe(
            Effect.tap((r) =>
              out([r.status.padEnd(8), formatTarget(entry.target), r.digest ?? "-", r.detail ? `: ${r.detail}` : ""].join(" ").trimEnd())
            )
          )
        }, { concurrency: 8 })).pipe(
          Effect.provide(transportLayer({ dryRun: true, credentials: providers }).pipe(Layer.provide(Layer.merge(FetchHttpClient.layer, BunContext.layer))))
        )
      const bad = results.filter((r) => r.status !== "verified")
      yield* out(`${results.length} images: ${results.length - bad.length} verified, ${bad.length} not verified`)
      if (bad.length > 0) return yield* new SyncIncomplete({ failed: bad.length })
    })
).pipe(Command.withDescription("Checks that every target image carries a valid signature by the given key."))
