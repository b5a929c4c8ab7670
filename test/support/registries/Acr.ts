/**
 * Azure Container Registry as a stand-in in front of a real docker-registry: a PATCH whose
 * `Content-Range` is not the distribution-spec form `<start>-<end>` (e.g. the HTTP form
 * `bytes 0-84521/*` that .NET's ContentRangeHeaderValue writes) is refused. ACR answers it with
 * `{"Range":"bytes 0-84521/*","Reason":"the Content-Range header format is invalid"}`
 * (dotnet/sdk-container-builds#258, Registry.cs: "manual because ACR throws an error with the
 * .NET type"). That thread quotes the detail only; the status and code here are distribution's
 * for a Content-Range the registry cannot accept: `416` (docs/spec/api.md, PATCH blob upload:
 * "The Content-Range specification cannot be accepted, either because it does not overlap with
 * the current progress or it is invalid") with `RANGE_INVALID` "invalid content range"
 * (registry/api/errcode/register.go). A PATCH without Content-Range, or with `<start>-<end>`,
 * goes through.
 */
import { registryError, startStandIn } from "./StandIn.ts"
import type { Personality, StandIn, StandInOptions } from "./StandIn.ts"

/** The Content-Range of a chunk as distribution-spec writes it (inclusive, no unit). */
const SPEC_RANGE = /^\d+-\d+$/

/** ACR's quirk as a personality. */
export const acr = (): Personality => ({
  answer: (request) => {
    if (request.route.kind !== "upload" || request.method !== "PATCH") return undefined
    const range = request.headers.get("content-range")
    if (range === null || SPEC_RANGE.test(range.trim())) return undefined
    return registryError(416, "RANGE_INVALID", "invalid content range", {
      detail: { Range: range, Reason: "the Content-Range header format is invalid" }
    })
  }
})

/** Starts an ACR stand-in. */
export const startAcr = (options: StandInOptions = {}): Promise<StandIn> => startStandIn(acr(), options)
