/**
 * Amazon ECR's API through the AWS SDK (`@aws-sdk/client-ecr`, its default credential chain
 * and region resolution): GetAuthorizationToken, DescribeRepositories, CreateRepository. The
 * SDK is imported on the first call only, so a run without an ECR registry never loads it; one
 * client per region serves both the credentials and the repositories of a run.
 */
import { Data, Duration, Effect, Redacted } from "effect"
import type { ECRClient } from "@aws-sdk/client-ecr"
import type { TagMutability } from "../../src/model/Cloud.ts"

type Sdk = typeof import("@aws-sdk/client-ecr")

/** Which registry a call is about: its host (for messages), region and account (undefined: the SDK's / the caller's). */
export interface EcrWhere {
  readonly host: string
  readonly region: string | undefined
  readonly registryId: string | undefined
}

/** What GetAuthorizationToken hands out: Basic credentials and when they expire (epoch ms). */
export interface EcrToken {
  readonly username: string
  readonly password: Redacted.Redacted<string>
  readonly expiresAt: number | undefined
}

/** An ECR API call failed; `refused`: there were no AWS credentials, no region, or AWS refused them. */
export class EcrCallFailed extends Data.TaggedError("EcrCallFailed")<{
  readonly operation: string
  readonly where: EcrWhere
  readonly refused: boolean
  readonly detail: string
}> {
  override get message() {
    return `${this.operation} for ${this.where.host}${this.where.region ? ` (${this.where.region})` : ""}: ${this.detail}`
  }
}

/** The ECR API of a run. */
export interface EcrApi {
  readonly authorizationToken: (where: EcrWhere) => Effect.Effect<EcrToken, EcrCallFailed>
  /** DescribeRepositories for one name: false on RepositoryNotFoundException */
  readonly repositoryExists: (where: EcrWhere, repository: string) => Effect.Effect<boolean, EcrCallFailed>
  /** CreateRepository; RepositoryAlreadyExistsException (another writer was first) counts as done */
  readonly createRepository: (where: EcrWhere, repository: string, tagMutability: TagMutability) => Effect.Effect<void, EcrCallFailed>
}

/** One call never waits longer than this (the SDK retries inside it). */
const CALL_TIMEOUT = Duration.seconds(60)

// What the SDK's default credential chain looks at, for the message when it finds nothing.
const CHAIN =
  "the AWS SDK's default credential chain found none (it tried AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE with the shared config and credentials files, SSO, AWS_WEB_IDENTITY_TOKEN_FILE (IRSA, GitHub OIDC), and the ECS and EC2 instance metadata)"

// AWS's answers that mean "these credentials are not good here".
const REFUSALS = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "ExpiredTokenException",
  "ExpiredToken",
  "AccessDeniedException",
  "AccessDenied",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch"
])

const firstLine = (text: string) => text.split("\n")[0]!.trim()

/** A thrown SDK error as EcrCallFailed: no credentials, no region and refusals are `refused`. */
const failure = (operation: string, where: EcrWhere, error: unknown): EcrCallFailed => {
  const name = error instanceof Error ? error.name : "Error"
  const text = firstLine(error instanceof Error ? error.message : String(error))
  if (name === "CredentialsProviderError") return new EcrCallFailed({ operation, where, refused: true, detail: `no AWS credentials: ${CHAIN}` })
  if (/region is missing/i.test(text)) {
    return new EcrCallFailed({ operation, where, refused: true, detail: `no AWS region: set registries."${where.host}".region, or AWS_REGION` })
  }
  return new EcrCallFailed({
    operation,
    where,
    refused: REFUSALS.has(name),
    detail: `${REFUSALS.has(name) ? "AWS refused the credentials: " : ""}${name}: ${text}`
  })
}

/** The run's ECR API; `load` imports the SDK (on the first call). */
export const make = (load: () => Promise<Sdk> = () => import("@aws-sdk/client-ecr")): EcrApi => {
  let sdk: Promise<Sdk> | undefined
  const clients = new Map<string, ECRClient>()

  /** One SDK call: the client of the region, the command, aborted when interrupted or after CALL_TIMEOUT. */
  const call = <A>(operation: string, where: EcrWhere, send: (s: Sdk, client: ECRClient, signal: AbortSignal) => Promise<A>) =>
    Effect.tryPromise({
      try: async (signal) => {
        const s = await (sdk ??= load())
        const key = where.region ?? ""
        let client = clients.get(key)
        if (client === undefined) {
          client = new s.ECRClient(where.region === undefined ? {} : { region: where.region })
          clients.set(key, client)
        }
        return await send(s, client, signal)
      },
      catch: (error) => failure(operation, where, error)
    }).pipe(
      Effect.timeoutFail({
        duration: CALL_TIMEOUT,
        onTimeout: () => new EcrCallFailed({ operation, where, refused: false, detail: `no answer within ${Duration.format(CALL_TIMEOUT)}` })
      })
    )

  const registryId = (where: EcrWhere) => (where.registryId === undefined ? {} : { registryId: where.registryId })

  const authorizationToken = (where: EcrWhere) =>
    Effect.flatMap(
      call("GetAuthorizationToken", where, (s, client, abortSignal) => client.send(new s.GetAuthorizationTokenCommand({}), { abortSignal })),
      (answer) => {
        const data = answer.authorizationData?.[0]
        // base64("AWS:<password>"), valid for every registry of the account in the region (12 hours).
        const decoded = data?.authorizationToken ? Buffer.from(data.authorizationToken, "base64").toString("utf8") : ""
        const colon = decoded.indexOf(":")
        if (colon <= 0) {
          return Effect.fail(
            new EcrCallFailed({ operation: "GetAuthorizationToken", where, refused: false, detail: "the answer holds no authorization token" })
          )
        }
        return Effect.succeed<EcrToken>({
          username: decoded.slice(0, colon),
          password: Redacted.make(decoded.slice(colon + 1)),
          expiresAt: data?.expiresAt?.getTime()
        })
      }
    )

  const repositoryExists = (where: EcrWhere, repository: string) =>
    call("DescribeRepositories", where, async (s, client, abortSignal) => {
      try {
        await client.send(new s.DescribeRepositoriesCommand({ ...registryId(where), repositoryNames: [repository] }), { abortSignal })
        return true
      } catch (e) {
        if (e instanceof Error && e.name === "RepositoryNotFoundException") return false
        throw e
      }
    })

  const createRepository = (where: EcrWhere, repository: string, tagMutability: TagMutability) =>
    call("CreateRepository", where, async (s, client, abortSignal) => {
      try {
        await client.send(new s.CreateRepositoryCommand({ ...registryId(where), repositoryName: repository, imageTagMutability: tagMutability }), {
          abortSignal
        })
      } catch (e) {
        if (e instanceof Error && e.name === "RepositoryAlreadyExistsException") return
        throw e
      }
    })

  return { authorizationToken, repositoryExists, createRepository }
}
