/**
 * The Transport — the one seam for registry and layout I/O — what a transport layer may use
 * (the registry clients, the credential chain, the process runner), a transport built from two
 * stores, loading one by name or path, and repositories created on demand.
 * `import { Transports } from "image-syncer"`.
 */
export { AuthPluginUnusable, loadAuthPlugin } from "../composition/AuthPluginLoader.ts"
export { builtinTransports, loadTransport, TransportUnusable } from "../composition/TransportLoader.ts"
export { Exec, ProcessFailed } from "../process/Exec.ts"
export type { ExecOptions, ExecResult } from "../process/Exec.ts"
export { Credentials, CredentialsFailed } from "../transport/Credentials.ts"
export type { Credential, CredentialProvider } from "../transport/Credentials.ts"
export { RegistryClients } from "../transport/RegistryClients.ts"
export type { RegistryClientsShape } from "../transport/RegistryClients.ts"
export { noRepositories, onDemand, Repositories } from "../transport/Repositories.ts"
export type { RepositoriesShape, RepositoryCreator } from "../transport/Repositories.ts"
export { defaultStoreTransportSettings, storeTransport } from "../transport/StoreTransport.ts"
export type { StoreTransportSettings } from "../transport/StoreTransport.ts"
export { noCopy, Transport } from "../transport/Transport.ts"
export type { CopyResult, TransportContext, TransportLayer, TransportShape } from "../transport/Transport.ts"
