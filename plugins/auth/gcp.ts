/**
 * Auth provider: Google Cloud's ambient identity, through google-auth-library's Application
 * Default Credentials (a key file named by GOOGLE_APPLICATION_CREDENTIALS, workload identity
 * federation files, gcloud's application_default_credentials.json, the metadata server of
 * GCE/GKE/Cloud Run). An access token is sent as Basic `oauth2accesstoken:<token>` and asked for
 * again before it expires. Targets on gcr.io, *.gcr.io and *-docker.pkg.dev use it unless the
 * host says `cloud: none`; sources only with `cloud: gcp` (public images there are read anonymously).
 * No ADC at all is an error (Unauthorized, naming what was tried) for a host that says
 * `cloud: gcp`; a host known only by its name is then read anonymously, as before (a public
 * mirror's dry run from a fork without secrets). The library is imported on the first lookup that needs it.
 */
import { Clock, Duration, Effect, Option, Redacted } from "effect"
import type { GoogleAuth } from "google-auth-library"
import { cloudOf } from "../../src/model/Cloud.ts"
import type { RegistryOptions } from "../../src/model/Location.ts"
import { CredentialsFailed } from "../../src/transport/Credentials.ts"
import type { Credential, CredentialProvider } from "../../src/transport/Credentials.ts"

type Library = typeof import("google-auth-library")

/** The provider's name in messages. */
export const NAME = "gcp (Application Default Credentials)"

/** The scope Artifact Registry and GCR accept for pushes and pulls. */
const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"

/** Finding credentials and getting a token never waits longer (a metadata server that does not answer). */
const LOOKUP_TIMEOUT = Duration.seconds(30)

const TRIED =
  "tried GOOGLE_APPLICATION_CREDENTIALS, gcloud's application_default_credentials.json and the metadata server (GCE_METADATA_HOST, else metadata.google.internal)"

// google-auth-library's words when it finds no credentials at all (GoogleAuthExceptionMessages.NO_ADC_FOUND).
const NO_ADC = /could not load the default credentials/i

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0]!.trim()

/** An access token and how long it has left (ms), as the library says. */
interface Issued {
  readonly token: string
  readonly leftMs: number | undefined
}

/** The provider over the definition's registry options; `load` imports google-auth-library (on the first lookup for a Google host). */
export const provider = (
  registries: ReadonlyMap<string, RegistryOptions>,
  load: () => Promise<Library> = () => import("google-auth-library")
): CredentialProvider => {
  let auth: Promise<GoogleAuth> | undefined

  const issue = async (): Promise<Issued> => {
    const google = await (auth ??= load().then((library) => new library.GoogleAuth({ scopes: [CLOUD_PLATFORM] })))
    const client = await google.getClient()
    const { token } = await client.getAccessToken()
    if (!token) throw new Error("the credentials gave no access token")
    const expiry = client.credentials?.expiry_date
    // The library stamps expiry on the wall clock; the chain counts on Effect's Clock, so what is carried over is the time left.
    return { token, leftMs: typeof expiry === "number" ? expiry - Date.now() : undefined }
  }

  return {
    name: NAME,
    lookup: (host, role) => {
      const options = registries.get(host.toLowerCase())
      const cloud = role === "target" ? cloudOf(host, options) : options?.cloud
      if (cloud !== "gcp") return Effect.succeed(Option.none())
      const asked = options?.cloud === "gcp"
      return Effect.tryPromise({ try: issue, catch: (e) => firstLine(e) }).pipe(
        Effect.timeoutFail({ duration: LOOKUP_TIMEOUT, onTimeout: () => `no access token within ${Duration.format(LOOKUP_TIMEOUT)} (${TRIED})` }),
        Effect.flatMap((issued) =>
          Effect.map(Clock.currentTimeMillis, (now) =>
            Option.some<Credential>({
              _tag: "Basic",
              username: "oauth2accesstoken",
              password: Redacted.make(issued.token),
              ...(issued.leftMs !== undefined ? { expiresAt: now + issued.leftMs } : {})
            }))
        ),
        Effect.catchAll((text) => {
          const none = NO_ADC.test(text)
          // A host known only by its name goes on anonymously, as it did before this provider existed.
          if (none && !asked) return Effect.succeed(Option.none<Credential>())
          const detail = none ? `no Application Default Credentials found (${TRIED})` : text.startsWith("no access token") ? text : `no access token: ${text}`
          return Effect.fail(new CredentialsFailed({ provider: NAME, detail, unauthorized: true }))
        })
      )
    }
  }
}
