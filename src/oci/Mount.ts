/**
 * Cross-repository mounts: `POST ?mount=<digest>&from=<repository>` within one registry. 201:
 * mounted. 202: the registry opened an upload session instead (ECR without blob mounting,
 * registries that do not mount across namespaces): the blob's upload goes on there, with no
 * second POST.
 */
import { Effect } from "effect"
import type { ImageLocation } from "../model/Location.ts"
import { checkReference } from "./ClientContext.ts"
import type { ClientContext } from "./ClientContext.ts"
import type { makeUploads } from "./Upload.ts"

/** The mount operation of a client, on its uploads (which take a session a mount left open). */
export const makeMount = (context: ClientContext, uploads: ReturnType<typeof makeUploads>) => ({
  /** mounts `digest` from repository `from` of the same registry; false when the registry opened an upload instead */
  mountBlob: (image: ImageLocation, digest: string, from: string) =>
    Effect.gen(function*() {
      yield* checkReference(image, digest, "blob digest")
      const query = `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`
      const started = yield* uploads.start(image, query, [context.scope(image), `repository:${from}:pull`])
      if (started.status === 201) return true
      uploads.keepOpened(image, digest, started.session)
      return false
    })
})
