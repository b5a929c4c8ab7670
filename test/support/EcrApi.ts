/**
 * A stand-in for Amazon ECR's API as the AWS SDK speaks it (the AWS JSON 1.1 protocol: `POST /`
 * with `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>` and an
 * `application/x-amz-json-1.1` body), for the real `@aws-sdk/client-ecr` reached through
 * `AWS_ENDPOINT_URL`: GetAuthorizationToken (a password with a configurable expiry),
 * DescribeRepositories and CreateRepository (repositories with their imageTagMutability),
 * errors as ECR answers them (`__type` RepositoryNotFoundException,
 * RepositoryAlreadyExistsException, UnrecognizedClientException). Every call is recorded.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/ (operations and errors)
 */
import { randomBytes } from "node:crypto"

/** One API call as the stand-in saw it (never a secret). */
export interface EcrApiCall {
  /** "GetAuthorizationToken", "DescribeRepositories", "CreateRepository", … */
  readonly operation: string
  /** the region of the SigV4 credential scope */
  readonly region: string | undefined
  /** the access key id the request was signed with */
  readonly accessKeyId: string | undefined
  /** the JSON body (repository names, mutability; GetAuthorizationToken has none) */
  readonly body: Record<string, unknown>
  readonly status: number
}

/** One repository the stand-in holds. */
export interface EcrRepository {
  readonly name: string
  readonly registryId: string
  readonly imageTagMutability: string
}

/** Options of startEcrApi. */
export interface EcrApiOptions {
  /** the account of the registry (default "123456789012") */
  readonly registryId?: string
  /** the access key id the SDK must sign with; others are refused as ECR refuses them (default "AKIDSTANDIN") */
  readonly accessKeyId?: string
  /** seconds a password is valid from when it is handed out (default 43200, ECR's 12 hours) */
  readonly expirySeconds?: number
  /** repositories that exist from the start */
  readonly repositories?: ReadonlyArray<{ readonly name: string; readonly imageTagMutability?: string }>
  /** the stand-in's clock (epoch ms), default Date.now: a test may move it with the run's Clock */
  readonly now?: () => number
  /** refuse CreateRepository with AccessDeniedException (an identity without ecr:CreateRepository) */
  readonly denyCreate?: boolean
}

/** A running ECR API stand-in. */
export interface EcrApiStandIn {
  /** "http://127.0.0.1:PORT": the value of AWS_ENDPOINT_URL */
  readonly url: string
  readonly registryId: string
  readonly accessKeyId: string
  /** every call, in order */
  readonly calls: () => ReadonlyArray<EcrApiCall>
  /** the calls of one operation */
  readonly callsOf: (operation: string) => ReadonlyArray<EcrApiCall>
  /** the repositories held now */
  readonly repositories: () => ReadonlyArray<EcrRepository>
  /** the repository of that name, if it exists */
  readonly repository: (name: string) => EcrRepository | undefined
  /** true for a password this stand-in handed out that has not expired (on its clock) */
  readonly acceptsPassword: (password: string) => boolean
  /** how many passwords were handed out */
  readonly passwordsIssued: () => number
  readonly stop: () => Promise<void>
}

const TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921."

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/x-amz-json-1.1" } })

/** An error as AWS JSON 1.1 services send it: `__type` and `message`, status 400 (or as given). */
const awsError = (type: string, message: string, status = 400): Response => json(status, { __type: type, message })

/** The access key id and region of a SigV4 `Authorization` header (`Credential=AKID/date/region/ecr/aws4_request`). */
const signedBy = (authorization: string | null): { readonly accessKeyId: string | undefined; readonly region: string | undefined } => {
  const match = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/ecr\/aws4_request/.exec(authorization ?? "")
  return { accessKeyId: match?.[1], region: match?.[2] }
}

