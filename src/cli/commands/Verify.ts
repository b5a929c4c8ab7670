/**
 * `image-syncer verify --images-file F --key cosign.pub`: checks that every target image
 * carries a signature by that key for the digest its tag holds — cosign's legacy `.sig` or a
 * sigstore bundle referrer, either one unless `--signature-format` asks for one (or both);
 * with `--sign-recursive` every child of an index too; with `--attest` a provenance
 * attestation by the key whose subject is the target digest and whose source digest is the
 * one the definition resolves to (its pin, else the source tag now). Read-only.
 */
import { Command, Options } from "@effect/cli"
import { FetchHttpClient } from "@effect/platform"
import { Effect, Either, Layer, Option } from "effect"
import { readTextCapped } from "../../model/InputFile.ts"
import type { Definition, ImageEntry } from "../../definition/Definition.ts"
import { formatTarget } from "../../model/Target.ts"
import { BunContext } from "@effect/platform-bun"
import { transportLayer } from "../../composition/Live.ts"
import { locate, perTarget } from "../../definition/Locate.ts"
import { Transport } from "../../transport/Transport.ts"
import type { TransportShape } from "../../transport/Transport.ts"
import { loadPublicKey } from "../../signing/KeyLoader.ts"
import { formatsOf } from "../../signing/Formats.ts"
import type { SignatureFormat } from "../../signing/Formats.ts"
import { credentialChain } from "../../composition/CredentialChain.ts"
import { checkTargetCredentials } from "../Checks.ts"
import { out } from "../Console.ts"
import { invalid, InvalidInput, SyncIncomplete } from "../Errors.ts"
import { accessToken, attestFor, imagesFile, signatureFormatChoice, signRecursiveFor, targetPrefixes, targetRepoAuthKey, targetRepoPrefix } from "../Flags.ts"
import type { KeyObject } from "node:crypto"
import type { ManifestDescriptor } from "../../model/Manifest.ts"
import { loadDefinition } from "../../definition/Load.ts"

/** The outcome for one image. */
export type VerifyStatus = "verified" | "unsigned" | "unattested" | "missing" | "failed"

/** What verify checks, besides the key. */
interface VerifyOptions {
  /** None: either format satisfies */
  readonly format: Option.Option<SignatureFormat>
  readonly recursive: boolean
  readonly attest: boolean
}

const key = Options.text("key").pipe(
  Options.withDescription("public key (PEM) the signatures must verify with")
)

/** The checks of what counts as ours, shared with the sync (loaded with the formats they read). */
type Ours = typeof import("../../pipeline/OurSignatures.ts")

const shortDigest = (digest: string) => digest.slice(0, 19)

