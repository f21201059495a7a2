import { BadRequestException, HttpStatus, ValidationError, ValidationPipe } from '@nestjs/common';

function constraintsOf(errors: ValidationError[]): string[] {
  return errors.flatMap((error) => [
    ...Object.values(error.constraints ?? {}),
    ...constraintsOf(error.children ?? []),
  ]);
}

/**
 * The app's body validation: unknown fields are dropped, and a bad body is a 400 with the same
 * `{ statusCode, error, message, code }` shape as every other error of this API (nestjs-durin's
 * included), so clients parse one error format.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    exceptionFactory: (errors) =>
      new BadRequestException({
        statusCode: HttpStatus.BAD_REQUEST,
        error: 'Bad Request',
        message: constraintsOf(errors).join('; ') || 'Invalid request body.',
        code: 'invalid_request',
      }),
  });
}
