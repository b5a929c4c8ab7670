/**
 * cosign's legacy signature layout (oci-protocol.md §5): a simple-signing payload per signed
 * digest, and an OCI image manifest at tag `sha256-<hex>.sig` with one layer per signature
 * (the payload blob, its signature in the `dev.cosignproject.cosign/signature` annotation).
 * Built as bytes once and never re-serialised afterwards.
 */
import { sha256Digest as sha } from "../model/Digest.ts"
import { OCI_CONFIG, OCI_MANIFEST, SIMPLE_SIGNING } from "../model/MediaTypes.ts"
import { isDockerHub } from "../model/Reference.ts"
import { rawArrayElements } from "./JsonText.ts"

/** Annotation holding the base64 signature. */
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"

const encoder = new TextEncoder()

/** cosign writes Docker Hub references as index.docker.io/…. */
export const dockerReference = (registry: string, repository: string): string => `${isDockerHub(registry) ? "index.docker.io" : registry}/${repository}`

/** The payload bytes, compact JSON in Go struct order as cosign writes it. */
export const payloadFor = (reference: string, digest: string): Uint8Array =>
  encoder.encode(
    `{"critical":{"identity":{"docker-reference":${JSON.stringify(reference)}},"image":{"docker-manifest-digest":${
      JSON.stringify(digest)
    }},"type":"cosign container image signature"},"optional":null}`
  )

/** The claims of a payload we care about, or undefined if it is not one. */
export const readPayload = (bytes: Uint8Array): { reference: string; digest: string } | undefined => {
  try {
    const j = JSON.parse(new TextDecoder().decode(bytes)) as {
      critical?: { identity?: { "docker-reference"?: string }; image?: { "docker-manifest-digest"?: string }; type?: string }
    }
    const digest = j.critical?.image?.["docker-manifest-digest"]
    if (!digest || j.critical?.type !== "cosign container image signature") return undefined
    return { reference: j.critical?.identity?.["docker-reference"] ?? "", digest }
  } catch {
    return undefined
  }
}

/** One signature layer. */
export interface SignatureLayer {
  readonly mediaType: string
  readonly digest: string
  readonly size: number
  readonly annotations?: Readonly<Record<string, string>>
}

/** A signature image: its manifest and config, as exact bytes. */
export interface SignatureImage {
  readonly manifest: Uint8Array
  readonly manifestDigest: string
  readonly config: Uint8Array
  readonly configDigest: string
  readonly layers: ReadonlyArray<SignatureLayer>
}

/** A layer of an existing signature manifest: its fields, and its descriptor exactly as written. */
export interface ExistingLayer extends SignatureLayer {
  readonly raw: string
}

/** Reads the layers of an existing signature manifest, keeping each descriptor's exact text. */
export const layersOf = (manifest: Uint8Array): ReadonlyArray<ExistingLayer> => {
  const text = new TextDecoder().decode(manifest)
  const parsed = (JSON.parse(text) as { layers?: Array<SignatureLayer> }).layers ?? []
  const raws = rawArrayElements(text, "layers")
  return parsed.map((l, i) => ({ ...l, raw: raws[i] ?? JSON.stringify(l) }))
}

const descriptorText = (l: SignatureLayer | ExistingLayer): string =>
  "raw" in l
    ? l.raw
    : JSON.stringify({ mediaType: l.mediaType, size: l.size, digest: l.digest, ...(l.annotations ? { annotations: l.annotations } : {}) })

/** Builds the signature image for these layers (config mimics ggcr's empty image + appended layers); existing layers keep their exact descriptor text. */
export const buildSignatureImage = (layers: ReadonlyArray<SignatureLayer | ExistingLayer>): SignatureImage => {
  const config = encoder.encode(
    JSON.stringify({
      architecture: "",
      created: "0001-01-01T00:00:00Z",
      history: layers.map(() => ({ created: "0001-01-01T00:00:00Z" })),
      os: "",
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
      config: {}
    })
  )
  const configDigest = sha(config)
  const configText = JSON.stringify({ mediaType: OCI_CONFIG, size: config.length, digest: configDigest })
  const manifest = encoder.encode(
    `{"schemaVersion":2,"mediaType":${JSON.stringify(OCI_MANIFEST)},"config":${configText},"layers":[${layers.map(descriptorText).join(",")}]}`
  )
  return { manifest, manifestDigest: sha(manifest), config, configDigest, layers }
}

/** A new layer for a payload and its base64 signature. */
export const signatureLayer = (payload: Uint8Array, signatureB64: string): SignatureLayer => ({
  mediaType: SIMPLE_SIGNING,
  digest: sha(payload),
  size: payload.length,
  annotations: { [SIGNATURE_ANNOTATION]: signatureB64 }
})
