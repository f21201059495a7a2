import { HttpStatus } from '@nestjs/common';
import { TokenContextData } from '../entities/token-context';
import { DurinHttpException } from '../errors/durin-http.exception';
import { DurinLoginCredentials } from '../interfaces/login-options.interface';
import { CLIENT_NAME_MAX, isStorableString } from '../store/stored-strings';

/** The body of `POST <path>/login` once checked. */
export interface LoginBody extends DurinLoginCredentials {
  /** The session context to store with the token; `{}` when none was sent. */
  readonly context: TokenContextData;
}

/** Room for an e-mail address (254) as the username. */
export const LOGIN_USERNAME_MAX = 256;
/** Far above any real password, far below what would make a slow hash a denial of service. */
export const LOGIN_PASSWORD_MAX = 1024;
/**
 * The context comes from an unauthenticated client and is stored with every token, so it is
 * kept small and flat: a few labels (`device`, `appVersion`), never a document.
 */
export const LOGIN_CONTEXT_MAX_KEYS = 16;
export const LOGIN_CONTEXT_KEY_MAX = 64;
export const LOGIN_CONTEXT_VALUE_MAX = 256;

const FIELDS = new Set(['username', 'password', 'client', 'context']);
const BODY_SHAPE =
  'The body must be { "username": string, "password": string, "client": string, "context"?: object }.';
const MAX_NAMED_FIELDS = 5;
const MAX_FIELD_NAME = 64;

function invalidRequest(message: string): DurinHttpException {
  return new DurinHttpException(HttpStatus.BAD_REQUEST, 'invalid_request', message);
}

/**
 * Checks the body of `POST <path>/login` as the client sent it, past every pipe (as the refresh
 * route does, for the same reasons: an app-wide pipe must not answer in its own format or coerce
 * types). Unknown fields, wrong types and oversized values are a 400 `invalid_request` that
 * never quotes a value; a missing or empty `client` is a 400 `client_missing`, as in
 * django-rest-durin. Nothing is looked up here.
 *
 * @throws DurinHttpException 400 `invalid_request` or `client_missing`
 */
export function parseLoginBody(body: unknown): LoginBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest(BODY_SHAPE);
  }
  const unknown = Object.keys(body).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) {
    throw invalidRequest(
      unknown
        .slice(0, MAX_NAMED_FIELDS)
        .map((key) => `property ${key.slice(0, MAX_FIELD_NAME)} should not exist`)
        .join('; '),
    );
  }
  const fields = body as Record<string, unknown>;
  if (!isStorableString(fields.username, LOGIN_USERNAME_MAX)) {
    throw invalidRequest(
      `username must be a string of 1 to ${LOGIN_USERNAME_MAX} characters without control characters`,
    );
  }
  const { password } = fields;
  if (
    typeof password !== 'string' ||
    password.length === 0 ||
    password.length > LOGIN_PASSWORD_MAX
  ) {
    throw invalidRequest(`password must be a string of 1 to ${LOGIN_PASSWORD_MAX} characters`);
  }
  const { client } = fields;
  if (client === undefined || client === null || client === '') {
    throw new DurinHttpException(
      HttpStatus.BAD_REQUEST,
      'client_missing',
      'No client: send the name of the client to log in with.',
    );
  }
  // Control characters are left to the lookup: such a name cannot exist (400 unknown_client).
  if (typeof client !== 'string' || client.length > CLIENT_NAME_MAX) {
    throw invalidRequest(`client must be a string of 1 to ${CLIENT_NAME_MAX} characters`);
  }
  return { username: fields.username, password, client, context: parseContext(fields.context) };
}

function parseContext(context: unknown): TokenContextData {
  if (context === undefined) return {};
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw invalidRequest('context must be an object');
  }
  const entries = Object.entries(context);
  if (entries.length > LOGIN_CONTEXT_MAX_KEYS) {
    throw invalidRequest(`context may have at most ${LOGIN_CONTEXT_MAX_KEYS} keys`);
  }
  // A fresh null-prototype copy: a `__proto__` key stays a plain key and reaches no prototype.
  const copy: TokenContextData = Object.create(null) as TokenContextData;
  for (const [key, value] of entries) {
    if (!isStorableString(key, LOGIN_CONTEXT_KEY_MAX)) {
      throw invalidRequest(
        `context keys must be 1 to ${LOGIN_CONTEXT_KEY_MAX} characters without control characters`,
      );
    }
    const scalar =
      value === null ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (typeof value === 'string' && value.length <= LOGIN_CONTEXT_VALUE_MAX);
    if (!scalar) {
      throw invalidRequest(
        `context values must be strings of at most ${LOGIN_CONTEXT_VALUE_MAX} characters, numbers, booleans or null`,
      );
    }
    copy[key] = value;
  }
  return { ...copy };
}
