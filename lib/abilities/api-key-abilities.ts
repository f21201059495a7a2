import { HttpStatus } from '@nestjs/common';
import { DurinHttpException } from '../errors/durin-http.exception';
import {
  DURIN_API_KEY_DEFAULT_ABILITIES,
  notGranted,
  parseAbilities,
  storedAbilities,
} from './abilities';
import { InvalidAbilitiesError } from './ability-errors';

const BODY_SHAPE =
  'The body must be { "abilities": string[] }, or empty for the default abilities.';

/**
 * The abilities of a key asked for by `POST <path>/apiaccess`, from the body as the client sent
 * it (read past every pipe, like the refresh body): no body or `{}` is the default set
 * ({@link DURIN_API_KEY_DEFAULT_ABILITIES}); `{ abilities }` must be held by the calling token.
 * `*` is never granted here, even to a `['*']` caller: a key holding it could manage its owner's
 * sessions, which is what least-privilege keys exist to prevent; name the abilities instead.
 *
 * @throws DurinHttpException 400 `invalid_request` (body shape) or InvalidAbilitiesError 400
 *   `invalid_scope` (malformed, `*`, or not held by the caller), before anything is written
 */
export function apiKeyAbilitiesFromBody(body: unknown, caller: readonly string[] | null): string[] {
  // Express leaves `body` undefined without a Content-Type, Fastify without a payload.
  if (body === undefined || (isRecord(body) && Object.keys(body).length === 0)) {
    return [...DURIN_API_KEY_DEFAULT_ABILITIES];
  }
  if (!isRecord(body) || Object.keys(body).some((key) => key !== 'abilities')) {
    throw new DurinHttpException(HttpStatus.BAD_REQUEST, 'invalid_request', BODY_SHAPE);
  }
  const requested = parseAbilities(body.abilities, 'abilities');
  if (requested.includes('*')) {
    throw new InvalidAbilitiesError('not_granted', "an API key cannot be given '*'");
  }
  const missing = notGranted(storedAbilities(caller), requested);
  if (missing.length > 0) {
    throw new InvalidAbilitiesError('not_granted', `not held by the caller: ${missing.join(' ')}`);
  }
  return requested;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
