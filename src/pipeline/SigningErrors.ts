/**
 * What a failed write of our signatures says: the transport's error as SigningFailed naming what
 * was being written, and for a tag rewrite an immutable registry refused, what to do instead.
 */
import { Effect } from "effect"
import type { TransportError } from "../model/Errors.ts"
import { SigningFailed } from "../signing/Signer.ts"

/** A transport error while writing `what`, as SigningFailed. */
export const failed = (what: string) => (e: TransportError) => new SigningFailed({ detail: `${what}: ${e.message}` })

/** The registry would not rewrite a tag that adding ours needs rewritten (immutable tags); its message names the tag. */
const refusedRewrite = (e: { readonly message: string }, remedy: string) => new SigningFailed({ detail: `${e.message}; ${remedy}` })

/** What to do when a legacy `.sig`/`.att` tag cannot be rewritten. */
export const LEGACY_REMEDY =
  "a legacy signature is added by rewriting that tag, which immutable tags forbid: sign with --signature-format bundle (an OCI 1.1 referrer, nothing rewritten)"
/** What stands in the way when the referrers fallback index cannot be rewritten. */
export const FALLBACK_REMEDY =
  "the registry has no referrers API, so the referrers fallback index must be rewritten to list a new bundle, which immutable tags forbid"

/** Maps transport errors to SigningFailed (a refused rewrite of an immutable tag with its remedy). */
export const mapErrors = (what: string, remedy: string) => <A>(eff: Effect.Effect<A, TransportError | SigningFailed>): Effect.Effect<A, SigningFailed> =>
  eff.pipe(
    Effect.catchIf(
      (e): e is TransportError => e._tag !== "SigningFailed",
      (e) => Effect.fail(e._tag === "TagTaken" && e.when === "immutable" ? refusedRewrite(e, remedy) : failed(what)(e))
    )
  )