/** Starts the stand-in (Bun.serve on 127.0.0.1, port 0). */
export const startEcrApi = (options: EcrApiOptions = {}): EcrApiStandIn => {
  const registryId = options.registryId ?? "123456789012"
  const accessKeyId = options.accessKeyId ?? "AKIDSTANDIN"
  const now = options.now ?? Date.now
  const expiryMs = (options.expirySeconds ?? 43_200) * 1000
  const repositories = new Map<string, EcrRepository>()
  for (const r of options.repositories ?? []) repositories.set(r.name, { name: r.name, registryId, imageTagMutability: r.imageTagMutability ?? "MUTABLE" })
  const passwords = new Map<string, number>()
  const log: Array<EcrApiCall> = []

  const describe = (r: EcrRepository, region: string) => ({
    repositoryArn: `arn:aws:ecr:${region}:${r.registryId}:repository/${r.name}`,
    registryId: r.registryId,
    repositoryName: r.name,
    repositoryUri: `${r.registryId}.dkr.ecr.${region}.amazonaws.com/${r.name}`,
    createdAt: 1_700_000_000,
    imageTagMutability: r.imageTagMutability,
    imageScanningConfiguration: { scanOnPush: false },
    encryptionConfiguration: { encryptionType: "AES256" }
  })

  const notFound = (name: string) =>
    awsError("RepositoryNotFoundException", `The repository with name '${name}' does not exist in the registry with id '${registryId}'`)

  const answer = (operation: string, body: Record<string, unknown>, region: string): Response => {
    switch (operation) {
      case "GetAuthorizationToken": {
        const password = randomBytes(24).toString("base64url")
        const expiresAt = now() + expiryMs
        passwords.set(password, expiresAt)
        return json(200, {
          authorizationData: [{
            authorizationToken: Buffer.from(`AWS:${password}`).toString("base64"),
            expiresAt: expiresAt / 1000,
            proxyEndpoint: `https://${registryId}.dkr.ecr.${region}.amazonaws.com`
          }]
        })
      }
      case "DescribeRepositories": {
        const names = Array.isArray(body.repositoryNames) ? body.repositoryNames.map(String) : undefined
        if (names === undefined) return json(200, { repositories: [...repositories.values()].map((r) => describe(r, region)) })
        const missing = names.find((n) => !repositories.has(n))
        if (missing !== undefined) return notFound(missing)
        return json(200, { repositories: names.map((n) => describe(repositories.get(n)!, region)) })
      }
      case "CreateRepository": {
        const name = String(body.repositoryName ?? "")
        if (options.denyCreate === true) {
          return awsError(
            "AccessDeniedException",
            `User: arn:aws:iam::${registryId}:user/standin is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:${region}:${registryId}:repository/${name} because no identity-based policy allows the ecr:CreateRepository action`
          )
        }
        if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(name) || name.length < 2 || name.length > 256) {
          return awsError("InvalidParameterException", `Invalid parameter at 'repositoryName' failed to satisfy constraint: '${name}'`)
        }
        if (repositories.has(name)) {
          return awsError("RepositoryAlreadyExistsException", `The repository with name '${name}' already exists in the registry with id '${registryId}'`)
        }
        const mutability = typeof body.imageTagMutability === "string" ? body.imageTagMutability : "MUTABLE"
        if (!["MUTABLE", "IMMUTABLE", "MUTABLE_WITH_EXCLUSION", "IMMUTABLE_WITH_EXCLUSION"].includes(mutability)) {
          return awsError("InvalidParameterException", `Invalid parameter at 'imageTagMutability' failed to satisfy constraint: '${mutability}'`)
        }
        const created: EcrRepository = { name, registryId, imageTagMutability: mutability }
        repositories.set(name, created)
        return json(200, { repository: describe(created, region) })
      }
      default:
        return awsError("UnknownOperationException", `unknown operation ${operation}`)
    }
  }

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const target = request.headers.get("x-amz-target") ?? ""
      const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target
      const text = request.method === "POST" ? await request.text() : ""
      let body: Record<string, unknown> = {}
      try {
        body = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>)
      } catch {
        body = {}
      }
      const signer = signedBy(request.headers.get("authorization"))
      const record = (res: Response) => {
        log.push({ operation, region: signer.region, accessKeyId: signer.accessKeyId, body, status: res.status })
        return res
      }
      if (request.method !== "POST" || new URL(request.url).pathname !== "/") {
        return record(awsError("UnknownOperationException", "not an ECR API request", 404))
      }
      if (signer.accessKeyId !== accessKeyId) {
        return record(awsError("UnrecognizedClientException", "The security token included in the request is invalid."))
      }
      if (body.registryId !== undefined && body.registryId !== registryId) {
        return record(awsError("AccessDeniedException", `User is not authorized to access registry '${String(body.registryId)}'`))
      }
      return record(answer(operation, body, signer.region ?? "us-east-1"))
    }
  })

  return {
    url: `http://127.0.0.1:${server.port}`,
    registryId,
    accessKeyId,
    calls: () => [...log],
    callsOf: (operation) => log.filter((c) => c.operation === operation),
    repositories: () => [...repositories.values()],
    repository: (name) => repositories.get(name),
    acceptsPassword: (password) => {
      const expiresAt = passwords.get(password)
      return expiresAt !== undefined && expiresAt > now()
    },
    passwordsIssued: () => passwords.size,
    stop: async () => {
      await server.stop(true)
    }
  }
}
