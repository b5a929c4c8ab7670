/**
 * Quay (up to 3.11) as a stand-in in front of a real docker-registry:
 * - OCI artifacts of types not on the allow-list are refused. Quay validates an OCI manifest
 *   (PUT with Content-Type `application/vnd.oci.image.manifest.v1+json`) against a schema whose
 *   `config.mediaType` must be the OCI image config or a key of `ALLOWED_OCI_ARTIFACT_TYPES`, and
 *   each layer's `mediaType` an OCI layer type or one listed under those keys (quay/quay
 *   image/oci/__init__.py `register_artifact_type`, image/oci/manifest.py `get_meta_schema`,
 *   config.py `ALLOWED_OCI_ARTIFACT_TYPES`, app.py). A manifest that fails is answered
 *   `400 MANIFEST_INVALID` "manifest invalid" with detail `{"message": "failed to parse manifest:
 *   manifest data does not match schema: …"}` (endpoints/v2/manifest.py `_parse_manifest`,
 *   endpoints/v2/errors.py `ManifestInvalid`). `artifactType` itself is not checked: what gets an
 *   artifact refused is its config (e.g. the empty config `application/vnd.oci.empty.v1+json`
 *   of cosign v3 bundles and most OCI 1.1 artifacts) or a layer type. Quay 3.12 dropped the
 *   check (quay/quay#2597, PROJQUAY-7280, 2024-06, "Deprecate IGNORE_UNKNOWN_MEDIATYPES").
 *   jsonschema's message goes on with the failing schema; the stand-in keeps its first line.
 * - `mount=` without `from=` fails: ggcr sends `mount` only with `from` because "Quay will fail
 *   if we specify a "mount" without a "from"" (google/go-containerregistry
 *   pkg/v1/remote/write.go `initiateUpload`); Quay answered it with `400 INVALID_REQUEST`
 *   "Missing `from` repository argument" until 2021-09 (quay/quay#899, PROJQUAY-2570,
 *   endpoints/v2/blob.py `_try_to_mount_blob`).
 */
import { registryError, startStandIn } from "./StandIn.ts"
import type { Answer, Personality, StandIn, StandInOptions } from "./StandIn.ts"

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
const OCI_IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"

/** The OCI layer types Quay always accepts (image/oci/__init__.py OCI_IMAGE_LAYER_CONTENT_TYPES). */
const OCI_LAYER_TYPES = [
  "application/vnd.oci.image.layer.v1.tar",
  "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.oci.image.layer.v1.tar+zstd",
  "application/vnd.oci.image.layer.nondistributable.v1.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
]

/** Quay's default `ALLOWED_OCI_ARTIFACT_TYPES` (config.py): artifact config type → its layer types. */
export const QUAY_DEFAULT_ARTIFACT_TYPES: Readonly<Record<string, ReadonlyArray<string>>> = {
  "application/vnd.oci.image.config.v1+json": [
    "application/vnd.dev.cosign.simplesigning.v1+json",
    "application/vnd.dsse.envelope.v1+json",
    "text/spdx",
    "text/spdx+xml",
    "text/spdx+json",
    "application/vnd.syft+json",
    "application/vnd.cyclonedx",
    "application/vnd.cyclonedx+xml",
    "application/vnd.cyclonedx+json",
    "application/vnd.in-toto+json"
  ],
  "application/vnd.cncf.helm.config.v1+json": ["application/tar+gzip", "application/vnd.cncf.helm.chart.content.v1.tar+gzip"],
  "application/vnd.oci.source.image.config.v1+json": ["application/vnd.oci.image.layer.v1.tar+gzip"],
  "application/vnd.unknown.config.v1+json": [
    "application/vnd.cncf.openpolicyagent.policy.layer.v1+rego",
    "application/vnd.cncf.openpolicyagent.data.layer.v1+json"
  ]
}

/** Options of startQuay. */
export interface QuayOptions extends StandInOptions {
  /** `ALLOWED_OCI_ARTIFACT_TYPES` (default QUAY_DEFAULT_ARTIFACT_TYPES) */
  readonly allowedArtifactTypes?: Readonly<Record<string, ReadonlyArray<string>>>
}

/** A Python list repr, as jsonschema prints the enum. */
const pythonList = (values: ReadonlyArray<string>): string => `[${values.map((v) => `'${v}'`).join(", ")}]`

const manifestInvalid = (reason: string): Answer =>
  registryError(400, "MANIFEST_INVALID", "manifest invalid", {
    detail: { message: `failed to parse manifest: manifest data does not match schema: ${reason}` }
  })

/** Why Quay refuses this OCI manifest, or undefined when it accepts it. */
export const quayRefusal = (manifest: unknown, allowed: Readonly<Record<string, ReadonlyArray<string>>>): string | undefined => {
  const configTypes = [...new Set([OCI_IMAGE_CONFIG, ...Object.keys(allowed)])]
  const layerTypes = [...new Set([...OCI_LAYER_TYPES, ...Object.values(allowed).flat()])]
  const doc = manifest as { config?: { mediaType?: unknown }; layers?: Array<{ mediaType?: unknown }> }
  const configType = doc.config?.mediaType
  if (typeof configType === "string" && !configTypes.includes(configType)) return `'${configType}' is not one of ${pythonList(configTypes)}`
  for (const layer of doc.layers ?? []) {
    if (typeof layer.mediaType === "string" && !layerTypes.includes(layer.mediaType)) return `'${layer.mediaType}' is not one of ${pythonList(layerTypes)}`
  }
  return undefined
}

/** Quay's quirks as a personality. */
export const quay = (options: QuayOptions = {}): Personality => {
  const allowed = options.allowedArtifactTypes ?? QUAY_DEFAULT_ARTIFACT_TYPES
  return {
    answer: async (request) => {
      const { route, method, url } = request
      if (route.kind === "upload-start" && method === "POST" && url.searchParams.has("mount") && !url.searchParams.has("from")) {
        return registryError(400, "INVALID_REQUEST", "Missing `from` repository argument", { detail: {} })
      }
      if (route.kind === "manifest" && method === "PUT" && request.headers.get("content-type")?.split(";")[0]?.trim() === OCI_MANIFEST) {
        const { bytes } = await request.readBody()
        let manifest: unknown
        try {
          manifest = JSON.parse(new TextDecoder().decode(bytes))
        } catch {
          // not JSON: the registry behind refuses it with its own MANIFEST_INVALID
          return undefined
        }
        const refusal = quayRefusal(manifest, allowed)
        return refusal === undefined ? undefined : manifestInvalid(refusal)
      }
      return undefined
    }
  }
}

/** Starts a Quay stand-in. */
export const startQuay = (options: QuayOptions = {}): Promise<StandIn> => startStandIn(quay(options), options)
