/**
 * Harbor (2.x) as a stand-in in front of a real docker-registry: the project, the first path
 * segment of a repository, must exist; Harbor does not create it on push ("users has to
 * explicitly create a project first prior to pushing any artifacts to that project",
 * goharbor/harbor#20544, also #966, #890, harbor-helm#849).
 *
 * What Harbor answers, read from its source (goharbor/harbor, src/server/registry/route.go puts
 * the v2auth middleware in front of every /v2/<name>/… route): `v2auth.reqChecker.check` looks
 * the project up by name for any repository request (a push; a pull that carries credentials)
 * and, when it is missing, the middleware answers
 * `errors.UnauthorizedError(err).WithMessage(err.Error())` (src/server/middleware/v2auth/auth.go,
 * since 2020-01, commit 2064a1cd6d). Since v2.2.0 the project DAO's error is "project <p> not
 * found" (src/pkg/project/dao/dao.go GetByName; v2.0/v2.1 said "project not found, name: <p>"),
 * and an error's JSON message is its message, ": ", then its cause's (src/lib/errors/errors.go),
 * so the answer is
 *   401, `Www-Authenticate:` empty, `{"errors":[{"code":"UNAUTHORIZED","message":"project <p> not found: project <p> not found"}]}`
 * (the same doubled shape users quote for other v2auth refusals, goharbor/harbor#13553).
 * Not `404 NOT_FOUND`: a client has to recognise the project from the message.
 *
 * The stand-in treats every request as one that carries credentials (Harbor answers a HEAD or
 * GET without an Authorization header with a Bearer challenge before it looks at the project).
 */
import { registryError, repositoryOf, startStandIn } from "./StandIn.ts"
import type { Answer, Personality, StandIn, StandInOptions } from "./StandIn.ts"

/** Options of startHarbor. */
export interface HarborOptions extends StandInOptions {
  /** the projects that exist; a repository whose first path segment is not one of them is refused */
  readonly projects: ReadonlyArray<string>
}

/** A Harbor stand-in. */
export interface HarborStandIn extends StandIn {
  /** creates a project (what an administrator does in Harbor's UI or API) */
  readonly addProject: (name: string) => void
}

/** Harbor's answer to a request for a repository of a project that does not exist. */
export const projectNotFound = (project: string): Answer => {
  const message = `project ${project} not found`
  const answer = registryError(401, "UNAUTHORIZED", `${message}: ${message}`, {
    headers: { "www-authenticate": "", "docker-distribution-api-version": "registry/2.0" }
  })
  // Harbor writes the payload with fmt.Fprintln (src/lib/http/error.go SendError)
  return { ...answer, body: `${String(answer.body)}\n` }
}

/** Harbor's quirk as a personality, with its set of projects. */
export const harbor = (options: HarborOptions): Personality & Pick<HarborStandIn, "addProject"> => {
  const projects = new Set(options.projects)
  return {
    answer: (request) => {
      const project = repositoryOf(request.route)?.split("/")[0]
      return project === undefined || projects.has(project) ? undefined : projectNotFound(project)
    },
    addProject: (name) => {
      projects.add(name)
    }
  }
}

/** Starts a Harbor stand-in with the given projects. */
export const startHarbor = async (options: HarborOptions): Promise<HarborStandIn> => {
  const personality = harbor(options)
  return { ...(await startStandIn(personality, options)), addProject: personality.addProject }
}
