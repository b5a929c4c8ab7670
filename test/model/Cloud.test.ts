/** Which cloud a registry host belongs to: ECR, Google and ACR host names, and `cloud:` overriding them. */
import { describe, expect, test } from "bun:test"
import { cloudOf, createsRepositories, ecrHost, ecrLocation, inferredCloud } from "../../src/model/Cloud.ts"

describe("ecrHost", () => {
  test("private ECR hosts give their account and region (commercial, China, FIPS, dual-stack)", () => {
    expect(ecrHost("123456789012.dkr.ecr.eu-west-1.amazonaws.com")).toEqual({ registryId: "123456789012", region: "eu-west-1" })
    expect(ecrHost("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")).toEqual({ registryId: "123456789012", region: "cn-north-1" })
    expect(ecrHost("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com")).toEqual({ registryId: "123456789012", region: "us-gov-west-1" })
    expect(ecrHost("123456789012.dkr-ecr.us-east-1.on.aws")).toEqual({ registryId: "123456789012", region: "us-east-1" })
  })

  test("anything else is not ECR: ECR Public, a short account, another domain, a port", () => {
    for (
      const host of [
        "public.ecr.aws",
        "12345.dkr.ecr.eu-west-1.amazonaws.com",
        "123456789012.dkr.ecr.eu-west-1.example.com",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com:443"
      ]
    ) {
      expect(ecrHost(host)).toBeUndefined()
    }
  })
})

describe("inferredCloud and cloudOf", () => {
  test("host names say ecr, gcp (gcr.io, *.gcr.io, *-docker.pkg.dev) or azure (*.azurecr.io); others nothing", () => {
    expect(inferredCloud("123456789012.dkr.ecr.eu-west-1.amazonaws.com")).toBe("ecr")
    expect(["gcr.io", "eu.gcr.io", "europe-west1-docker.pkg.dev"].map(inferredCloud)).toEqual(["gcp", "gcp", "gcp"])
    expect(inferredCloud("myregistry.azurecr.io")).toBe("azure")
    expect(["docker.io", "ghcr.io", "127.0.0.1:5000", "pkg.dev", "gcr.io.example.com"].map(inferredCloud)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined
    ])
  })

  test("cloud: in the options wins; cloud: none turns an inferred cloud off", () => {
    expect(cloudOf("127.0.0.1:5000", { cloud: "ecr" })).toBe("ecr")
    expect(cloudOf("gcr.io", { cloud: "none" })).toBeUndefined()
    expect(cloudOf("gcr.io", {})).toBe("gcp")
    expect(cloudOf("gcr.io", undefined)).toBe("gcp")
  })
})

describe("ecrLocation and createsRepositories", () => {
  test("region and account: the options', else the host name's, else left to the SDK", () => {
    expect(ecrLocation("123456789012.dkr.ecr.eu-west-1.amazonaws.com", undefined)).toEqual({ region: "eu-west-1", registryId: "123456789012" })
    expect(ecrLocation("registry.internal", { region: "us-east-2", registryId: "210987654321" })).toEqual({ region: "us-east-2", registryId: "210987654321" })
    expect(ecrLocation("registry.internal", { cloud: "ecr" })).toEqual({ region: undefined, registryId: undefined })
  })

  test("the host's createRepositories wins over the file's", () => {
    expect(createsRepositories(undefined, true)).toBe(true)
    expect(createsRepositories({ createRepositories: false }, true)).toBe(false)
    expect(createsRepositories({ createRepositories: true }, false)).toBe(true)
    expect(createsRepositories({}, false)).toBe(false)
  })
})
