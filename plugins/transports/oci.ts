/**
 * The `oci` transport (default): talks the distribution API directly, a registry on both
 * sides. Copies go through the shared engine (src/transport/CopyTree.ts): blobs first (skip
 * present ones, mount from another repository of the target registry, else stream and
 * verify), then child manifests by digest, then the tag.
 */
import { Effect, Layer } from "effect"
import { RegistryClients } from "../../src/transport/RegistryClients.ts"
import { defaultStoreTransportSettings, storeTransport } from "../../src/transport/StoreTransport.ts"
import type { StoreTransportSettings } from "../../src/transport/StoreTransport.ts"
import { Transport } from "../../src/transport/Transport.ts"

/** Settings of the oci transport. */
export type OciTransportSettings = StoreTransportSettings

/** Builds the oci Transport on the run's registry clients. */
export const make = (settings: OciTransportSettings = defaultStoreTransportSettings) =>
  Effect.map(RegistryClients, (clients) => Transport.of(storeTransport("oci", clients, settings)))

/** The oci transport layer; needs the RegistryClients. */
export const layer = (settings?: OciTransportSettings) => Layer.effect(Transport, make(settings))
