import { BadRequestException, HttpStatus, UnauthorizedException } from '@nestjs/common';

/**
 * Wrong username or password (or a disabled account: a login never tells which). The body has
 * the shape of the guard's 401s, so clients handle every 401 of this API the same way.
 */
export function invalidCredentials(): UnauthorizedException {
  return new UnauthorizedException({
    statusCode: HttpStatus.UNAUTHORIZED,
    error: 'Unauthorized',
    message: 'Invalid username or password',
    code: 'invalid_credentials',
  });
}

/** The `client` of a login names no client that can log in. */
export function unknownClient(name: string): BadRequestException {
  return new BadRequestException({
    statusCode: HttpStatus.BAD_REQUEST,
    error: 'Bad Request',
    message: `Unknown client ${JSON.stringify(name)}`,
    code: 'unknown_client',
  });
}
