/**
 * The layer check (`bun run lint:deps`): no import cycles among files or among the folders
 * directly under src/ and plugins/ (type-only imports count), and every import points down
 * the layers of docs/architecture.md:
 *
 *   1 model, definition          (definition may use model)
 *   2 oci, layout, signing, process
 *   3 transport, then pipeline   (pipeline may use transport)
 *   4 plugins/transports, plugins/auth, plugins/signers
 *   5 composition, report
 *   6 cli, api                   (src/index.ts may use anything; api is its namespaces)
 *
 * The demo (demo/) and the tests stand outside the program: nothing in src/ or plugins/ imports them.
 *
 * Folders of one layer never import each other, so the folders form no cycle either.
 */
const layers = [
  ["src/model"],
  ["src/definition"],
  ["src/oci", "src/layout", "src/signing", "src/process"],
  ["src/transport"],
  ["src/pipeline"],
  ["plugins/transports", "plugins/auth", "plugins/signers"],
  ["src/composition", "src/report"],
  ["src/cli", "src/api"]
]

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
const folderRe = (folders) => `^(${folders.map(escape).join("|")})/`

// A folder may import from its own layer's folder and from lower layers only; folders that
// share a layer stay apart (src/oci never imports src/layout, and so on).
const upward = layers.flatMap((folders, level) =>
  folders.map((folder) => {
    const allowed = [folder, ...layers.slice(0, level).flat()]
    return {
      name: `layer:${folder}`,
      comment: `${folder} may import only from itself and the layers below it (${layers.slice(0, level).flat().join(", ") || "none"})`,
      severity: "error",
      from: { path: `^${escape(folder)}/` },
      to: { path: "^(src|plugins)/", pathNot: folderRe(allowed) }
    }
  })
)

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "No file imports itself through others (type-only imports count).",
      severity: "error",
      from: {},
      to: { circular: true }
    },
    ...upward,
    {
      name: "oci-stands-alone",
      comment: "src/oci is a library of its own (image-syncer/oci): it imports src/model and nothing else of the program.",
      severity: "error",
      from: { path: "^src/oci/" },
      to: { path: "^(src|plugins)/", pathNot: "^src/(oci|model)/" }
    },
    {
      name: "no-demo-or-test-code",
      comment: "The demo and the tests are not part of the package: nothing in src/ or plugins/ imports them.",
      severity: "error",
      from: { path: "^(src|plugins)/" },
      to: { path: "^(demo|test|bench|scripts)/" }
    },
    {
      name: "index-only-from-outside",
      comment: "src/index.ts is the public API: nothing inside the program imports it.",
      severity: "error",
      from: { path: "^(src|plugins)/", pathNot: "^src/index\\.ts$" },
      to: { path: "^src/index\\.ts$" }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    includeOnly: "^(src|plugins|demo|test|bench|scripts)/",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
    reporterOptions: { text: { highlightFocused: true } }
  }
}
