import type { AuthType } from '../interfaces/durin-module-options.interface';

/** How the current request was authenticated. */
export interface RequestCredential {
  /** The raw access token, kept to re-set the auth cookie (auto-refresh, renew). */
  readonly rawToken: string;
  /** Where it came from. */
  readonly source: AuthType;
}

/**
 * The credential of each authenticated request, keyed by the request object. Kept off the request
 * itself so the raw token cannot end up in a log line that dumps the request, and collected with
 * the request.
 */
const credentials = new WeakMap<object, RequestCredential>();

/**
 * Which instances (their TokenService) accepted the request. With several DurinModule instances
 * a request may pass one instance's guard and then meet another's, which must check it again: a
 * token of one instance means nothing to the other.
 */
const acceptedBy = new WeakMap<object, Set<object>>();

/** @internal Set by the guard. */
export function rememberCredential(
  request: object,
  credential: RequestCredential,
  issuer: object,
): void {
  credentials.set(request, credential);
  const issuers = acceptedBy.get(request) ?? new Set<object>();
  issuers.add(issuer);
  acceptedBy.set(request, issuers);
}

/** @internal Whether the instance of `issuer` already accepted this request. */
export function wasAcceptedBy(request: object, issuer: object): boolean {
  return acceptedBy.get(request)?.has(issuer) === true;
}

/** The credential the guard accepted for `request`, if any. */
export function getRequestCredential(request: object): RequestCredential | undefined {
  return credentials.get(request);
}
