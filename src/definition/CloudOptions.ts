/**
 * The cloud keys of a definition file, checked: `registries.<host>.cloud`, `region`,
 * `registryId`, `createRepositories`, `tagMutability`, and the top-level `createRepositories`
 * (for ECR targets only, each non-ECR target named).
 */
import { Either, Schema } from "effect"
import { CLOUDS, cloudOf, createsRepositories, ecrHost, TAG_MUTABILITIES } from "../model/Cloud.ts"
import type { CloudOptions } from "../model/Cloud.ts"
import { parseTargetPrefix } from "../model/Target.ts"
import { mustBe, oneOf, optional } from "./Field.ts"
import { isRecord, problemAt, valueAt } from "./Positions.ts"
import type { Located } from "./Positions.ts"
import type { DefinitionProblem } from "./Problems.ts"

// us-east-1, eu-central-2, us-gov-west-1, cn-north-1, us-isob-east-1
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/

const ACCOUNT_ID = /^\d{12}$/

const ECR_ONLY = "(cloud: ecr, or a <account>.dkr.ecr.<region>.amazonaws.com host)"

/** The cloud keys of `registries.<host>`. */
export const cloudFields = {
  cloud: optional(Schema.Literal(...CLOUDS), {
    description:
      "Whose ambient identity this host uses when no key file, token, auth plugin, docker config or podman entry answers: ecr (AWS SDK default chain), gcp (Application Default Credentials). Inferred from ECR, gcr.io and *-docker.pkg.dev host names; none turns it off. azure is not built in: give ACR credentials through docker config.",
    wrongType: oneOf("cloud", CLOUDS)
  }),
  region: optional(Schema.String, {
    description: "ECR: the AWS region of the registry (default: the host name's, else AWS_REGION / the AWS config).",
    wrongType: mustBe("region", "a string")
  }),
  registryId: optional(Schema.String, {
    description: "ECR: the 12-digit AWS account id of the registry (default: the host name's, else the caller's account).",
    wrongType: mustBe("registryId", "a string")
  }),
  createRepositories: optional(Schema.Boolean, {
    description: "ECR targets: create a missing repository before the first write (wins over the file's top-level createRepositories).",
    wrongType: mustBe("createRepositories", "true or false")
  }),
  tagMutability: optional(Schema.Literal(...TAG_MUTABILITIES), {
    description: "ECR: the tag mutability of repositories created on demand (default IMMUTABLE).",
    wrongType: oneOf("tagMutability", TAG_MUTABILITIES)
  })
}

/** The file's top-level `createRepositories`. */
export const createRepositoriesField = optional(Schema.Boolean, {
  description:
    "Create missing repositories on ECR targets before the first write (IMMUTABLE tags unless registries.<host>.tagMutability says otherwise); registries.<host>.createRepositories wins. Default false.",
  wrongType: mustBe("createRepositories", "true or false")
})

/** The cloud options of one raw `registries.<host>` mapping, where their types are right (the schema reports the rest). */
export const cloudOptionsOf = (raw: unknown): CloudOptions => {
  if (!isRecord(raw)) return {}
  const text = (v: unknown) => (typeof v === "string" ? v : undefined)
  const cloud = CLOUDS.find((c) => c === raw.cloud)
  const region = text(raw.region)
  const registryId = text(raw.registryId)
  const tagMutability = TAG_MUTABILITIES.find((m) => m === raw.tagMutability)
  return {
    ...(cloud !== undefined ? { cloud } : {}),
    ...(region !== undefined ? { region } : {}),
    ...(registryId !== undefined ? { registryId } : {}),
    ...(typeof raw.createRepositories === "boolean" ? { createRepositories: raw.createRepositories } : {}),
    ...(tagMutability !== undefined ? { tagMutability } : {})
  }
}

/** Every problem with the cloud keys; `prefixes` are the run's target prefixes (the file's or the command line's). */
export const cloudProblems = (ctx: Located, prefixes: ReadonlyArray<string> | undefined): Array<DefinitionProblem> => {
  const problems: Array<DefinitionProblem> = []
  const registries = valueAt(ctx.root, ["registries"])
  const entries = isRecord(registries) ? Object.entries(registries) : []
  const fileCreates = valueAt(ctx.root, ["createRepositories"]) === true

  for (const [host, raw] of entries) {
    if (!isRecord(raw)) continue
    const at = (key: string) => ["registries", host, key]
    const options = cloudOptionsOf(raw)
    const cloud = cloudOf(host, options)
    const named = ecrHost(host)
    if (raw.cloud === "azure") {
      problems.push(
        problemAt(
          ctx,
          at("cloud"),
          "cloud: azure has no built-in identity yet; give ACR credentials through docker config (a credential helper such as docker-credential-acr-env, or az acr login): see docs/cloud.md"
        )
      )
    }
    if (options.region !== undefined) {
      if (cloud !== "ecr") problems.push(problemAt(ctx, at("region"), `region applies to ECR registries only ${ECR_ONLY}`, true))
      else if (!AWS_REGION.test(options.region)) problems.push(problemAt(ctx, at("region"), `region "${options.region}" is not an AWS region like "eu-west-1"`))
      else if (named !== undefined && named.region !== options.region) {
        problems.push(problemAt(ctx, at("region"), `region "${options.region}" differs from the one in the host name ("${named.region}")`))
      }
    }
    if (options.registryId !== undefined) {
      if (cloud !== "ecr") problems.push(problemAt(ctx, at("registryId"), `registryId applies to ECR registries only ${ECR_ONLY}`, true))
      else if (!ACCOUNT_ID.test(options.registryId)) {
        problems.push(problemAt(ctx, at("registryId"), `registryId must be a 12-digit AWS account id (got "${options.registryId}")`))
      } else if (named !== undefined && named.registryId !== options.registryId) {
        problems.push(problemAt(ctx, at("registryId"), `registryId "${options.registryId}" differs from the account in the host name ("${named.registryId}")`))
      }
    }
    if (options.createRepositories === true && cloud !== "ecr") {
      problems.push(
        problemAt(
          ctx,
          at("createRepositories"),
          `createRepositories is for ECR registries only; ${host} is not ECR${options.cloud === "none" ? " (cloud: none)" : ` ${ECR_ONLY}`}`,
          true
        )
      )
    }
    if (options.tagMutability !== undefined) {
      if (cloud !== "ecr") problems.push(problemAt(ctx, at("tagMutability"), `tagMutability applies to ECR registries only ${ECR_ONLY}`, true))
      else if (!createsRepositories(options, fileCreates)) {
        problems.push(problemAt(ctx, at("tagMutability"), "tagMutability applies to repositories created on demand: set createRepositories: true", true))
      }
    }
  }

  // The file's default covers every target registry that does not say otherwise: each must be ECR.
  if (fileCreates) {
    const seen = new Set<string>()
    for (const prefix of prefixes ?? []) {
      const parsed = parseTargetPrefix(prefix)
      if (Either.isLeft(parsed)) continue
      const host = parsed.right.registry
      if (seen.has(host)) continue
      seen.add(host)
      const raw = entries.find(([h]) => h.toLowerCase() === host.toLowerCase())?.[1]
      const options = cloudOptionsOf(raw)
      if (createsRepositories(options, true) && cloudOf(host, options) !== "ecr") {
        problems.push(
          problemAt(
            ctx,
            ["createRepositories"],
            `createRepositories is for ECR targets only; target registry ${host} is not ECR (set registries."${host}".createRepositories: false, or cloud: ecr if it is ECR under another name)`,
            true
          )
        )
      }
    }
  }
  return problems
}
