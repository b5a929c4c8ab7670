/**
 * One image to one target through the five steps — Resolve and CheckTarget side by side, then
 * Compare, Copy and Sign — ending in its result. The result is built from what the steps
 * found (the image as resolved), never from variables set along the way; the progress view
 * hears of each step from one place (`announce`).
 */
import { Clock, Effect, Either, Fiber, Option } from "effect"
import type { Definition, ImageEntry } from "../definition/Definition.ts"
import { locate } from "../definition/Locate.ts"
import type { RegistryError } from "../model/Errors.ts"
import type {
  DigestMismatch,
  ImageNotFound,
  PlatformMismatch,
  RateLimited,
  RegistryUnavailable,
  RepositoryNotFound,
  ResponseTooLarge,
  SourceNotFound,
  TagTaken,
  TransportError,
  TransportFailure,
  Unauthorized,
  UnsupportedUrl
} from "../model/Errors.ts"
import type { ImageLocation } from "../model/Location.ts"
import type { ManifestDescriptor } from "../model/Manifest.ts"
import * as Progress from "../model/Progress.ts"
import type { Step } from "../model/Progress.ts"
import { imageResult } from "../model/Result.ts"
import type { ImageResult, ImageStatus } from "../model/Result.ts"
import { makeMemo } from "../model/Memo.ts"
import { formatTarget } from "../model/Target.ts"
import type { SigningFailed } from "../signing/Signer.ts"
import type { RepositoriesShape } from "../transport/Repositories.ts"
import type { CheckTarget } from "./CheckTarget.ts"
import type { Compare, TagConflict } from "./Compare.ts"
import type { Copy } from "./Copy.ts"
import { imageWork } from "./ImageWork.ts"
import type { PlatformRead, Resolve, ResolvedImage, ResolveError } from "./Resolve.ts"
import type { Sign, SignOutcome } from "./Sign.ts"
import type { SyncSettingsShape } from "./SyncSettings.ts"

/** One image's result before the end-of-run read-back, and the tag it wrote, if any. */
export interface Processed {
  readonly result: ImageResult
  readonly written: ImageLocation | undefined
}

/** What every target of one entry shares: the source resolved once, its platform checked once, its size measured once. */
export interface SourceWork {
  readonly resolve: Effect.Effect<ResolvedImage, ResolveError>
  readonly checkPlatform: (image: ResolvedImage) => Effect.Effect<PlatformRead | undefined, ResolveError>
  readonly size: (image: ResolvedImage) => Effect.Effect<number, TransportError>
}

/** The step services an image goes through. */
export interface ImageSteps {
  readonly resolve: Resolve["Type"]
  readonly checkTarget: CheckTarget["Type"]
  readonly compare: Compare["Type"]
  readonly copy: Copy["Type"]
  readonly sign: Sign["Type"]
  readonly repositories: RepositoriesShape
  readonly settings: SyncSettingsShape
}

/** Every error an image's steps may end in: each becomes the image's result. */
type ImageError =
  | TagConflict
  | TagTaken
  | SourceNotFound
  | PlatformMismatch
  | DigestMismatch
  | ImageNotFound
  | Unauthorized
  | RegistryUnavailable
  | TransportFailure
  | UnsupportedUrl
  | ResponseTooLarge
  | RateLimited
  | RepositoryNotFound
  | RegistryError
  | SigningFailed

/** What the result says of the image before (or whatever) the later steps did: known once it is resolved. */
interface Found {
  readonly digest?: string | undefined
  readonly sourceDigest?: string | undefined
  readonly warnings: ReadonlyArray<string>
}

const foundOf = (image: ResolvedImage): Found => ({ digest: image.manifest.digest, sourceDigest: image.sourceDigest, warnings: image.warnings })

/** The fields a step adds to a result. */
type Extra = Partial<Omit<ImageResult, "source" | "target" | "digest" | "sourceDigest" | "status" | "warnings">>

const done = (result: ImageResult): Processed => ({ result, written: undefined })

/** An image's result: what was found of it, its status, and what the steps add. */
const resultFor = (entry: ImageEntry) => {
  const target = formatTarget(entry.target)
  return (found: Found, status: ImageStatus, extra: Extra = {}): ImageResult =>
    imageResult({
      source: entry.source,
      target,
      digest: found.digest,
      ...(found.sourceDigest !== undefined && found.sourceDigest !== found.digest ? { sourceDigest: found.sourceDigest } : {}),
      status,
      warnings: found.warnings,
      ...extra
    })
}

/** An error of the steps (or a bug in them) as the image's result, with what was found before it; `hint` adds the caller's advice. */
const settleFor = (entry: ImageEntry, hint: SyncSettingsShape["hint"]) => {
  const resultOf = resultFor(entry)
  return (found: Found) => (work: Effect.Effect<Processed, ImageError>): Effect.Effect<Processed> => {
    const fail = (status: ImageStatus) => (e: ImageError) => {
      const advice = hint?.(e)
      return Effect.succeed(done(resultOf(found, status, { error: advice === undefined ? e.message : `${e.message} (${advice})`, errorType: e._tag })))
    }
    const failedByBug = (message: string) => done(resultOf(found, "failed", { error: message, errorType: "Defect" }))
    return imageWork(
      entry.source,
      Effect.catchTags(work, {
        TagConflict: fail("conflict"),
        TagTaken: fail("conflict"),
        SourceNotFound: fail("failed"),
        PlatformMismatch: fail("failed"),
        DigestMismatch: fail("failed"),
        ImageNotFound: fail("failed"),
        Unauthorized: fail("failed"),
        RegistryUnavailable: fail("failed"),
        TransportFailure: fail("failed"),
        UnsupportedUrl: fail("failed"),
        ResponseTooLarge: fail("failed"),
        RateLimited: fail("failed"),
        RepositoryNotFound: fail("failed"),
        RegistryError: fail("failed"),
        SigningFailed: fail("failed")
      }),
      failedByBug
    )
  }
}

