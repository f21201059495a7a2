import { HttpStatus } from '@nestjs/common';
import { DurinError } from './durin.error';

/**
 * A login was refused: no such user, a wrong password, or an inactive user, which the answer
 * does not tell apart (so it cannot be used to find out which usernames exist). Answered 400
 * `invalid_credentials`, as django-rest-durin's login view does. Throw it from an app's own login
 * code too, for the same answer.
 */
export class InvalidCredentialsError extends DurinError {
  constructor() {
    super('nestjs-durin: invalid credentials', {
      status: HttpStatus.BAD_REQUEST,
      code: 'invalid_credentials',
      publicMessage: 'Unable to log in with the provided credentials.',
      captureStackTrace: false,
    });
  }
}
