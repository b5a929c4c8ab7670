/**
 * The five steps, each a service (Resolve → CheckTarget → Compare → Copy → Sign), and the tag
 * rules' expansion: for programs that run some steps themselves. `import { Steps } from "image-syncer"`.
 */
export { CheckTarget } from "../pipeline/CheckTarget.ts"
export { Compare, TagConflict } from "../pipeline/Compare.ts"
export type { Decision } from "../pipeline/Compare.ts"
export { Copy } from "../pipeline/Copy.ts"
export { Expand, NoTagsMatched } from "../pipeline/Expand.ts"
export type { Expanded, Slot } from "../pipeline/Expand.ts"
export { Resolve } from "../pipeline/Resolve.ts"
export type { PlatformRead, ResolvedImage, ResolveError } from "../pipeline/Resolve.ts"
export { OurSignatures, Sign } from "../pipeline/Sign.ts"
export type { OursOutcome, SignContext, SignOutcome } from "../pipeline/Sign.ts"
export { TagLists } from "../pipeline/TagLists.ts"
export { carryUpstream } from "../pipeline/Upstream.ts"
export type { Carried, CarryOptions } from "../pipeline/Upstream.ts"
export { Signer, SigningFailed } from "../signing/Signer.ts"
export type { SignerShape } from "../signing/Signer.ts"
