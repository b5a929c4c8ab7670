/**
 * `registries`: options per source or target registry host — each key declared once with its
 * check beside it: the host itself (valid, not the same registry twice), `mirror` (a valid
 * host), `insecure`, `maxRequests` (a whole number within the ceiling), the TLS files (`ca`,
 * `clientCert` with `clientKey`) and the cloud keys (CloudOptions.ts) — and what the checked
 * keys become: the definition's registry options and the TLS files to read.
 */
import { Schema } from "effect"
import { DEFAULT_REQUESTS_PER_HOST, MAX_REQUESTS_PER_HOST } from "../model/Location.ts"
import { DOCKER_HUB, isDockerHub, isValidRegistryHost } from "../model/Reference.ts"
import { cloudFields, cloudOptionsOf } from "./CloudOptions.ts"
import type { RegistryOptions, TlsFiles } from "./Definition.ts"
import { integer, keys, mustBe, optional, struct } from "./Field.ts"
import { isRecord, positionOf, problemAt } from "./Positions.ts"
import type { Located } from "./Positions.ts"
import type { DefinitionProblem } from "./Problems.ts"

/** Registry hosts as keys: Docker Hub by one name, the rest lower-case. */
export const normaliseHost = (host: string): string => (isDockerHub(host) ? DOCKER_HUB : host.toLowerCase())

const registryFields = {
  mirror: optional(Schema.String, {
    description: "Read this registry's images from this host[:port] instead. Changes only where bytes come from, never the image's identity or target path.",
    wrongType: mustBe("mirror", "a string host[:port]")
  }),
  insecure: optional(Schema.Boolean, {
    description: "Allow plain HTTP / unverified TLS for this host. Loopback hosts never need it.",
    wrongType: mustBe("insecure", "true or false")
  }),
  maxRequests: optional(integer({ minimum: 1, maximum: MAX_REQUESTS_PER_HOST }), {
    description: `At most this many requests in flight to this host (default ${DEFAULT_REQUESTS_PER_HOST}), for registries that ask clients to hold back.`
  }),
  ca: optional(Schema.String, {
    description: "A PEM file of CA certificates trusted for this host, beside the system's (a private CA). Relative to the definition file."
  }),
  clientCert: optional(Schema.String, {
    description: "A PEM client certificate for this host (mutual TLS), with clientKey. Relative to the definition file."
  }),
  clientKey: optional(Schema.String, { description: "The PEM private key of clientCert (mutual TLS). Relative to the definition file." }),
  ...cloudFields
}

const RegistryOptionsSchema = struct(registryFields, { identifier: "RegistryOptions", description: "Options for one source or target registry host." })

/** The `registries` key. */
export const registriesField = optional(Schema.Record({ key: Schema.String, value: RegistryOptionsSchema }), {
  description: "Per-registry options, keyed by host[:port] (docker.io for Docker Hub).",
  wrongType: mustBe("registries", "a mapping of registry host to options"),
  inner: {
    _tag: "Values",
    value: {
      schema: RegistryOptionsSchema,
      wrongType: mustBe("registry options", "a mapping with \"mirror\" and/or \"insecure\""),
      inner: keys(registryFields)
    }
  }
})

/** The host key: a valid host[:port], and not a registry named before under another spelling. */
const checkHost = (ctx: Located, host: string, firstSeen: Map<string, string>): ReadonlyArray<DefinitionProblem> => {
  if (!isValidRegistryHost(host)) {
    return [problemAt(ctx, ["registries", host], `"${host}" is not a valid registry host: write host[:port], without scheme or path`, true)]
  }
  const earlier = firstSeen.get(normaliseHost(host))
  if (earlier === undefined) {
    firstSeen.set(normaliseHost(host), host)
    return []
  }
  const line = positionOf(ctx, ["registries", earlier], true).line
  return [problemAt(ctx, ["registries", host], `"${host}" is the same registry as "${earlier}" (line ${line}); merge them`, true)]
}

/** `mirror`: a host[:port], no scheme, no path. */
const checkMirror = (ctx: Located, host: string, mirror: unknown): ReadonlyArray<DefinitionProblem> =>
  typeof mirror === "string" && !isValidRegistryHost(mirror)
    ? [problemAt(ctx, ["registries", host, "mirror"], `mirror "${mirror}" is not a valid host[:port] (no scheme such as "https://", no path)`)]
    : []

/** `clientCert` and `clientKey`: one only with the other. */
const checkClientPair = (ctx: Located, host: string, options: Record<string, unknown>): ReadonlyArray<DefinitionProblem> => {
  if ((typeof options.clientCert === "string") === (typeof options.clientKey === "string")) return []
  const given = typeof options.clientCert === "string" ? "clientCert" : "clientKey"
  const other = given === "clientCert" ? "clientKey" : "clientCert"
  return [problemAt(ctx, ["registries", host, given], `${given} needs ${other} beside it (a client certificate and its private key)`, true)]
}

/** `maxRequests`: a whole number from 1 to the ceiling. */
const checkMaxRequests = (ctx: Located, host: string, max: unknown): ReadonlyArray<DefinitionProblem> =>
  typeof max === "number" && (!Number.isInteger(max) || max < 1 || max > MAX_REQUESTS_PER_HOST)
    ? [problemAt(ctx, ["registries", host, "maxRequests"], `maxRequests must be a whole number from 1 to ${MAX_REQUESTS_PER_HOST} (got ${max})`)]
    : []

/** Every problem with `registries` the schema does not see (the cloud keys are CloudOptions.ts's). */
export const registryProblems = (ctx: Located, registries: unknown): ReadonlyArray<DefinitionProblem> => {
  if (!isRecord(registries)) return []
  const firstSeen = new Map<string, string>()
  return Object.entries(registries).flatMap(([host, options]) => [
    ...checkHost(ctx, host, firstSeen),
    ...(isRecord(options)
      ? [...checkMirror(ctx, host, options.mirror), ...checkClientPair(ctx, host, options), ...checkMaxRequests(ctx, host, options.maxRequests)]
      : [])
  ])
}

/** The checked `registries` as the definition holds them: options by host, and the TLS files to read (with where the file names them). */
export const registriesOf = (
  ctx: Located,
  registries: typeof RegistryOptionsSchema.Type extends infer O ? Readonly<Record<string, O>> | undefined : never
): { readonly registries: Map<string, RegistryOptions>; readonly tlsFiles: Map<string, TlsFiles> } => {
  const options = new Map<string, RegistryOptions>()
  const tlsFiles = new Map<string, TlsFiles>()
  for (const [host, opts] of Object.entries(registries ?? {})) {
    options.set(normaliseHost(host), {
      mirror: opts.mirror?.toLowerCase(),
      insecure: opts.insecure ?? false,
      ...(opts.maxRequests !== undefined ? { maxRequests: opts.maxRequests } : {}),
      ...cloudOptionsOf(opts)
    })
    // Read when the file is loaded (Load.ts): parsing touches no file but the definition.
    const file = (key: "ca" | "clientCert" | "clientKey") => {
      const path = opts[key]
      return path === undefined ? {} : { [key]: { path, ...positionOf(ctx, ["registries", host, key]) } }
    }
    const files = { ...file("ca"), ...file("clientCert"), ...file("clientKey") }
    if (Object.keys(files).length > 0) tlsFiles.set(normaliseHost(host), files)
  }
  return { registries: options, tlsFiles }
}
