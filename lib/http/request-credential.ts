import type { AuthType } from '../interfaces/durin-module-options.interface';

/** How the current request was authenticated. */
export interface RequestCredential {
  /** The raw access token, kept to re-set the auth cookie (auto-refresh, renew). */
  readonly rawToken: string;
  /** Where it came from. */
  readonly source: AuthType;
}

/**
 * One instance's acceptance of a request, chained to any earlier one. With several DurinModule
 * instances a request may pass one instance's guard and then meet another's, which must check it
 * again: a token of one instance means nothing to the other. One object per accepted request (no
 * Set, no second map): this is on the path of every authenticated request. The issuer and the
 * chain are private fields, so what {@link getRequestCredential} hands out shows neither.
 */
class AcceptedCredential implements RequestCredential {
  readonly #issuer: object;
  readonly #earlier: AcceptedCredential | undefined;

  constructor(
    readonly rawToken: string,
    readonly source: AuthType,
    issuer: object,
    earlier: AcceptedCredential | undefined,
  ) {
    this.#issuer = issuer;
    this.#earlier = earlier;
  }

  acceptedBy(issuer: object): boolean {
    return this.#issuer === issuer || this.#earlier?.acceptedBy(issuer) === true;
  }
}

/**
 * The credential of each authenticated request (the latest accepted), keyed by the request
 * object. Kept off the request itself so the raw token cannot end up in a log line that dumps the
 * request, and collected with the request.
 */
const credentials = new WeakMap<object, AcceptedCredential>();

/** @internal Set by the guard. */
export function rememberCredential(
  request: object,
  rawToken: string,
  source: AuthType,
  issuer: object,
): void {
  credentials.set(
    request,
    new AcceptedCredential(rawToken, source, issuer, credentials.get(request)),
  );
}

/** @internal Whether the instance of `issuer` already accepted this request. */
export function wasAcceptedBy(request: object, issuer: object): boolean {
  return credentials.get(request)?.acceptedBy(issuer) === true;
}

/** The credential the guard accepted for `request`, if any. */
export function getRequestCredential(request: object): RequestCredential | undefined {
  return credentials.get(request);
}
