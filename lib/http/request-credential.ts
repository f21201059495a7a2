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
 * again: a token of one instance means nothing to the other.
 *
 * Everything is in private fields behind prototype getters, so a request dumped to a log
 * (`util.inspect`, `console.log`) shows `AcceptedCredential {}` and never the raw token, and
 * `JSON.stringify` skips the symbol key altogether.
 */
class AcceptedCredential implements RequestCredential {
  readonly #rawToken: string;
  readonly #source: AuthType;
  readonly #issuer: object;
  readonly #earlier: AcceptedCredential | undefined;

  constructor(
    rawToken: string,
    source: AuthType,
    issuer: object,
    earlier: AcceptedCredential | undefined,
  ) {
    this.#rawToken = rawToken;
    this.#source = source;
    this.#issuer = issuer;
    this.#earlier = earlier;
  }

  get rawToken(): string {
    return this.#rawToken;
  }

  get source(): AuthType {
    return this.#source;
  }

  acceptedBy(issuer: object): boolean {
    return this.#issuer === issuer || this.#earlier?.acceptedBy(issuer) === true;
  }

  count(): number {
    return 1 + (this.#earlier?.count() ?? 0);
  }

  /**
   * The chain without `issuer`'s acceptance, to put a new one of it in front: a WebSocket
   * handshake is accepted again on every message and must not grow a chain per message.
   */
  without(issuer: object): AcceptedCredential | undefined {
    const earlier = this.#earlier?.without(issuer);
    if (this.#issuer === issuer) return earlier;
    return earlier === this.#earlier
      ? this
      : new AcceptedCredential(this.#rawToken, this.#source, this.#issuer, earlier);
  }
}

/**
 * Where the credential of an authenticated request (the latest accepted) is kept: a symbol
 * property of the request. Not a WeakMap: an entry per request in a WeakMap cost ~0.45 µs of CPU
 * and GC work per request in the hit-path profile (issue 12), a property set after `user` and
 * `authToken` follows the same hidden-class transition every time and costs next to nothing.
 */
const CREDENTIAL = Symbol('durin.credential');

type WithCredential = { [CREDENTIAL]?: AcceptedCredential };

function acceptedOf(request: object): AcceptedCredential | undefined {
  const accepted = (request as WithCredential)[CREDENTIAL];
  // Only ours: a copy of another object (or a spoofed value) is not a credential.
  return accepted instanceof AcceptedCredential ? accepted : undefined;
}

/** @internal Set by the guard. */
export function rememberCredential(
  request: object,
  rawToken: string,
  source: AuthType,
  issuer: object,
): void {
  (request as WithCredential)[CREDENTIAL] = new AcceptedCredential(
    rawToken,
    source,
    issuer,
    acceptedOf(request)?.without(issuer),
  );
}

/** @internal Whether the instance of `issuer` already accepted this request. */
export function wasAcceptedBy(request: object, issuer: object): boolean {
  return acceptedOf(request)?.acceptedBy(issuer) === true;
}

/** @internal How many instances' acceptances are kept for `request` (tests). */
export function acceptanceCount(request: object): number {
  return acceptedOf(request)?.count() ?? 0;
}

/** The credential the guard accepted for `request`, if any. */
export function getRequestCredential(request: object): RequestCredential | undefined {
  return acceptedOf(request);
}
