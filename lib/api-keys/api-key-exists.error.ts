import { DurinError } from '../errors/durin.error';

/**
 * `TokenService.createApiKey` found a live personal API key of the user; nothing was written. A
 * user has one key at a time: revoke it first (`DELETE <routes.path>/apiaccess`, or
 * `tokenService.revokeUserSession(user, key.id)`). The ready-made route answers 400
 * `api_key_exists`.
 */
export class ApiKeyExistsError extends DurinError {
  constructor() {
    super('nestjs-durin: the user has a live API key already');
  }
}
