/**
 * The effect/Schema of the definition file: the one description of its shape, used to decode
 * it (strictly: unknown keys are errors) and to generate its JSON Schema (`image-syncer schema`).
 */
import { Schema } from "effect"
import { CLOUDS, TAG_MUTABILITIES } from "../model/Cloud.ts"

const RegistryOptionsSchema = Schema.Struct({
  mirror: Schema.optional(
    Schema.String.annotations({
      description:
        "Read this registry's images from this host[:port] instead. Changes only where bytes come from, never the image's identity or target path."
    })
  ),
  insecure: Schema.optional(
    Schema.Boolean.annotations({
      description: "Allow plain HTTP / unverified TLS for this host. Loopback hosts never need it."
    })
  ),
  maxRequests: Schema.optional(
    Schema.Number.annotations({
      description: "At most this many requests in flight to this host (default 32), for registries that ask clients to hold back.",
      jsonSchema: {
        type: "integer",
        minimum: 1,
        maximum: 256,
        description: "At most this many requests in flight to this host (default 32), for registries that ask clients to hold back."
      }
    })
  ),
  ca: Schema.optional(
    Schema.String.annotations({
      description: "A PEM file of CA certificates trusted for this host, beside the system's (a private CA). Relative to the definition file."
    })
  ),
  clientCert: Schema.optional(
    Schema.String.annotations({
      description: "A PEM client certificate for this host (mutual TLS), with clientKey. Relative to the definition file."
    })
  ),
  clientKey: Schema.optional(
    Schema.String.annotations({
      description: "The PEM private key of clientCert (mutual TLS). Relative to the definition file."
    })
  ),
  cloud: Schema.optional(
    Schema.Literal(...CLOUDS).annotations({
      description:
        "Whose ambient identity this host uses when no key file, token, auth plugin, docker config or podman entry answers: ecr (AWS SDK default chain), gcp (Application Default Credentials). Inferred from ECR, gcr.io and *-docker.pkg.dev host names; none turns it off. azure is not built in: give ACR credentials through docker config."
    })
  ),
  region: Schema.optional(
    Schema.String.annotations({ description: "ECR: the AWS region of the registry (default: the host name's, else AWS_REGION / the AWS config)." })
  ),
  registryId: Schema.optional(
    Schema.String.annotations({ description: "ECR: the 12-digit AWS account id of the registry (default: the host name's, else the caller's account)." })
  ),
  createRepositories: Schema.optional(
    Schema.Boolean.annotations({
      description: "ECR targets: create a missing repository before the first write (wins over the file's top-level createRepositories)."
    })
  ),
  tagMutability: Schema.optional(
    Schema.Literal(...TAG_MUTABILITIES).annotations({
      description: "ECR: the tag mutability of repositories created on demand (default IMMUTABLE)."
    })
  )
}).annotations({ identifier: "RegistryOptions", description: "Options for one source or target registry host." })

const TagRuleSchema = Schema.Struct({
  semver: Schema.optional(
    Schema.String.annotations({ description: "A semver range as the `semver` npm package reads it, e.g. \">=0.11.0 <0.12.0\" or \"^1.2\"." })
  ),
  match: Schema.optional(Schema.String.annotations({ description: "A regular expression the tag must match." })),
  exclude: Schema.optional(Schema.String.annotations({ description: "A regular expression the tag must not match." })),
  latest: Schema.optional(
    Schema.Number.annotations({
      description: "Then keep the N highest tags by semver precedence (tags that are not semver are left out).",
      jsonSchema: {
        type: "integer",
        minimum: 1,
        description: "Then keep the N highest tags by semver precedence (tags that are not semver are left out)."
      }
    })
  ),
  prerelease: Schema.optional(
    Schema.Boolean.annotations({
      description: "true: the semver range takes pre-releases (\"1.2.0-rc.1\"); false: it never does. Unset: without match it does not; with match a suffixed tag (\"0.11.1-debian-11-r69\") is checked as its release (0.11.1)."
    })
  )
}).annotations({
  identifier: "TagRule",
  description: "Which tags of the source repository to sync (at least one of semver and match); each is synced to the same tag in the target, with the entry's amd64Only or platforms."
})

