/**
 * The seed example's shape as sample images (two multi-platform indexes, a digest-pinned
 * index, a single amd64 manifest with amd64Only, a digest-pinned amd64 manifest), pushed under
 * Docker Hub paths so a definition can read them through a docker.io mirror.
 */
import { AMD64, SMALL, TWO_PLATFORMS as TWO, writeDefinition } from "../integration/helpers.ts"
import { buildImage, pushImage } from "../../demo/SampleImages.ts"
import type { PushedImage, SampleImageSpec } from "../../demo/SampleImages.ts"

/** One seed-like image. */
export interface SeedImage {
  readonly repository: string
  readonly spec: SampleImageSpec
  /** undefined → pushed by digest only and pinned in the definition */
  readonly sourceTag: string | undefined
  readonly tag?: string
  readonly amd64Only?: boolean
}

/** A seed image as pushed: its definition `source`, and its target path and tag under "external/". */
export interface SeededImage {
  readonly image: SeedImage
  readonly pushed: PushedImage
  readonly source: string
  readonly targetPath: string
}

/** The five seed-like images; `name` keeps their content distinct from other suites'. */
export const seedImages = (name: string): ReadonlyArray<SeedImage> => [
  {
    repository: "bitnami/keycloak-gatekeeper",
    spec: { platforms: TWO, seed: `${name}-keycloak`, ...SMALL, sharedBaseLayer: { seed: `${name}-base`, size: 2048 } },
    sourceTag: "9.0.3"
  },
  {
    repository: "bitnami/postgres-exporter",
    spec: { platforms: TWO, seed: `${name}-pe-old`, ...SMALL, sharedBaseLayer: { seed: `${name}-base`, size: 2048 } },
    sourceTag: "0.8.0-debian-10-r28"
  },
  { repository: "library/busybox", spec: { platforms: TWO, seed: `${name}-busybox`, ...SMALL }, sourceTag: undefined, tag: "1.32.0-v1" },
  {
    repository: "bitnami/postgres-exporter",
    spec: { platforms: AMD64, index: false, seed: `${name}-pe-new`, ...SMALL },
    sourceTag: "0.11.1-debian-11-r69",
    amd64Only: true
  },
  {
    repository: "library/postgres",
    spec: { platforms: AMD64, index: false, seed: `${name}-postgres`, ...SMALL },
    sourceTag: undefined,
    tag: "v20230508-11.19-alpine3.17",
    amd64Only: true
  }
]

/** Pushes the images into the registry at `url`, in order. */
export const pushSeed = async (url: string, images: ReadonlyArray<SeedImage>): Promise<Array<SeededImage>> => {
  const out: Array<SeededImage> = []
  for (const image of images) {
    const reference = image.sourceTag ?? buildImage(image.spec).top.digest
    const pushed = await pushImage(url, image.repository, reference, image.spec)
    const short = image.repository.replace(/^library\//, "")
    out.push({
      image,
      pushed,
      source: image.sourceTag === undefined ? `${short}@${pushed.digest}` : `${short}:${image.sourceTag}`,
      targetPath: `external/${image.repository}:${image.tag ?? image.sourceTag}`
    })
  }
  return out
}

/** Writes the definition of the seed into `targetHost` under "external/", read through a docker.io mirror. */
export const writeSeedDefinition = (dir: string, name: string, targetHost: string, mirrorHost: string, seed: ReadonlyArray<SeededImage>) =>
  writeDefinition(dir, name, {
    targetRepoPrefix: `${targetHost}/external/`,
    registries: { "docker.io": { mirror: mirrorHost } },
    images: seed.map(({ image, source }) => ({
      source,
      ...(image.tag === undefined ? {} : { tag: image.tag }),
      ...(image.amd64Only === undefined ? {} : { amd64Only: image.amd64Only })
    }))
  })
