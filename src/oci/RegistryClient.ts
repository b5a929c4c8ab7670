/**
 * A registry client: the operations (Fetch, Push, Mount, Tags, Referrers) over one HTTP stack,
 * shaped as an ImageStore — manifests with exact bytes and verified digests, blobs verified on
 * the way, uploads every registry takes, mounts. Its token requests ask for the access the
 * caller chose (`pull`, or `push`: one token for reads and writes); a read-only client refuses
 * every write at the lowest level, so nothing can slip out of a dry run.
 */
import { Context, Effect, Layer } from "effect"
import type { TransportError } from "../model/Errors.ts"
import type { ImageStore } from "../model/ImageStore.ts"
import type { ImageLocation } from "../model/Location.ts"
import { makeClientContext } from "./ClientContext.ts"
import type { Access } from "./ClientContext.ts"
import { makeFetch } from "./Fetch.ts"
import { defaultRetrySettings } from "./http/RetryPolicy.ts"
import type { RetrySettings } from "./http/RetryPolicy.ts"
import { makeMount } from "./Mount.ts"
import { makePush } from "./Push.ts"
import { makeReferrers } from "./Referrers.ts"
import { RegistryHttp } from "./RegistryHttp.ts"
import { makeTags } from "./Tags.ts"

export type { Access }

/** Settings of a registry client. */
export interface RegistryClientSettings {
  /** refuse every write (dry run) */
  readonly readOnly: boolean
  readonly retry: RetrySettings
  /** what token requests ask for; default `push`, or `pull` when read-only */
  readonly access?: Access
}

/** What a registry client does: an ImageStore, plus mounts. */
export interface RegistryClientShape extends ImageStore {
  /** mounts `digest` from repository `from` of the same registry; false when the registry opened an upload instead (the blob's upload goes on there) */
  readonly mountBlob: (image: ImageLocation, digest: string, from: string) => Effect.Effect<boolean, TransportError>
}

/** A client over `http`. */
export const makeRegistryClient = (http: RegistryHttp["Type"], settings: RegistryClientSettings): RegistryClientShape => {
  const context = makeClientContext(http, {
    access: settings.access ?? (settings.readOnly ? "pull" : "push"),
    readOnly: settings.readOnly,
    retry: settings.retry
  })
  const fetch = makeFetch(context)
  const push = makePush(context, fetch.headManifest, fetch.hasBlob)
  return {
    name: "oci",
    ...fetch,
    putManifest: push.putManifest,
    putBlob: push.putBlob,
    writeBlob: push.writeBlob,
    ...makeMount(context, push.uploads),
    ...makeReferrers(context),
    ...makeTags(context)
  }
}

/** The RegistryClient service: one client (for a program that reads or writes with one access). */
export class RegistryClient extends Context.Tag("image-syncer/oci/RegistryClient")<RegistryClient, RegistryClientShape>() {
  /** A client on the RegistryHttp stack. */
  static layer(settings: RegistryClientSettings = { readOnly: false, retry: defaultRetrySettings }) {
    return Layer.effect(RegistryClient, Effect.map(RegistryHttp, (http) => makeRegistryClient(http, settings)))
  }
}
