/**
 * Auth provider: Amazon ECR's ambient identity. For `<account>.dkr.ecr.<region>.amazonaws.com`
 * (and `.com.cn`) or any host with `registries.<host>.cloud: ecr`, on either side:
 * GetAuthorizationToken (AWS SDK default credential chain) for the host's region and account,
 * sent as Basic `AWS:<password>`, until shortly before it expires (the chain asks again then).
 * No credentials, no region, or AWS refusing them: the registry's images fail as Unauthorized.
 */
import { Effect, Option } from "effect"
import { cloudOf, ecrLocation } from "../../src/model/Cloud.ts"
import type { RegistryOptions } from "../../src/model/Location.ts"
import { CredentialsFailed } from "../../src/transport/Credentials.ts"
import type { Credential, CredentialProvider } from "../../src/transport/Credentials.ts"
import type { EcrApi } from "./ecrApi.ts"

/** The provider's name in messages. */
export const NAME = "ecr (AWS SDK)"

/** The provider over the run's ECR API and the definition's registry options. */
export const provider = (api: EcrApi, registries: ReadonlyMap<string, RegistryOptions>): CredentialProvider => ({
  name: NAME,
  lookup: (host) => {
    const options = registries.get(host.toLowerCase())
    if (cloudOf(host, options) !== "ecr") return Effect.succeed(Option.none())
    return api.authorizationToken({ host, ...ecrLocation(host, options) }).pipe(
      Effect.map((token) =>
        Option.some<Credential>({
          _tag: "Basic",
          username: token.username,
          password: token.password,
          ...(token.expiresAt !== undefined ? { expiresAt: token.expiresAt } : {})
        })
      ),
      Effect.mapError((e) => new CredentialsFailed({ provider: NAME, detail: e.message, unauthorized: e.refused }))
    )
  }
})
