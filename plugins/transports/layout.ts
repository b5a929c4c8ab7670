/**
 * The OCI image layout transport (air-gapped import, `--from DIR|FILE.tar`): sources are read
 * from a layout written by `image-syncer export`, targets are real registries. The layout is
 * validated before anything runs; a .tar is extracted into a private temp dir first, which
 * is removed when the run ends.
 *
 * Copying is the oci transport's own orchestration (blobs first — skipped when present,
 * mounted or streamed from the layout file — then child manifests by digest, then the tag)
 * over a RegistryClient whose source side is the layout. That client is provided too, so
 * the steps that call the client directly (Sign's referrers lookup) never reach for the
 * source registry either.
 */
import { Data, Effect, Layer } from "effect"
import { rmSync } from "node:fs"
import { mkdtemp, rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { RegistryClient } from "../../src/oci/RegistryClient.ts"
import { layoutRegistryClient } from "../../src/layout/LayoutClient.ts"
import { openLayout } from "../../src/layout/LayoutReader.ts"
import type { LayoutReader } from "../../src/layout/LayoutReader.ts"
import { ioReason } from "../../src/layout/OciLayout.ts"
import { unpackLayout } from "../../src/layout/Tar.ts"
import { Transport } from "../../src/pipeline/Transport.ts"
import type { TransportLayer } from "../../src/pipeline/TransportLoader.ts"
import * as OciTransport from "./oci.ts"

/** The layout cannot be used. */
export class LayoutUnusable extends Data.TaggedError("LayoutUnusable")<{ readonly path: string; readonly reason: string }> {
  override get message() {
    return `layout ${this.path}: ${this.reason}`
  }
}

/** A layout directory ready to read, and how to let go of it. */
interface Materialised {
  readonly dir: string
  readonly release: Effect.Effect<void>
}

/** A directory is used as is; a file is taken for a tar and extracted into a private temp dir. */
const materialise = (path: string): Effect.Effect<Materialised, LayoutUnusable> =>
  Effect.gen(function*() {
    const info = yield* Effect.tryPromise({
      try: () => stat(path),
      catch: (e) => new LayoutUnusable({ path, reason: (e as { code?: string }).code === "ENOENT" ? "does not exist" : ioReason(e) })
    })
    if (info.isDirectory()) return { dir: path, release: Effect.void }
    if (!info.isFile()) return yield* new LayoutUnusable({ path, reason: "is neither a directory nor a tar file" })
    const dir = yield* Effect.tryPromise({
      try: () => mkdtemp(join(tmpdir(), "image-syncer-layout-")),
      catch: (e) => new LayoutUnusable({ path, reason: `cannot create a temp dir to extract into: ${ioReason(e)}` })
    })
    // Removed when the run ends; the exit hook covers runs that end before the layer is built.
    const onExit = () => rmSync(dir, { recursive: true, force: true })
    process.once("exit", onExit)
    const release = Effect.promise(async () => {
      process.removeListener("exit", onExit)
      await rm(dir, { recursive: true, force: true })
    })
    yield* unpackLayout(path, dir).pipe(
      Effect.tapError(() => release),
      Effect.mapError((e) => new LayoutUnusable({ path, reason: `not a usable tar archive: ${e.detail}` }))
    )
    return { dir, release }
  })

/** The transport layer over an opened layout; `release` runs when the layer is released. */
export const layerOf = (layout: LayoutReader, name: string, release: Effect.Effect<void> = Effect.void): TransportLayer => {
  const client = Layer.effect(RegistryClient, Effect.map(RegistryClient, (real) => layoutRegistryClient(layout, real, name)))
  const transport = Layer.effect(
    Transport,
    Effect.map(OciTransport.make(), (oci) => Transport.of({ ...oci, name: `layout ${name}` }))
  )
  const cleanup = Layer.scopedDiscard(Effect.addFinalizer(() => release))
  return Layer.merge(transport.pipe(Layer.provideMerge(client)), cleanup)
}

/** A transport reading sources from the layout at `path` (a directory or a .tar), writing to registries. */
export const layerFrom = (path: string): Effect.Effect<TransportLayer, LayoutUnusable> =>
  Effect.gen(function*() {
    const { dir, release } = yield* materialise(path)
    const layout = yield* openLayout(dir).pipe(
      Effect.tapError(() => release),
      Effect.mapError((e) => new LayoutUnusable({ path, reason: e.reason }))
    )
    return layerOf(layout, path, release)
  })
