/**
 * The pipeline as a whole: the Pipeline service, the layers that wire it for a run, run
 * settings, and the export into an OCI layout. `import { Sync } from "image-syncer"`.
 */
export { exportLayer, pipelineLayer, registryClientLayer, transportContextLayer, transportLayer } from "../composition/Live.ts"
export type { LiveOptions } from "../composition/Live.ts"
export { exportAll, LayoutExport } from "../pipeline/Export.ts"
export type { ExportedImage, ExportError, ExportOutcome } from "../pipeline/Export.ts"
export { Pipeline } from "../pipeline/Pipeline.ts"
export type { OnResult } from "../pipeline/Pipeline.ts"
export { DEFAULT_CONCURRENCY, MAX_CONCURRENCY, SyncSettings } from "../pipeline/SyncSettings.ts"
export type { SyncSettingsShape } from "../pipeline/SyncSettings.ts"
export { defaultSigningSettings, SIGNATURE_FORMATS } from "../signing/Formats.ts"
export type { SignatureFormat, SigningSettings } from "../signing/Formats.ts"
