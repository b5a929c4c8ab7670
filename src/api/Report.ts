/**
 * What a run's results become for people and CI: result lines, the summary, the exit status,
 * the `--report` document, JUnit XML, the GitHub job summary. `import { Report } from "image-syncer"`.
 */
export { githubSummary } from "../report/GithubSummary.ts"
export type { GithubSummaryMeta } from "../report/GithubSummary.ts"
export { junitXml } from "../report/JUnit.ts"
export type { JUnitMeta } from "../report/JUnit.ts"
export { countByStatus, exitCodeOf, formatResult, formatSummary, reportOf } from "../report/Output.ts"
export type { UnfinishedImage } from "../report/Output.ts"
