import { DurinError } from './durin.error';

/** A token could not be issued because an argument was invalid. Nothing was written. */
export class InvalidTokenOptionsError extends DurinError {
  constructor(
    readonly option: string,
    reason: string,
  ) {
    super(`nestjs-durin: invalid token option '${option}': ${reason}`);
  }
}

/** The named client does not exist. Nothing was written. */
export class UnknownClientError extends DurinError {
  constructor(readonly clientName: string) {
    super(`nestjs-durin: unknown client ${JSON.stringify(clientName)}`);
  }
}

/** A client could not be created or changed because a field was invalid. */
export class InvalidClientError extends DurinError {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`nestjs-durin: invalid client field '${field}': ${reason}`);
  }
}

/** A client with this name exists already. */
export class ClientAlreadyExistsError extends DurinError {
  constructor(readonly clientName: string) {
    super(`nestjs-durin: a client named ${JSON.stringify(clientName)} exists already`);
  }
}

/**
 * The token store (the database) failed or timed out while deciding about a credential.
 * Authentication must fail closed on it: the guard answers 503, never 200, 401 or 500.
 */
export class TokenStoreUnavailableError extends DurinError {
  constructor(cause?: unknown) {
    super('nestjs-durin: the token store is unavailable', { cause });
  }
}
