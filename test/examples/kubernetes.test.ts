/** examples/kubernetes/cronjob.yaml: an Indexed Job whose pods split one list with --shard, credentials from a Secret, JSON on stdout. */
import { describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Either } from "effect"
import { parseAllDocuments } from "yaml"
import { parseDefinition } from "../../src/definition/Parse.ts"
import { parseShard } from "../../src/definition/Shard.ts"

const ROOT = join(import.meta.dir, "..", "..")
type Doc = { kind: string; spec?: any; data?: Record<string, string> }
const docs = parseAllDocuments(readFileSync(join(ROOT, "examples/kubernetes/cronjob.yaml"), "utf8")).map((d) => d.toJS() as Doc)
const cron = docs.find((d) => d.kind === "CronJob")!
const job = cron.spec.jobTemplate.spec
const pod = job.template.spec
const container = pod.containers[0]

describe("examples/kubernetes/cronjob.yaml", () => {
  test("an Indexed Job with as many pods at once as completions, never two syncs at a time", () => {
    expect(job.completionMode).toBe("Indexed")
    expect(job.parallelism).toBe(job.completions)
    expect(cron.spec.concurrencyPolicy).toBe("Forbid")
    expect(container.env.find((e: { name: string }) => e.name === "SHARD_COUNT").value).toBe(String(job.completions))
  })

  test("pod I syncs shard I+1 of N: every index gives a valid --shard, each shard once", () => {
    const script: string = container.args[0]
    expect(script).toContain("--shard \"$((JOB_COMPLETION_INDEX + 1))/$SHARD_COUNT\"")
    expect(script).toContain("--output json")
    const shards = Array.from({ length: job.completions }, (_, index) => {
      const text = `${index + 1}/${job.completions}`
      expect(Either.isRight(parseShard(text)), text).toBe(true)
      return text
    })
    expect(new Set(shards).size).toBe(job.completions)
  })

  test("credentials from a dockerconfigjson Secret mounted as $DOCKER_CONFIG/config.json; the definition from a ConfigMap that parses", () => {
    const dockerConfig = container.env.find((e: { name: string }) => e.name === "DOCKER_CONFIG").value
    const mount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === dockerConfig)
    const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name)
    expect(volume.secret.items).toEqual([{ key: ".dockerconfigjson", path: "config.json" }])
    expect(docs.find((d) => d.kind === "Secret")?.spec).toBeUndefined()
    const map = docs.find((d) => d.kind === "ConfigMap")!
    expect(Either.isRight(parseDefinition("images.yaml", map.data!["images.yaml"]!))).toBe(true)
    expect(container.args[0]).toContain("/config/images.yaml")
  })
})

describe("examples/kubernetes/cloud-identity.yaml", () => {
  const cloudDocs = parseAllDocuments(readFileSync(join(ROOT, "examples/kubernetes/cloud-identity.yaml"), "utf8")).map((d) =>
    d.toJS() as Doc & { metadata: { name: string; annotations?: Record<string, string> } }
  )
  const account = cloudDocs.find((d) => d.kind === "ServiceAccount")!
  const cloudPod = cloudDocs.find((d) => d.kind === "CronJob")!.spec.jobTemplate.spec.template.spec

  test("the pod runs as a service account annotated for IRSA and Workload Identity, with no credentials Secret or DOCKER_CONFIG", () => {
    expect(cloudPod.serviceAccountName).toBe(account.metadata.name)
    expect(account.metadata.annotations?.["eks.amazonaws.com/role-arn"]).toMatch(/^arn:aws:iam::\d{12}:role\//)
    expect(account.metadata.annotations?.["iam.gke.io/gcp-service-account"]).toMatch(/@[a-z0-9-]+\.iam\.gserviceaccount\.com$/)
    expect(cloudDocs.some((d) => d.kind === "Secret")).toBe(false)
    expect(cloudPod.volumes.every((v: { secret?: unknown }) => v.secret === undefined)).toBe(true)
    expect(cloudPod.containers[0].env.some((e: { name: string }) => e.name === "DOCKER_CONFIG")).toBe(false)
  })

  test("its definition parses: an ECR target creating its repositories", () => {
    const map = cloudDocs.find((d) => d.kind === "ConfigMap")!
    const parsed = parseDefinition("images.yaml", map.data!["images.yaml"]!)
    expect(Either.isRight(parsed) && parsed.right.createRepositories).toBe(true)
    expect(Either.isRight(parsed) && parsed.right.targetRepoPrefix).toMatch(/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\//)
    const args: Array<string> = cloudPod.containers[0].args
    expect(args.slice(0, 2)).toEqual(["--images-file", "/config/images.yaml"])
  })
})
