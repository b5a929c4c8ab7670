/** The definition file (images.yaml) as the rest of the program sees it: validated entries and registry options. */
import type { RegistryOptions } from "../model/Location.ts"
import type { ImageReference } from "../model/Reference.ts"
import type { Platform } from "../model/Platform.ts"
import type { TargetReference } from "../model/Target.ts"
import type { TagRule } from "./TagRule.ts"

export type { RegistryOptions }

/** One `images[]` entry, validated, with where it stands in the file. */
export interface ImageEntry {
  readonly index: number
  readonly line: number
  readonly column: number
  readonly source: string
  readonly tag: string | undefined
  readonly amd64Only: boolean
  readonly reference: ImageReference
  /** the first of `targets` (for a `tags` rule entry: with the placeholder tag "latest" until the rule is expanded) */
  readonly target: TargetReference
  /** where the image goes: one target per prefix, in the order of the prefixes */
  readonly targets: ReadonlyArray<TargetReference>
  /** only these platforms: an index's listed children (in an index of their own), or a single-platform image of one of them */
  readonly platforms: ReadonlyArray<Platform> | undefined
  /** the entry's `tags` rule: the entry names a repository, each tag the rule selects is an image */
  readonly tags: TagRule | undefined
  /** an entry made from a `tags` rule: the rule that selected its tag (for the provenance of the copy) */
  readonly selectedBy?: TagRule["spec"] | undefined
}

/** A validated definition file. */
export interface Definition {
  readonly file: string
  /** the first of `targetRepoPrefixes` */
  readonly targetRepoPrefix: string
  /** every target prefix; each image is synced to each */
  readonly targetRepoPrefixes: ReadonlyArray<string>
  readonly registries: ReadonlyMap<string, RegistryOptions>
  /** the TLS files named per registry host (`ca`, `clientCert`, `clientKey`), where the file names them; read by loadDefinition */
  readonly tlsFiles?: ReadonlyMap<string, TlsFiles>
  /** the file's top-level `createRepositories` (default false); `registries.<host>.createRepositories` wins */
  readonly createRepositories?: boolean
  readonly images: ReadonlyArray<ImageEntry>
}

/** A file a definition names, and where it names it. */
export interface FileReference {
  readonly path: string
  readonly line: number
  readonly column: number
}

/** The TLS files of one registry host. */
export interface TlsFiles {
  readonly ca?: FileReference
  readonly clientCert?: FileReference
  readonly clientKey?: FileReference
}
