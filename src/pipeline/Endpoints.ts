/** Where to contact a registry: mirrors, schemes and TLS, from the definition's `registries`. */
import { isDockerHub, isLoopbackHost } from "../domain/Reference.ts"
import type { RegistryOptions } from "../domain/Definition.ts"
import type { Endpoint, Role } from "./Transport.ts"

/** Docker Hub's API host (the identity "docker.io" has no registry API of its own). */
export const DOCKER_HUB_API = "registry-1.docker.io"

/** The endpoint for `registry` on one side; a mirror changes only where bytes are read from. */
export const endpointFor = (
  registry: string,
  registries: ReadonlyMap<string, RegistryOptions>,
  role: Role
): Endpoint => {
  const options = registries.get(registry)
  const mirror = role === "source" ? options?.mirror : undefined
  const host = mirror ?? (isDockerHub(registry) ? DOCKER_HUB_API : registry)
  const hostOptions = mirror ? registries.get(mirror) : undefined
  const insecure = (options?.insecure ?? false) || (hostOptions?.insecure ?? false)
  // Plain HTTP only for loopback (no configuration needed) or hosts marked insecure.
  const scheme = isLoopbackHost(host) || insecure ? "http" : "https"
  return { registry, host, scheme, skipTlsVerify: insecure, role }
}
