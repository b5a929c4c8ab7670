/** What a failed fetch means: TLS trouble (configuration will help, retrying will not) or a transient failure. */
import { Duration } from "effect"
import { TransportFailure } from "../../model/Errors.ts"
import { Retryable } from "./RetryPolicy.ts"

/** The headers of a response did not arrive within the request timeout. */
export class HeadersTimeout extends Error {
  constructor() {
    super("no response headers in time")
  }
}

/** True for certificate and handshake failures: retrying will not help, configuration will. */
export const tlsProblem = (cause: unknown): boolean => {
  const text = cause instanceof Error ? `${(cause as { code?: string }).code ?? ""} ${cause.message}` : String(cause)
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|unable to verify|certificate|ERR_TLS|SSL|EPROTO|TLS handshake/i.test(text)
}

/** A short, secret-free description of a network error. */
export const describeCause = (cause: unknown): string => {
  if (cause instanceof Error) {
    const code = (cause as { code?: string }).code
    // Bun words a refused connection as a question to the user; say what happened.
    if (code === "ECONNREFUSED") return "ECONNREFUSED: connection refused"
    return code && !cause.message.startsWith(code) ? `${code}: ${cause.message}` : cause.message
  }
  return String(cause)
}

/** A fetch failure as a typed error: TLS trouble explained and final, anything else worth another try. */
export const fetchFailure = (
  cause: unknown,
  request: { readonly registry: string; readonly method: string; readonly url: URL; readonly timeout: Duration.DurationInput }
): TransportFailure | Retryable =>
  tlsProblem(cause)
    ? new TransportFailure({
      transport: "registry",
      detail: /EPROTO|handshake/i.test(describeCause(cause))
        ? `${request.url.host}: TLS handshake failed (${
          describeCause(cause)
        }); if the registry wants a client certificate, give clientCert and clientKey for it; if it speaks plain HTTP, set insecure: true for it`
        : `${request.url.host}: TLS certificate not trusted (${
          describeCause(cause)
        }); add its CA with ca: for this registry (a PEM file) or NODE_EXTRA_CA_CERTS=/path/ca.pem, or set insecure: true for this registry`
    })
    : new Retryable({
      registry: request.registry,
      detail: cause instanceof HeadersTimeout
        ? `${request.method} ${request.url.pathname}: no response within ${Duration.format(request.timeout)}`
        : `${request.method} ${request.url.pathname}: ${describeCause(cause)}`,
      retryAfter: undefined
    })
