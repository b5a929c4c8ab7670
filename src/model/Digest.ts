/** Content digests: how we compute them and which ones we accept ("sha256:" + 64 lower-case hex). */
import { createHash } from "node:crypto"

const sha256Re = /^sha256:[a-f0-9]{64}$/

/** "sha256:<hex>" of some bytes. */
export const sha256Digest = (bytes: Uint8Array): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`

/** True for a digest we can verify and put in a path: "sha256:" + 64 lower-case hex. */
export const isSha256Digest = (digest: string): boolean => sha256Re.test(digest)

/** True for a reference that is a digest rather than a tag (the test every layer uses). */
export const isDigestReference = (reference: string): boolean => reference.startsWith("sha256:")
