/**
 * ECR repositories created on demand (`createRepositories`): DescribeRepositories, and
 * CreateRepository with the host's `tagMutability` (IMMUTABLE unless it says otherwise) when
 * the repository is missing. What ECR refuses is Unauthorized, anything else a TransportFailure.
 */
import { Effect } from "effect"
import { cloudOf, createsRepositories, DEFAULT_TAG_MUTABILITY, ecrLocation } from "../../src/model/Cloud.ts"
import { TransportFailure, Unauthorized } from "../../src/model/Errors.ts"
import type { ImageLocation, RegistryOptions } from "../../src/model/Location.ts"
import type { RepositoryCreator } from "../../src/transport/Repositories.ts"
import type { EcrApi, EcrCallFailed } from "./ecrApi.ts"
import { NAME } from "./ecr.ts"

/** What the definition says about creating repositories. */
export interface CreationSettings {
  readonly registries: ReadonlyMap<string, RegistryOptions>
  /** the file's top-level `createRepositories` */
  readonly createRepositories?: boolean
}

const asTransportError = (e: EcrCallFailed): Unauthorized | TransportFailure =>
  e.refused
    ? new Unauthorized({ registry: e.where.host, status: 403, detail: `${NAME}: ${e.message}` })
    : new TransportFailure({ transport: NAME, detail: e.message })

/** Whether missing repositories on this ECR host are created. */
const createsOn = (settings: CreationSettings, host: string): boolean => {
  const options = settings.registries.get(host.toLowerCase())
  return cloudOf(host, options) === "ecr" && createsRepositories(options, settings.createRepositories ?? false)
}

/** The creator for the ECR targets whose registry asks for it. */
export const creator = (api: EcrApi, settings: CreationSettings): RepositoryCreator => {
  const optionsOf = (target: ImageLocation) => settings.registries.get(target.endpoint.host.toLowerCase())
  const where = (target: ImageLocation) => ({ host: target.endpoint.host, ...ecrLocation(target.endpoint.host, optionsOf(target)) })
  return {
    creates: (target) => createsOn(settings, target.endpoint.host),
    exists: (target) => api.repositoryExists(where(target), target.repository).pipe(Effect.mapError(asTransportError)),
    create: (target) => {
      const mutability = optionsOf(target)?.tagMutability ?? DEFAULT_TAG_MUTABILITY
      return api.createRepository(where(target), target.repository, mutability).pipe(
        Effect.mapError(asTransportError),
        Effect.tap(() => Effect.logDebug(`created repository ${target.endpoint.host}/${target.repository} (${mutability})`))
      )
    }
  }
}

/** True when some target of the run creates its repositories (then the run needs the creator). */
export const anyCreates = (settings: CreationSettings, targetRegistries: ReadonlyArray<string>): boolean =>
  targetRegistries.some((host) => createsOn(settings, host))
