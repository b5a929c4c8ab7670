/** A stream check shared by every store: the bytes that pass must hash to the digest and add up to the size. */
import { createHash } from "node:crypto"
import { DigestMismatch } from "./Errors.ts"
import type { TransportError } from "./Errors.ts"
import type { BlobBody } from "./ImageStore.ts"

/** `stream` verified against `digest` and `size`: it errors (DigestMismatch, kept as the body's failure) on the first byte too many or at a wrong end. */
export const verifiedBody = (
  stream: ReadableStream<Uint8Array>,
  blob: { readonly digest: string; readonly size: number; readonly where: string }
): BlobBody => {
  const hash = createHash("sha256")
  let seen = 0
  let failure: TransportError | undefined
  const checked = stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform: (chunk, controller) => {
        seen += chunk.length
        if (seen > blob.size) {
          failure = new DigestMismatch({ what: `blob ${blob.where} (more than ${blob.size} bytes)`, expected: blob.digest, actual: "(longer content)" })
          return controller.error(failure)
        }
        hash.update(chunk)
        controller.enqueue(chunk)
      },
      flush: (controller) => {
        const actual = `sha256:${hash.digest("hex")}`
        if (actual !== blob.digest || seen !== blob.size) {
          failure = new DigestMismatch({
            what: `blob ${blob.where}${seen !== blob.size ? ` (${seen} of ${blob.size} bytes)` : ""}`,
            expected: blob.digest,
            actual
          })
          controller.error(failure)
        }
      }
    })
  )
  return { stream: checked, failure: () => failure }
}
