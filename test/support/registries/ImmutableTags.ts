/**
 * A registry whose tags are immutable, in front of a real docker-registry (or another
 * stand-in): a manifest PUT to a tag that already exists is refused, whatever it would hold,
 * as an ECR repository with `imageTagMutability: IMMUTABLE` refuses it — `400` with the
 * distribution error code `TAG_INVALID` and ECR's message ("The image tag '…' already exists
 * in the '…' repository and cannot be overwritten because the repository is immutable.";
 * aws/containers-roadmap#2380; Harbor's immutability rules refuse the same rewrite). PUTs by
 * digest and to new tags pass. Every request is recorded, refused ones with their status.
 */
import { forward } from "./Referrers.ts"
import type { StandInRequest } from "./Referrers.ts"

/** A running immutable-tags stand-in. */
export interface ImmutableTagsRegistry {
  /** "127.0.0.1:PORT" */
  readonly host: string
  readonly url: string
  readonly requests: () => ReadonlyArray<StandInRequest>
  readonly resetRequests: () => void
  /** the tag PUTs refused, as "repository:tag" */
  readonly refused: () => ReadonlyArray<string>
  readonly stop: () => Promise<void>
}

const MANIFEST = /^\/v2\/(.+)\/manifests\/([^/]+)$/
const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json"
].join(", ")

/** Starts the stand-in in front of `upstream` ("http://127.0.0.1:PORT"). */
export const startImmutableTagsRegistry = (upstream: string): ImmutableTagsRegistry => {
  const log: Array<StandInRequest> = []
  const refused: Array<string> = []
  let self = ""
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const url = new URL(request.url)
      const record = (r: Response) => {
        log.push({ method: request.method, path: url.pathname, status: r.status })
        return r
      }
      const manifest = MANIFEST.exec(url.pathname)
      if (manifest !== null && request.method === "PUT" && !manifest[2]!.startsWith("sha256:")) {
        const [, repository, tag] = manifest
        const headers: Record<string, string> = { accept: ACCEPT }
        const auth = request.headers.get("authorization")
        if (auth !== null) headers["authorization"] = auth
        const there = await fetch(`${upstream}/v2/${repository}/manifests/${tag}`, { method: "HEAD", headers, proxy: false } as RequestInit)
        await there.arrayBuffer()
        if (there.status === 200) {
          await request.arrayBuffer()
          refused.push(`${repository}:${tag}`)
          const message =
            `The image tag '${tag}' already exists in the '${repository}' repository and cannot be overwritten because the repository is immutable.`
          return record(
            new Response(JSON.stringify({ errors: [{ code: "TAG_INVALID", message }] }), {
              status: 400,
              headers: { "content-type": "application/json" }
            })
          )
        }
      }
      return record(await forward(request, upstream, self))
    }
  })
  self = `http://127.0.0.1:${server.port}`
  return {
    host: `127.0.0.1:${server.port}`,
    url: self,
    requests: () => [...log],
    resetRequests: () => {
      log.length = 0
    },
    refused: () => [...refused],
    stop: async () => {
      await server.stop(true)
    }
  }
}