const verifyOne = (
  ours: Ours,
  transport: TransportShape,
  entry: ImageEntry,
  definition: Definition,
  publicKey: KeyObject,
  options: VerifyOptions
) =>
  Effect.gen(function*() {
    const { source, target: location } = locate(entry, definition)
    const head = yield* transport.inspect(location)
    if (Option.isNone(head)) return { status: "missing" as VerifyStatus, digest: undefined, detail: "target tag not found" }
    const top = head.value
    const digest = top.digest

    /** Why `subject` lacks the signatures asked for; undefined when it has them. */
    const unsigned = (subject: ManifestDescriptor, what: string) =>
      Effect.gen(function*() {
        const legacy = () => ours.legacySignatureOf(transport, location, subject.digest, publicKey)
        const bundle = () => Effect.map(ours.bundleSignaturesOf(transport, location, subject.digest, publicKey), (found) => found.length > 0)
        if (Option.isNone(options.format)) {
          if ((yield* legacy()) || (yield* bundle())) return undefined
          return `no signature by this key verifies for ${what} (neither a .sig layer nor a bundle referrer)`
        }
        const wanted = formatsOf(options.format.value)
        if (wanted.legacy && !(yield* legacy())) return `no legacy .sig signature by this key verifies for ${what}`
        if (wanted.bundle && !(yield* bundle())) return `no bundle signature by this key is a referrer of ${what}`
        return undefined
      })

    const topProblem = yield* unsigned(top, "this digest")
    if (topProblem !== undefined) return { status: "unsigned" as VerifyStatus, digest, detail: topProblem }
    if (options.recursive) {
      for (const child of yield* ours.childrenOf(transport, location, top)) {
        const problem = yield* unsigned(child, `child ${shortDigest(child.digest)}… of the index`)
        if (problem !== undefined) return { status: "unsigned" as VerifyStatus, digest, detail: problem }
      }
    }
    if (options.attest) {
      const expected = entry.reference.digest ?? Option.getOrUndefined(yield* transport.inspect(source))?.digest
      const formats = Option.match(options.format, { onNone: () => ({ legacy: true, bundle: true }), onSome: formatsOf })
      const found = yield* ours.provenanceOf(transport, location, digest, publicKey, formats)
      const statements = [...found.legacy, ...found.bundle]
      if (statements.length === 0) {
        return { status: "unattested" as VerifyStatus, digest, detail: "no provenance attestation by this key names this digest" }
      }
      if (expected === undefined) return { status: "failed" as VerifyStatus, digest, detail: `source ${entry.source} not found: its digest cannot be compared` }
      const matches = (p: ReturnType<Ours["provenanceSources"]>) => p.includes(expected)
      const inFormat = (list: typeof found.legacy) => list.some((s) => matches(ours.provenanceSources(s)))
      const ok = Option.match(options.format, {
        onNone: () => inFormat(statements),
        onSome: (f) => (!formatsOf(f).legacy || inFormat(found.legacy)) && (!formatsOf(f).bundle || inFormat(found.bundle))
      })
      if (!ok) {
        const named = [...new Set(statements.flatMap((s) => ours.provenanceSources(s)))].map(shortDigest).join(", ")
        return {
          status: "unattested" as VerifyStatus,
          digest,
          detail: `the provenance by this key names source ${named || "(none)"}…, but ${entry.source} resolves to ${expected}`
        }
      }
    }
    return { status: "verified" as VerifyStatus, digest, detail: "" }
  }).pipe(
    Effect.catchTags({
      ImageNotFound: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message }),
      Unauthorized: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message }),
      RegistryUnavailable: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message }),
      DigestMismatch: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message }),
      TransportFailure: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message }),
      TagTaken: (e) => Effect.succeed({ status: "failed" as VerifyStatus, digest: undefined, detail: e.message }),
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
  {
    imagesFile,
    key,
    targetRepoAuthKey,
    accessToken,
    targetRepoPrefix,
    signatureFormat: signatureFormatChoice("the signatures that must be there: legacy (.sig), bundle (referrers) or both; by default either satisfies"),
    signRecursive: signRecursiveFor("every child of an index must be signed too"),
    attest: attestFor("each image must have a provenance attestation by the key naming its digest and the source digest the definition resolves to")
  },
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
      const providers = yield* credentialChain({ ...flags, authPlugins: [], registries: definition.registries }).pipe(Effect.mapError(invalid))
      const ours: Ours = yield* Effect.promise(() => import("../../pipeline/OurSignatures.ts"))
      const options: VerifyOptions = { format: flags.signatureFormat, recursive: flags.signRecursive, attest: flags.attest }
      const results = yield* Effect.flatMap(Transport, (transport) =>
        Effect.forEach(definition.images.flatMap(perTarget), (entry) => {
          return verifyOne(ours, transport, entry, definition, publicKey, options).pipe(
            Effect.tap((r) => out([r.status.padEnd(8), formatTarget(entry.target), r.digest ?? "-", r.detail ? `: ${r.detail}` : ""].join(" ").trimEnd()))
          )
        }, { concurrency: 8 })).pipe(
          Effect.provide(transportLayer({ dryRun: true, credentials: providers }).pipe(Layer.provide(Layer.merge(FetchHttpClient.layer, BunContext.layer))))
        )
      const bad = results.filter((r) => r.status !== "verified")
      yield* out(`${results.length} images: ${results.length - bad.length} verified, ${bad.length} not verified`)
      if (bad.length > 0) return yield* new SyncIncomplete({ failed: bad.length })
    })
).pipe(Command.withDescription("Checks that every target image carries a valid signature by the given key (and, with --attest, a provenance attestation)."))
