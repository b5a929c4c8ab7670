/**
 * Whether a plugin value names a module by path (`./my-transport.ts`, `plugins/x.js`) rather
 * than a built-in by name (`skopeo`). Free of imports: the launcher asks it before Effect loads.
 */

/** True when `value` is a module path: it has a "/" or a JavaScript/TypeScript file ending. */
export const isModulePath = (value: string | undefined): value is string => value !== undefined && (value.includes("/") || /\.[cm]?[jt]s$/.test(value))
