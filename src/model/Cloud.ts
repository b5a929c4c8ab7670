/**
 * Which cloud a registry host belongs to, for its ambient identity (ECR, Artifact Registry /
 * GCR, ACR) and for repositories created on demand: inferred from the host name, or set with
 * `registries.<host>.cloud` (`none` turns it off). One place for the host patterns.
 */

/** A cloud whose identity a registry may use; `none` means "not this host". */
export type Cloud = "ecr" | "gcp" | "azure" | "none"

/** The values `cloud:` accepts. */
export const CLOUDS: ReadonlyArray<Cloud> = ["ecr", "gcp", "azure", "none"]

/** ECR tag mutability of a repository created on demand (the values CreateRepository accepts without exclusion filters). */
export type TagMutability = "IMMUTABLE" | "MUTABLE"

/** The values `tagMutability:` accepts. */
export const TAG_MUTABILITIES: ReadonlyArray<TagMutability> = ["IMMUTABLE", "MUTABLE"]

/** IMMUTABLE: target tags are never overwritten, the rule this tool keeps anyway. */
export const DEFAULT_TAG_MUTABILITY: TagMutability = "IMMUTABLE"

/** The cloud options of one `registries.<host>` entry. */
export interface CloudOptions {
  readonly cloud?: Cloud
  /** ECR: the AWS region (else the host's, else the SDK's configuration) */
  readonly region?: string
  /** ECR: the 12-digit account id (else the host's, else the caller's account) */
  readonly registryId?: string
  /** ECR: create missing repositories before the first write (wins over the file's top-level value) */
  readonly createRepositories?: boolean
  /** ECR: the tag mutability of repositories created on demand */
  readonly tagMutability?: TagMutability
}

// amazon-ecr-credential-helper's pattern for private ECR hosts (FIPS and dual-stack names too).
const ECR_HOST = /^(\d{12})\.dkr[.-]ecr(?:-fips)?\.([a-z0-9][a-z0-9-]*)\.(?:amazonaws\.com(?:\.cn)?|on\.aws)$/

/** The account and region an ECR host name says: `<account>.dkr.ecr.<region>.amazonaws.com` (and `.com.cn`). */
export const ecrHost = (host: string): { readonly registryId: string; readonly region: string } | undefined => {
  const match = ECR_HOST.exec(host.toLowerCase())
  return match ? { registryId: match[1]!, region: match[2]! } : undefined
}

/** gcr.io, *.gcr.io and Artifact Registry's *-docker.pkg.dev. */
const isGoogleHost = (host: string): boolean => {
  const h = host.toLowerCase()
  return h === "gcr.io" || h.endsWith(".gcr.io") || /^[a-z0-9-]+-docker\.pkg\.dev$/.test(h)
}

/** The cloud a host name says, if any. */
export const inferredCloud = (host: string): Cloud | undefined =>
  ecrHost(host) !== undefined ? "ecr" : isGoogleHost(host) ? "gcp" : /\.azurecr\.(io|cn|us)$/.test(host.toLowerCase()) ? "azure" : undefined

/** The cloud of a host: `cloud:` when set, else what the name says; `none` either way means no cloud. */
export const cloudOf = (host: string, options: CloudOptions | undefined): Cloud | undefined => {
  const cloud = options?.cloud ?? inferredCloud(host)
  return cloud === "none" ? undefined : cloud
}

/** Where an ECR host's API calls go: region and account from the options, else from the host name (undefined: the SDK decides). */
export const ecrLocation = (
  host: string,
  options: CloudOptions | undefined
): { readonly region: string | undefined; readonly registryId: string | undefined } => {
  const named = ecrHost(host)
  return { region: options?.region ?? named?.region, registryId: options?.registryId ?? named?.registryId }
}

/** Whether missing repositories on this target host are created: the host's value wins over the file's. */
export const createsRepositories = (options: CloudOptions | undefined, fileDefault: boolean): boolean => options?.createRepositories ?? fileDefault
