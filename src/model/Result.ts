/** What happened to one image: the result every output (stdout, report, JUnit, events) is made from. */

/** What happened to one image. */
export type ImageStatus = "synced" | "present" | "planned" | "conflict" | "failed"

/** One image's outcome, as printed and written to the report. */
export interface ImageResult {
  /** the entry's `source` as written */
  readonly source: string
  /** "registry/repository:tag" */
  readonly target: string
  /** what the target tag holds or will hold (the source digest, or that of a platform subset), when known */
  readonly digest: string | undefined
  /** the source's digest, only when it differs from `digest` (a platform subset) */
  readonly sourceDigest?: string
  readonly status: ImageStatus
  readonly error: string | undefined
  /** the error's tag, for programs: "TagConflict", "SourceNotFound", … */
  readonly errorType: string | undefined
  readonly warnings: ReadonlyArray<string>
  readonly signed: boolean | "already"
  readonly signatureDigest: string | undefined
  /** digest of the referrer manifest holding our signature bundle (bundle format) */
  readonly bundleDigest?: string
  /** dry run: a signature would be added */
  readonly wouldSign: boolean
  /** `--sign-recursive` on an index: children signed by this run */
  readonly childrenSigned?: number
  /** `--attest`: true attested now, "already" a provenance by the key was there, false not (a dry run) */
  readonly attested?: boolean | "already"
  /** the `.att` manifest holding our provenance attestation (legacy format) */
  readonly attestationDigest?: string
  /** the referrer manifest holding our provenance attestation bundle (bundle format) */
  readonly attestationBundleDigest?: string
  /** dry run: an attestation would be added */
  readonly wouldAttest?: boolean
  /** upstream signature artifacts copied along */
  readonly carried: ReadonlyArray<string>
  readonly bytesCopied: number
  /** `plan` only: bytes of the image (manifests, configs, layers) a copy would bring */
  readonly sizeBytes?: number
  /** this run created the target repository before the copy (`createRepositories`) */
  readonly repositoryCreated?: boolean
  /** dry run: the target repository is missing and a sync would create it (`createRepositories`) */
  readonly wouldCreateRepository?: boolean
  readonly durationMs: number
}

/** A result: `fields` over the defaults of an image nothing was done for (no error, nothing signed or copied, no time). */
export const imageResult = (fields: Pick<ImageResult, "source" | "target" | "status"> & Partial<ImageResult>): ImageResult => ({
  digest: undefined,
  error: undefined,
  errorType: undefined,
  warnings: [],
  signed: false,
  signatureDigest: undefined,
  wouldSign: false,
  carried: [],
  bytesCopied: 0,
  durationMs: 0,
  ...fields
})

/** The statuses in the order outputs list them. */
export const STATUSES: ReadonlyArray<ImageStatus> = ["synced", "present", "planned", "conflict", "failed"]

/** True for the statuses that make a run incomplete (exit 1): a conflict or a failure. */
export const failsRun = (status: ImageStatus): boolean => status === "conflict" || status === "failed"
