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

/** @internal Set by the guard. */
export function rememberCredential(request: object, credential: RequestCredential): void {
  credentials.set(request, credential);
}

/** The credential the guard accepted for `request`, if any. */
export function getRequestCredential(request: object): RequestCredential | undefined {
  return credentials.get(request);
}
