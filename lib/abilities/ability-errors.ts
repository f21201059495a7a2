import { HttpStatus } from '@nestjs/common';
import { DurinError } from '../errors/durin.error';
import { DURIN_AUTH_REALM } from '../errors/durin-http.exception';

/** Why a list of abilities was refused: not well formed, or asking for more than is held. */
export type InvalidAbilitiesReason = 'malformed' | 'not_granted';

const INVALID_SCOPE_MESSAGES: Record<InvalidAbilitiesReason, string> = {
  malformed:
    'Invalid abilities: send at most 64 strings of 1 to 64 characters of a-z, 0-9 and : * . _ -.',
  not_granted: 'The requested abilities exceed those of this token.',
};

/**
 * A list of abilities was refused before anything was written: malformed (issuing a token,
 * creating a client or API key, refreshing), or asking for abilities the token does not hold
 * (narrowing on refresh, an API key). Answered 400 `invalid_scope` (RFC 6749 §5.2).
 */
export class InvalidAbilitiesError extends DurinError {
  constructor(
    readonly reason: InvalidAbilitiesReason,
    detail: string,
  ) {
    super(`nestjs-durin: invalid abilities: ${detail}`, {
      status: HttpStatus.BAD_REQUEST,
      code: 'invalid_scope',
      publicMessage: INVALID_SCOPE_MESSAGES[reason],
    });
  }
}

/**
 * The token is valid but lacks an ability the route requires (`@RequireAbilities`,
 * `@RequireAnyAbility`). Answered 403 `insufficient_scope` with the RFC 6750 §3.1 challenge
 * naming the abilities the route asks for:
 * `WWW-Authenticate: Bearer realm="api", error="insufficient_scope", scope="orders:read orders:write"`.
 */
export class InsufficientScopeError extends DurinError {
  constructor(
    /** The abilities of the requirement that failed. */
    readonly required: readonly string[],
    /** Whether all of them (`@RequireAbilities`) or any one (`@RequireAnyAbility`) was needed. */
    readonly mode: 'all' | 'any',
  ) {
    // Ability names are [a-z0-9:*._-] only (checked when the decorator is applied), so they can
    // go into the quoted header value as they are.
    const scope = required.join(' ');
    super(`nestjs-durin: the token lacks ${mode === 'all' ? 'one of' : 'all of'} [${scope}]`, {
      status: HttpStatus.FORBIDDEN,
      code: 'insufficient_scope',
      publicMessage: 'This token lacks an ability this route requires.',
      headers: {
        'WWW-Authenticate': `Bearer realm="${DURIN_AUTH_REALM}", error="insufficient_scope", scope="${scope}"`,
      },
      captureStackTrace: false,
    });
  }
}
