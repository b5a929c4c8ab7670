/**
 * The run's cloud pieces: one ECR API (its SDK imported on first use) that the ECR credential
 * provider and repositories created on demand share; the Repositories layer wired only when a
 * target registry of the run asks for it (`createRepositories` on an ECR target).
 */
import type { Layer } from "effect"
import type { Definition } from "../definition/Definition.ts"
import { Repositories } from "../transport/Repositories.ts"
import * as EcrApi from "../../plugins/auth/ecrApi.ts"
import { anyCreates, creator } from "../../plugins/auth/ecrRepositories.ts"

/** A fresh ECR API for one run. */
export const runEcrApi = (): EcrApi.EcrApi => EcrApi.make()

/** The Repositories layer the run needs, if any. */
export const repositoriesFor = (definition: Definition, ecr: EcrApi.EcrApi): Layer.Layer<Repositories> | undefined => {
  const targets = [...new Set(definition.images.flatMap((e) => e.targets.map((t) => t.registry)))]
  return anyCreates(definition, targets) ? Repositories.onDemand(creator(ecr, definition)) : undefined
}
