/** The program's version: the one in package.json, never a second copy. */
import packageJson from "../../package.json" with { type: "json" }

/** "0.1.0" */
export const VERSION: string = packageJson.version
