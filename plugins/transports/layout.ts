/**
 * OCI image layout transports (air-gapped sites). Import (`--from DIR|FILE.tar`): sources are
 * read from a layout written by `image-syncer export`, targets are real registries; the
 * layout is validated before anything runs, and a .tar is extracted into a private temp dir
 * first, removed when the run ends. Export: sources are registries, the target is a layout.
 * Both are the shared copy engine over a layout store on one side and the registry on the
 * other, so nothing reaches a registry the layout stands for.
 */
import { Data, Effect, Layer } from "effect"
import { rmSync } from "node:fs"
import { mkdtemp, rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { openLayout } from "../../src/layout/LayoutReader.ts"
import type { LayoutReader } from "../../src/layout/LayoutReader.ts"
import { layoutSource, layoutTarget } from "../../src/layout/LayoutStore.ts"
import type { LayoutWriter } from "../../src/layout/LayoutWriter.ts"
import { ioReason } from "../../src/layout/OciLayout.ts"
import { unpackLayout } from "../../src/layout/Tar.ts"
import { RegistryClients } from "../../src/transport/RegistryClients.ts"
import { storeTransport } from "../../src/transport/StoreTransport.ts"
import { Transport } from "../../src/transport/Transport.ts"
import type { TransportLayer } from "../../src/transport/Transport.ts"

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

/** The import transport over an opened layout; `release` runs when the layer is released. */
export const layerOf = (layout: LayoutReader, name: string, release: Effect.Effect<void> = Effect.void): TransportLayer => {
  const transport = Layer.effect(
    Transport,
    Effect.map(
      RegistryClients,
      (registry) => Transport.of(storeTransport(`layout ${name}`, { source: layoutSource(layout, `layout ${name}`), target: registry.target }))
    )
  )
  const cleanup = Layer.scopedDiscard(Effect.addFinalizer(() => release))
  return Layer.merge(transport, cleanup)
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

/** The export transport: sources from registries, every target location written into `writer`'s layout (with `annotate`'s annotations on each ref name). */
export const exportLayer = (writer: LayoutWriter, annotate?: (refName: string) => Readonly<Record<string, string>>) =>
  Layer.effect(
    Transport,
    Effect.map(RegistryClients, (registry) => Transport.of(storeTransport("export", { source: registry.source, target: layoutTarget(writer, annotate) })))
  )
