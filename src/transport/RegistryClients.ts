/**
 * The registry clients of a run, one per side over one HTTP stack (one ping and token cache,
 * one request limit per host): the source side reads with pull access and never writes; the
 * target side asks for push access (one token for its reads and writes), or pull in a dry run,
 * when it refuses every write.
 */
import { Context, Effect, Layer } from "effect"
import type { ImageLocation } from "../model/Location.ts"
import { makeRegistryClient } from "../oci/RegistryClient.ts"
import type { RegistryClientShape } from "../oci/RegistryClient.ts"
import { RegistryHttp } from "../oci/RegistryHttp.ts"
import type { RetrySettings } from "../oci/http/RetryPolicy.ts"

/** The two clients of a run. */
export interface RegistryClientsShape {
  readonly source: RegistryClientShape
  readonly target: RegistryClientShape
  /** the client of the side `image` is on */
  readonly at: (image: ImageLocation) => RegistryClientShape
}

/** The pair of clients from a source and a target client. */
export const clientPair = (source: RegistryClientShape, target: RegistryClientShape): RegistryClientsShape => ({
  source,
  target,
  at: (image) => (image.endpoint.role === "source" ? source : target)
})

/** The RegistryClients service. */
export class RegistryClients extends Context.Tag("syncer/RegistryClients")<RegistryClients, RegistryClientsShape>() {
  /** Both clients on the run's RegistryHttp; in a dry run the target is read-only too. */
  static layer(settings: { readonly dryRun: boolean; readonly retry: RetrySettings }) {
    return Layer.effect(
      RegistryClients,
      Effect.map(RegistryHttp, (http) =>
        clientPair(
          makeRegistryClient(http, { readOnly: true, access: "pull", retry: settings.retry }),
          makeRegistryClient(http, { readOnly: settings.dryRun, retry: settings.retry })
        ))
    )
  }
}

/** One client that hands each call to the client of its location's side. */
export const bySide = (clients: RegistryClientsShape): RegistryClientShape => ({
  name: clients.target.name,
  headManifest: (image) => clients.at(image).headManifest(image),
  getManifest: (image) => clients.at(image).getManifest(image),
  putManifest: (image, bytes, mediaType) => clients.at(image).putManifest(image, bytes, mediaType),
  hasBlob: (image, digest, size) => clients.at(image).hasBlob(image, digest, size),
  getBlob: (image, digest) => clients.at(image).getBlob(image, digest),
  putBlob: (image, digest, bytes) => clients.at(image).putBlob(image, digest, bytes),
  referrers: (image, digest) => clients.at(image).referrers(image, digest),
  listTags: (image) => clients.at(image).listTags(image),
  openBlob: (image, digest, size, budget) => clients.at(image).openBlob(image, digest, size, budget),
  writeBlob: (image, digest, size, open) => clients.at(image).writeBlob(image, digest, size, open),
  mountBlob: (image, digest, from) => clients.at(image).mountBlob(image, digest, from)
})
