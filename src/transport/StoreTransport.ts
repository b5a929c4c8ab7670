/**
 * A Transport made of one store per side and the shared copy engine: reads go to the store of
 * the location's side, writes to the target's, copies through CopyTree. The oci transport is
 * a registry on both sides; the layout transports put a layout on one side.
 */
import type { ImageStore } from "../model/ImageStore.ts"
import type { ImageLocation } from "../model/Location.ts"
import { makeCopy } from "./CopyTree.ts"
import type { TransportShape } from "./Transport.ts"

/** Settings of a store-backed transport. */
export interface StoreTransportSettings {
  /** blobs and index children copied at once within one image */
  readonly blobConcurrency: number
}

/** The default: four blobs of one image at once. */
export const defaultStoreTransportSettings: StoreTransportSettings = { blobConcurrency: 4 }

/** A transport named `name` reading sources from `stores.source` and targets from (and writing to) `stores.target`. */
export const storeTransport = (
  name: string,
  stores: { readonly source: ImageStore; readonly target: ImageStore },
  settings: StoreTransportSettings = defaultStoreTransportSettings
): TransportShape => {
  const at = (image: ImageLocation): ImageStore => (image.endpoint.role === "source" ? stores.source : stores.target)
  return {
    name,
    inspect: (image) => at(image).headManifest(image),
    manifest: (image) => at(image).getManifest(image),
    blob: (image, digest) => at(image).getBlob(image, digest),
    referrers: (image, digest) => at(image).referrers(image, digest),
    listTags: (image) => at(image).listTags(image),
    putManifest: (image, bytes, mediaType) => at(image).putManifest(image, bytes, mediaType),
    putBlob: (image, digest, bytes) => at(image).putBlob(image, digest, bytes),
    copy: makeCopy(stores.source, stores.target, { blobConcurrency: settings.blobConcurrency, name }),
    ownIndexes: true
  }
}
