/** Problems in a definition file: where they are, how they read, and the did-you-mean for misspelt keys. */
import { Data } from "effect"
import { shorten } from "../model/Text.ts"

/** One problem found in the file. */
export interface DefinitionProblem {
  readonly line: number
  readonly column: number
  readonly entry: string | undefined
  readonly message: string
}

/** Formats one problem as `file:line:col: entry: message`; line 0 means "not a position in the file". */
export const formatProblem = (file: string, problem: DefinitionProblem): string => {
  const entry = problem.entry === undefined ? "" : `${shorten(problem.entry, 200)}: `
  return problem.line === 0
    ? `${entry}${problem.message}`
    : `${file}:${problem.line}:${problem.column}: ${entry}${problem.message}`
}

/** An invalid or unreadable definition file, with every problem found. */
export class DefinitionError extends Data.TaggedError("DefinitionError")<{
  readonly file: string
  readonly problems: ReadonlyArray<DefinitionProblem>
}> {
  override get message(): string {
    return this.problems.map((p) => formatProblem(this.file, p)).join("\n")
  }
}

const levenshtein = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]!
}

/** The closest allowed key: a case-insensitive match, else one within edit distance 2. */
export const didYouMean = (key: string, allowed: ReadonlyArray<string>): string | undefined => {
  const folded = allowed.find((k) => k.toLowerCase() === key.toLowerCase())
  if (folded !== undefined) return folded
  let best: string | undefined
  let bestDistance = 3
  for (const k of allowed) {
    const d = levenshtein(key.toLowerCase(), k.toLowerCase())
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return best
}
