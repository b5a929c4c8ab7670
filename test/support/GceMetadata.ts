/**
 * A stand-in for the GCE/GKE metadata server as google-auth-library's Application Default
 * Credentials reach it through `GCE_METADATA_HOST`: every request must carry
 * `Metadata-Flavor: Google` and every answer does; `/computeMetadata/v1/instance` (the
 * library's presence check), the project id, and the default service account's access token
 * (`{access_token, expires_in, token_type}`), a new one each time it is asked. Calls are recorded.
 * https://cloud.google.com/compute/docs/metadata/querying-metadata
 */

/** One request the stand-in got. */
export interface MetadataCall {
  readonly path: string
  /** the Metadata-Flavor header was "Google" */
  readonly flavored: boolean
  readonly status: number
}

/** A running metadata stand-in. */
export interface GceMetadata {
  /** "127.0.0.1:PORT": the value of GCE_METADATA_HOST */
  readonly host: string
  readonly calls: () => ReadonlyArray<MetadataCall>
  /** the access tokens handed out, in order */
  readonly tokens: () => ReadonlyArray<string>
  /** the last token handed out (undefined before the first) */
  readonly current: () => string | undefined
  readonly stop: () => Promise<void>
}

const TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"

/** Starts the stand-in; each token is "ya29.standin-<n>" and lives `expiresInSeconds` (default 3599, as GCE gives). */
export const startGceMetadata = (options: { readonly expiresInSeconds?: number; readonly projectId?: string } = {}): GceMetadata => {
  const log: Array<MetadataCall> = []
  const issued: Array<string> = []
  const headers = { "metadata-flavor": "Google" }
  const answer = (path: string): Response => {
    if (path === TOKEN_PATH) {
      const token = `ya29.standin-${issued.length + 1}`
      issued.push(token)
      return Response.json({ access_token: token, expires_in: options.expiresInSeconds ?? 3599, token_type: "Bearer" }, { headers })
    }
    if (path === "/computeMetadata/v1/instance" || path === "/computeMetadata/v1/instance/") {
      return new Response("attributes/\nid\nservice-accounts/\n", { headers })
    }
    if (path === "/computeMetadata/v1/project/project-id") return new Response(options.projectId ?? "standin-project", { headers })
    if (path === "/computeMetadata/v1/instance/service-accounts/default/email") {
      return new Response("syncer@standin-project.iam.gserviceaccount.com", { headers })
    }
    if (path === "/computeMetadata/v1/universe/universe-domain") return new Response("googleapis.com", { headers })
    return new Response("not found", { status: 404, headers })
  }
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request) => {
      const path = new URL(request.url).pathname
      const flavored = request.headers.get("metadata-flavor") === "Google"
      // The real server refuses requests without the header (so a browser cannot be tricked into asking).
      const res = flavored ? answer(path) : new Response("Missing Metadata-Flavor:Google header.", { status: 403, headers })
      log.push({ path, flavored, status: res.status })
      return res
    }
  })
  return {
    host: `127.0.0.1:${server.port}`,
    calls: () => [...log],
    tokens: () => [...issued],
    current: () => issued[issued.length - 1],
    stop: async () => {
      await server.stop(true)
    }
  }
}

/** The token requests among the calls. */
export const tokenCalls = (metadata: GceMetadata): ReadonlyArray<MetadataCall> => metadata.calls().filter((c) => c.path === TOKEN_PATH)