const PlatformsSchema = Schema.Array(Schema.String.annotations({ description: "os/architecture[/variant], e.g. \"linux/amd64\", \"linux/arm64\", \"linux/arm/v7\"." }))

const ImageEntrySchema = Schema.Struct({
  source: Schema.String.annotations({
    description: "Source image reference (Docker rules): \"busybox\", \"gcr.io/distroless/static:nonroot\", \"name@sha256:…\"."
  }),
  tag: Schema.optional(
    Schema.String.annotations({
      description: "Target tag; required when source is pinned by digest. Defaults to the source tag."
    })
  ),
  amd64Only: Schema.optional(
    Schema.Boolean.annotations({
      description: "The source is a single-platform linux/amd64 image rather than a multi-platform index (with tags: every selected tag; an index among them is copied whole, with a warning). Not with platforms."
    })
  ),
  tags: Schema.optional(TagRuleSchema),
  platforms: Schema.optional(
    PlatformsSchema.annotations({
      description:
        "Only these platforms: of a multi-platform index, the listed children in an index of their own (annotated with the source index digest); a single-platform image only when its config is one of them. Not with amd64Only."
    })
  )
}).annotations({ identifier: "ImageEntry", description: "One image to sync, or with `tags` a repository whose selected tags are each an image." })

/** The effect/Schema of the file (also used later to generate a JSON Schema — so keep it a plain Schema.Struct with annotations/descriptions, no transforms that break JSONSchema.make). */
export const DefinitionFileSchema = Schema.Struct({
  targetRepoPrefix: Schema.Union(
    Schema.String,
    Schema.Array(Schema.String)
  ).annotations({
    description:
      "Where images go: registry host plus repository prefix, ending with \"/\" (e.g. \"eu.gcr.io/kyma-project/external/\"), or a list of them (every image goes to each). Required unless given on the command line."
  }),
  platforms: Schema.optional(
    PlatformsSchema.annotations({ description: "The default `platforms` of entries that set neither platforms nor amd64Only." })
  ),
  registries: Schema.optional(
    Schema.Record({ key: Schema.String, value: RegistryOptionsSchema }).annotations({
      description: "Per-registry options, keyed by host[:port] (docker.io for Docker Hub)."
    })
  ),
  createRepositories: Schema.optional(
    Schema.Boolean.annotations({
      description: "Create missing repositories on ECR targets before the first write (IMMUTABLE tags unless registries.<host>.tagMutability says otherwise); registries.<host>.createRepositories wins. Default false."
    })
  ),
  images: Schema.NonEmptyArray(ImageEntrySchema).annotations({ description: "The images to sync; at least one." })
}).annotations({
  identifier: "DefinitionFile",
  title: "image-syncer definition file",
  description: "The list of images to copy into the target registry."
})

/** The decoded (but not yet semantically checked) shape of the file. */
export type DefinitionFile = typeof DefinitionFileSchema.Type

/** Decodes a parsed file, reporting every problem and unknown keys. */
export const decodeFile = Schema.decodeUnknownEither(DefinitionFileSchema, { onExcessProperty: "error", errors: "all" })

/** The keys allowed at each level (for did-you-mean). */
export const rootKeys = ["targetRepoPrefix", "platforms", "registries", "createRepositories", "images"] as const
export const entryKeys = ["source", "tag", "amd64Only", "tags", "platforms"] as const
export const tagRuleKeys = ["semver", "match", "exclude", "latest", "prerelease"] as const
export const registryKeys = ["mirror", "insecure", "maxRequests", "ca", "clientCert", "clientKey", "cloud", "region", "registryId", "createRepositories", "tagMutability"] as const
