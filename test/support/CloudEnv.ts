/**
 * A hermetic cloud environment for a test run: no real ~/.aws, no real metadata server. The
 * AWS SDK reads empty config files and (when a stand-in is given) test credentials and the
 * stand-in's endpoint; instance metadata is off; google-auth-library's metadata server is the
 * stand-in or a closed loopback port, so a missing identity fails at once.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import type { EcrApiStandIn } from "./EcrApi.ts"

/** A loopback port nothing listens on (a server bound and closed). */
export const closedPort = async (): Promise<number> => {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") })
  const port = server.port
  await server.stop(true)
  return port!
}

/** The secret key the stand-in's access key id goes with (the stand-in only checks the key id). */
export const STANDIN_SECRET = "standin-secret-access-key"

/** The environment variables of a hermetic cloud run; `home` is the run's temp HOME (the AWS files are written there). */
export const cloudEnv = (home: string, options: { readonly ecr?: EcrApiStandIn; readonly metadataHost: string }): Record<string, string> => {
  const config = join(home, "aws-config")
  const credentials = join(home, "aws-credentials")
  writeFileSync(config, "")
  writeFileSync(credentials, "")
  return {
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_EC2_METADATA_DISABLED: "true",
    ...(options.ecr
      ? { AWS_ENDPOINT_URL: options.ecr.url, AWS_ACCESS_KEY_ID: options.ecr.accessKeyId, AWS_SECRET_ACCESS_KEY: STANDIN_SECRET }
      : {}),
    GCE_METADATA_HOST: options.metadataHost
  }
}

/** The cloud variables a test process may have inherited, to clear before an in-process run (GOOGLE_APPLICATION_CREDENTIALS, AWS_PROFILE, …). */
export const INHERITED_CLOUD_VARIABLES = [
  "AWS_PROFILE",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_SESSION_TOKEN",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_ROLE_ARN",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_ENDPOINT_URL_ECR",
  "GOOGLE_APPLICATION_CREDENTIALS",
  "CLOUDSDK_CONFIG"
]

/** Sets `vars` in process.env (and clears the inherited cloud ones); returns a function that puts everything back. */
export const setProcessEnv = (vars: Readonly<Record<string, string>>): () => void => {
  const keys = [...new Set([...Object.keys(vars), ...INHERITED_CLOUD_VARIABLES])]
  const saved = new Map(keys.map((k) => [k, process.env[k]]))
  for (const k of INHERITED_CLOUD_VARIABLES) delete process.env[k]
  Object.assign(process.env, vars)
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}
