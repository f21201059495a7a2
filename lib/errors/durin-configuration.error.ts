import { DurinError } from './durin.error';

/**
 * Thrown at start-up when an option is invalid, so a misconfigured app never boots instead of
 * failing at its first request. The message always names the option.
 */
export class DurinConfigurationError extends DurinError {
  constructor(
    /** The option at fault, e.g. `'tokenTtl'` or `'cookie.sameSite'`. */
    readonly option: string,
    reason: string,
  ) {
    super(`nestjs-durin: invalid option '${option}': ${reason}`);
  }
}
