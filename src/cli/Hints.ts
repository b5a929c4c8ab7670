/**
 * What a person can do about an image's error, in the CLI's own words: the registry client says
 * that no credentials were found for a registry; the CLI knows which flags and files give them.
 */
import type { Definition } from "../definition/Definition.ts"

/** The hint for an error of a run of `definition` (for the pipeline's `hint` setting). */
export const errorHints = (definition: Definition) => {
  const targets = new Set(definition.images.flatMap((e) => e.targets.map((t) => t.registry)))
  return (error: { readonly _tag: string; readonly anonymous?: boolean; readonly registry?: string }): string | undefined => {
    if (error._tag !== "Unauthorized" || error.anonymous !== true) return undefined
    return error.registry !== undefined && targets.has(error.registry)
      ? "use --target-repo-auth-key, --access-token, --auth-plugin or docker config.json"
      : "use --auth-plugin, docker config.json or Podman's auth.json"
  }
}
