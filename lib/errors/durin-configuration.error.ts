import { HttpStatus } from '@nestjs/common';
import { DurinError } from './durin.error';

/**
 * Thrown at start-up when an option is invalid, so a misconfigured app never boots instead of
 * failing at its first request. The message always names the option. Should one surface in a
 * request (options resolved lazily by an app), it is a 500 `configuration_error`: nothing the
 * client sent can fix it.
 */
export class DurinConfigurationError extends DurinError {
  constructor(
    /** The option at fault, e.g. `'tokenTtl'` or `'cookie.sameSite'`. */
    readonly option: string,
    reason: string,
  ) {
    super(`nestjs-durin: invalid option '${option}': ${reason}`, {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      code: 'configuration_error',
      publicMessage: 'The authentication module is misconfigured.',
    });
  }
}
