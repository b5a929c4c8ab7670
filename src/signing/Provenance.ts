/**
 * The record of a copy: an in-toto Statement v1 whose predicate is SLSA provenance v1
 * (https://slsa.dev/provenance/v1). The subject is the target image (repository and digest);
 * the build is "copy this source to this target": `buildType` is `urn:image-syncer:copy:v1`
 * (docs/signing.md describes it), `externalParameters` what the definition asked (the source
 * as written, the target, `platforms`, `amd64Only`, the `tags` rule), `resolvedDependencies`
 * the source with the digest it resolved to, `runDetails` the tool and version and when the
 * image was handled.
 */
import { IN_TOTO_STATEMENT_V1, hexOf, readStatement } from "./Statement.ts"
import type { Statement } from "./Statement.ts"

/** SLSA provenance v1. */
export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
/** Our build type: a registry-to-registry copy by image-syncer, version 1 of this description. */
export const COPY_BUILD_TYPE = "urn:image-syncer:copy:v1"

/** What a provenance statement says about one copy. */
export interface CopyRecord {
  /** the target repository as a registry reference ("registry/repository") */
  readonly subjectName: string
  /** the target digest */
  readonly subjectDigest: string
  /** what the definition asked for */
  readonly parameters: {
    readonly source: string
    readonly target: string
    readonly platforms?: ReadonlyArray<string>
    readonly amd64Only?: boolean
    readonly tags?: unknown
  }
  /** the source, as a docker reference ("docker.io/library/busybox:1.36"), and what it resolved to */
  readonly sourceReference: string
  readonly sourceDigest: string
  readonly sourceMediaType?: string
  /** the host the source was read from, when it is not the registry itself (a mirror) */
  readonly readFrom?: string
  /** false: the image was already in the target (attested on a later run) */
  readonly copied: boolean
  readonly tool: { readonly name: string; readonly version: string }
  readonly startedMillis: number
  readonly finishedMillis: number
}

/** The builder id for a tool and version: `urn:<tool>:builder:<version>`. */
export const builderId = (tool: { readonly name: string; readonly version: string }): string => `urn:${tool.name}:builder:${tool.version}`

/** The statement's bytes. */
export const provenanceStatement = (r: CopyRecord): Uint8Array =>
  new TextEncoder().encode(JSON.stringify({
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: r.subjectName, digest: { sha256: hexOf(r.subjectDigest) } }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: COPY_BUILD_TYPE,
        externalParameters: {
          source: r.parameters.source,
          target: r.parameters.target,
          ...(r.parameters.platforms ? { platforms: r.parameters.platforms } : {}),
          ...(r.parameters.amd64Only ? { amd64Only: true } : {}),
          ...(r.parameters.tags !== undefined ? { tags: r.parameters.tags } : {})
        },
        internalParameters: { copied: r.copied },
        resolvedDependencies: [{
          uri: `docker://${r.sourceReference}`,
          digest: { sha256: hexOf(r.sourceDigest) },
          ...(r.sourceMediaType ? { mediaType: r.sourceMediaType } : {}),
          ...(r.readFrom ? { annotations: { readFrom: r.readFrom } } : {})
        }]
      },
      runDetails: {
        builder: { id: builderId(r.tool), version: { [r.tool.name]: r.tool.version } },
        metadata: { startedOn: new Date(r.startedMillis).toISOString(), finishedOn: new Date(r.finishedMillis).toISOString() }
      }
    }
  }))

/** What `verify --attest` reads back from a provenance statement. */
export interface ReadProvenance {
  readonly statement: Statement
  readonly buildType: string | undefined
  /** the digests of resolvedDependencies ("sha256:<hex>") */
  readonly sourceDigests: ReadonlyArray<string>
  readonly builderId: string | undefined
}

/** Reads a provenance statement of ours (any SLSA v1 statement, in fact); undefined for anything else. */
export const readProvenance = (payload: Uint8Array): ReadProvenance | undefined => {
  const statement = readStatement(payload)
  return statement === undefined ? undefined : provenanceOfStatement(statement)
}

/** What a statement already read says as a provenance; undefined when it is not SLSA provenance v1. */
export const provenanceOfStatement = (statement: Statement): ReadProvenance | undefined => {
  if (statement.predicateType !== SLSA_PROVENANCE_V1) return undefined
  const predicate = statement.predicate as {
    buildDefinition?: { buildType?: unknown; resolvedDependencies?: Array<{ digest?: Record<string, unknown> }> }
    runDetails?: { builder?: { id?: unknown } }
  } | null
  const deps = Array.isArray(predicate?.buildDefinition?.resolvedDependencies) ? predicate.buildDefinition.resolvedDependencies : []
  const sourceDigests = deps.flatMap((d) => (typeof d?.digest?.["sha256"] === "string" ? [`sha256:${d.digest["sha256"]}`] : []))
  const buildType = predicate?.buildDefinition?.buildType
  const id = predicate?.runDetails?.builder?.id
  return {
    statement,
    buildType: typeof buildType === "string" ? buildType : undefined,
    sourceDigests,
    builderId: typeof id === "string" ? id : undefined
  }
}
