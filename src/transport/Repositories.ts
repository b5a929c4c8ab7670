/**
 * The Repositories service: a target repository made to exist before the first write, for
 * registries that do not create repositories on push (ECR). Each repository is looked at once
 * per run, and created at most once (images of one repository wait on the same creation); one
 * that exists is left as it is. A dry run only asks whether one would be created.
 */
import { Context, Effect, Layer } from "effect"
import type { TransportError } from "../model/Errors.ts"
import type { ImageLocation } from "../model/Location.ts"
import { makeMemo } from "../model/Memo.ts"
import type { Memo } from "../model/Memo.ts"

/** How one cloud looks at and creates repositories (ECR: DescribeRepositories, CreateRepository). */
export interface RepositoryCreator {
  /** true when missing repositories of this target are to be created (its registry asked for it) */
  readonly creates: (target: ImageLocation) => boolean
  /** whether the target's repository exists */
  readonly exists: (target: ImageLocation) => Effect.Effect<boolean, TransportError>
  /** creates the target's repository; "it exists already" (another writer was first) counts as done */
  readonly create: (target: ImageLocation) => Effect.Effect<void, TransportError>
}

/** The Repositories service interface. */
export interface RepositoriesShape {
  /** makes the target's repository exist before the first write; true when this run created it */
  readonly ensure: (target: ImageLocation) => Effect.Effect<boolean, TransportError>
  /** dry run: true when the target's repository is missing and a sync would create it (reads only) */
  readonly wouldCreate: (target: ImageLocation) => Effect.Effect<boolean, TransportError>
}

/** Nothing to create: every registry creates repositories on push, or the run did not ask. */
export const noRepositories: RepositoriesShape = {
  ensure: () => Effect.succeed(false),
  wouldCreate: () => Effect.succeed(false)
}

const keyOf = (target: ImageLocation) => `${target.endpoint.host}/${target.repository}`

/** Repositories created on demand by `creator`: once per repository and run, shared by the images waiting on it. */
export const onDemand = (creator: RepositoryCreator): RepositoriesShape => {
  // A refusal is kept too: every image of that repository fails with it, without asking again.
  const ensured = makeMemo<boolean, TransportError>({ keepFailures: true })
  const looked = makeMemo<boolean, TransportError>({ keepFailures: true })
  const once = (memo: Memo<boolean, TransportError>, target: ImageLocation, work: Effect.Effect<boolean, TransportError>) => memo.get(keyOf(target), () => work)
  return {
    ensure: (target) =>
      creator.creates(target)
        ? once(ensured, target, Effect.flatMap(creator.exists(target), (exists) => (exists ? Effect.succeed(false) : Effect.as(creator.create(target), true))))
        : Effect.succeed(false),
    wouldCreate: (target) => creator.creates(target) ? once(looked, target, Effect.map(creator.exists(target), (exists) => !exists)) : Effect.succeed(false)
  }
}

/** The Repositories service. */
export class Repositories extends Context.Tag("syncer/Repositories")<Repositories, RepositoriesShape>() {
  /** Nothing is ever created. */
  static none: Layer.Layer<Repositories> = Layer.succeed(Repositories, noRepositories)

  /** Missing repositories created by `creator`, where it says so. */
  static onDemand(creator: RepositoryCreator): Layer.Layer<Repositories> {
    return Layer.sync(Repositories, () => onDemand(creator))
  }
}
