import {
  ArgumentMetadata,
  BadRequestException,
  HttpStatus,
  ValidationError,
  ValidationPipe,
} from '@nestjs/common';

function constraintsOf(errors: ValidationError[]): string[] {
  return errors.flatMap((error) => [
    ...Object.values(error.constraints ?? {}),
    ...constraintsOf(error.children ?? []),
  ]);
}

function invalidRequest(message: string): BadRequestException {
  return new BadRequestException({
    statusCode: HttpStatus.BAD_REQUEST,
    error: 'Bad Request',
    message,
    code: 'invalid_request',
  });
}

/**
 * No body of this API nests deeper than a few levels. class-transformer walks a body recursively
 * before anything is validated, so `{"a":{"a":…}}` 5000 levels deep overflows the stack (a 500, at
 * many times the CPU of a normal request); it is refused first, by a walk that keeps its own stack.
 */
const MAX_BODY_DEPTH = 16;

function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

/**
 * The app's body validation: unknown fields are dropped, and a bad body is a 400 with the same
 * `{ statusCode, error, message, code }` shape as every other error of this API (nestjs-durin's
 * included), so clients parse one error format.
 */
class SampleValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && nestsDeeperThan(value, MAX_BODY_DEPTH)) {
      throw invalidRequest('The request body nests too deeply.');
    }
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new SampleValidationPipe({
    whitelist: true,
    exceptionFactory: (errors) =>
      invalidRequest(constraintsOf(errors).join('; ') || 'Invalid request body.'),
  });
}
