import { HttpStatus } from '@nestjs/common';
import { DurinError, STORE_UNAVAILABLE_RESPONSE } from './durin.error';

/**
 * A token could not be issued because an argument was invalid. Nothing was written. Answered 400
 * `invalid_token_options`.
 */
export class InvalidTokenOptionsError extends DurinError {
  constructor(
    readonly option: string,
    reason: string,
  ) {
    super(`nestjs-durin: invalid token option '${option}': ${reason}`, {
      status: HttpStatus.BAD_REQUEST,
      code: 'invalid_token_options',
      publicMessage: 'Invalid token options.',
    });
  }
}

/** The named client does not exist. Nothing was written. Answered 400 `unknown_client`. */
export class UnknownClientError extends DurinError {
  constructor(readonly clientName: string) {
    super(`nestjs-durin: unknown client ${JSON.stringify(clientName)}`, {
      status: HttpStatus.BAD_REQUEST,
      code: 'unknown_client',
      publicMessage: 'Unknown client.',
    });
  }
}

/**
 * A client could not be created or changed because a field was invalid. Answered 400
 * `invalid_client`.
 */
export class InvalidClientError extends DurinError {
  constructor(
    readonly field: string,
    /** What is wrong with the field, for operators (the `durin` CLI prints it); never rendered. */
    readonly reason: string,
  ) {
    super(`nestjs-durin: invalid client field '${field}': ${reason}`, {
      status: HttpStatus.BAD_REQUEST,
      code: 'invalid_client',
      publicMessage: 'Invalid client.',
    });
  }
}

/** A client with this name exists already. Answered 409 `client_exists`. */
export class ClientAlreadyExistsError extends DurinError {
  constructor(readonly clientName: string) {
    super(`nestjs-durin: a client named ${JSON.stringify(clientName)} exists already`, {
      status: HttpStatus.CONFLICT,
      code: 'client_exists',
      publicMessage: 'A client with this name exists already.',
    });
  }
}

/**
 * The token store (the database) failed or timed out. Authentication must fail closed on it:
 * answered 503 `auth_unavailable` with `Retry-After`, never 200, 401 or 500. A 401 would make
 * clients throw away credentials that are fine (REQ-FAIL-01). The cause is kept for logs and never
 * rendered.
 */
export class TokenStoreUnavailableError extends DurinError {
  constructor(cause?: unknown) {
    super('nestjs-durin: the token store is unavailable', {
      ...STORE_UNAVAILABLE_RESPONSE,
      cause,
      // During an outage every request fails: the cause carries the trace that matters.
      captureStackTrace: false,
    });
  }
}

/**
 * `TokenService.createApiKey` found a live personal API key of the user; nothing was written. A
 * user has one key at a time: revoke it first (`DELETE <routes.path>/apiaccess`, or
 * `tokenService.revokeUserSession(user, key.id)`). Answered 400 `api_key_exists`.
 */
export class ApiKeyExistsError extends DurinError {
  constructor() {
    super('nestjs-durin: the user has a live API key already', {
      status: HttpStatus.BAD_REQUEST,
      code: 'api_key_exists',
      publicMessage: 'An API key exists already: delete it first.',
    });
  }
}