/** The processing of one image, over the step services. */
export const makeProcessImage = (steps: ImageSteps) => {
  const { checkTarget, compare, copy, repositories, resolve, settings, sign } = steps
  const announce = (step: Step) => Progress.report({ _tag: "StepStarted", step })
  /** The Sign step: shown when there is a signer (carrying upstream signatures alone is part of the copy). */
  const signStep = (image: ResolvedImage, copied: boolean, started: number): Effect.Effect<SignOutcome, SigningFailed> =>
    Effect.zipRight(sign.signs ? announce("sign") : Effect.void, sign.sign(image, copied, started))

  /** The work on the source that every target of an entry shares: done once, for the first target that needs it. */
  const sourceWork = (entry: ImageEntry, definition: Definition): SourceWork => {
    // One target (the usual case) shares with nobody: no fiber of its own per image.
    if (entry.targets.length === 1) return { resolve: resolve.resolve(entry, definition), checkPlatform: resolve.checkPlatform, size: resolve.size }
    const resolved = makeMemo<ResolvedImage, ResolveError>()
    const platform = makeMemo<PlatformRead | undefined, ResolveError>()
    const measured = makeMemo<number, TransportError>()
    return {
      resolve: resolved.get("source", () => resolve.resolve(entry, definition)),
      checkPlatform: (image) => platform.get("platform", () => resolve.checkPlatform(image)),
      size: (image) => measured.get("size", () => resolve.size(image))
    }
  }

  const processImage = (entry: ImageEntry, definition: Definition, shared: SourceWork = sourceWork(entry, definition)): Effect.Effect<Processed> => {
    const resultOf = resultFor(entry)
    const settle = settleFor(entry, settings.hint)

    /** From a resolved image on: compare with what the target holds, then sign, plan or copy. */
    const afterResolve = (image: ResolvedImage, existing: Option.Option<ManifestDescriptor>, started: number): Effect.Effect<Processed, ImageError> =>
      Effect.gen(function*() {
        const found = foundOf(image)
        yield* announce("compare")
        if ((yield* compare.compare(image, existing)) === "present") {
          // An image that is present but unsigned gets signed (the Sign step writes nothing in a dry run).
          return done(resultOf(found, "present", yield* signStep(image, false, started)))
        }
        const fetched = yield* shared.checkPlatform(image)
        const toCopy = fetched === undefined ? image : { ...image, fetched }
        if (settings.dryRun) {
          const wouldCreateRepository = yield* repositories.wouldCreate(image.target)
          const signed = yield* sign.sign(image, false, started)
          const sizeBytes = settings.measure ? yield* shared.size(toCopy) : undefined
          return done(
            resultOf(found, "planned", {
              ...signed,
              ...(sizeBytes !== undefined ? { sizeBytes } : {}),
              ...(wouldCreateRepository ? { wouldCreateRepository } : {})
            })
          )
        }
        yield* announce("copy")
        // Before the first write: a registry that does not create repositories on push gets it made (createRepositories).
        const repositoryCreated = yield* repositories.ensure(image.target)
        const copied = yield* copy.copy(toCopy)
        const signed = yield* signStep(image, true, started)
        const extra = { ...signed, bytesCopied: copied.bytesCopied, ...(repositoryCreated ? { repositoryCreated } : {}) }
        return { result: resultOf(found, "synced", extra), written: image.target }
      })

    const steps = (started: number): Effect.Effect<Processed> =>
      Effect.gen(function*() {
        yield* announce("resolve")
        const pinned = entry.reference.digest
        const located = locate(entry, definition)
        // A pinned entry whose target tag already holds its digest needs nothing from the
        // source: the target is asked first, and the source only when there is more to do.
        const early = pinned === undefined ? undefined : yield* checkTarget.check(located)
        if (early !== undefined && Option.isSome(early) && early.value.digest === pinned) {
          const image = resolve.resolvedFromTarget(entry, located, early.value)
          return yield* settle(foundOf(image))(Effect.map(signStep(image, false, started), (signed) => done(resultOf(foundOf(image), "present", signed))))
        }
        // Otherwise the target tag does not depend on the source: both HEADs go out at once. The
        // source's error wins (it is the one to fix first), so the check's waits until Resolve is
        // through. A forked check and a join cost a fraction of a concurrent Effect.all per image.
        const checking = early === undefined ? yield* Effect.fork(Effect.either(checkTarget.check(located))) : undefined
        const resolved = yield* shared.resolve
        const checked = checking === undefined ? Either.right(early!) : yield* Fiber.join(checking)
        // Resolved once for the entry; this target's location and name.
        const image: ResolvedImage = { ...resolved, entry, target: located.target }
        for (const w of image.warnings) yield* Effect.logWarning(`${entry.source}: ${w}`)
        return yield* settle(foundOf(image))(Effect.flatMap(checked, (existing) => afterResolve(image, existing, started)))
      }).pipe(settle({ warnings: [] }))

    return Effect.flatMap(Clock.currentTimeMillis, (started) =>
      Effect.flatMap(steps(started), (processed) =>
        // durationMs is stamped when the image is done, from the Clock
        Effect.map(Clock.currentTimeMillis, (now): Processed => ({ ...processed, result: { ...processed.result, durationMs: now - started } }))))
  }
  return { processImage, sourceWork }
}

/** The shared-source work of an entry, and the processing of one of its targets. */
export type ProcessImage = ReturnType<typeof makeProcessImage>
