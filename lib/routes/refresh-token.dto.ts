import { HttpStatus } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { IsNotEmpty, IsString, MaxLength, ValidationError, validateSync } from 'class-validator';
import { MAX_TOKEN_LENGTH } from '../credentials/credential-result';
import { DurinHttpException } from '../errors/durin-http.exception';

/** Body of `POST <path>/refresh` for header sessions (cookie sessions send no body, or `{}`). */
export class RefreshTokenDto {
  /** The refresh token handed out at login or by the previous refresh. */
  @IsString()
  @IsNotEmpty()
  // Same cap as access tokens: a 10 KB string is a 400 before anything is hashed (REQ-RT-07).
  @MaxLength(MAX_TOKEN_LENGTH)
  refreshToken!: string;
}

const BODY_SHAPE =
  'The body must be { "refreshToken": string }, or empty to use the refresh cookie.';

function constraintsOf(errors: ValidationError[]): string[] {
  return errors.flatMap((error) => [
    ...Object.values(error.constraints ?? {}),
    ...constraintsOf(error.children ?? []),
  ]);
}

/** How much of the unknown fields a 400 names: enough to spot a typo, not an echo of the body. */
const MAX_NAMED_FIELDS = 5;
const MAX_FIELD_NAME = 64;

function invalidRequest(message: string): DurinHttpException {
  return new DurinHttpException(HttpStatus.BAD_REQUEST, 'invalid_request', message);
}

/**
 * Checks the body of `POST <path>/refresh` as the client sent it (the parsed request body, not a
 * route parameter): an app-wide pipe runs before any pipe of ours and could answer in its own
 * format, strip the unknown fields refused here, or turn `123` into `"123"`, so the route reads
 * the body past every pipe and decides alone. Unknown fields are refused rather than dropped (a
 * typo such as `refresh_token` should say so); every failure is a 400 `invalid_request` in the
 * library's error body. No body at all, or `{}`, is `undefined`: a cookie session's refresh token
 * is in the refresh cookie, and a browser's POST without a body is how it asks.
 *
 * @throws DurinHttpException 400 `invalid_request`
 */
export function parseRefreshTokenBody(body: unknown): RefreshTokenDto | undefined {
  // Express leaves `body` undefined without a Content-Type, Fastify without a payload; a JSON
  // `{}` is the same request from a client that always sends one.
  if (body === undefined) return undefined;
  // A JSON array or scalar, `null`, a text/plain string: nothing class-validator should see
  // (plainToInstance would map an array element-wise).
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest(BODY_SHAPE);
  }
  const keys = Object.keys(body);
  if (keys.length === 0) return undefined;
  // Decided before class-transformer sees anything: it walks nested values recursively, so a
  // 5000-deep object under any key would overflow the stack (a 500 at many times the CPU of a
  // request). Only a flat `{ refreshToken }` goes on.
  const unknown = keys.filter((key) => key !== 'refreshToken');
  if (unknown.length > 0) {
    throw invalidRequest(
      unknown
        .slice(0, MAX_NAMED_FIELDS)
        .map((key) => `property ${key.slice(0, MAX_FIELD_NAME)} should not exist`)
        .join('; '),
    );
  }
  const { refreshToken } = body as { refreshToken?: unknown };
  if (typeof refreshToken === 'object' && refreshToken !== null) {
    throw invalidRequest('refreshToken must be a string');
  }
  // class-transformer skips `__proto__` and `constructor`, so a hostile key cannot reach the
  // instance's prototype (unlike Object.assign).
  const dto = plainToInstance(RefreshTokenDto, { refreshToken });
  const errors = validateSync(dto, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
  });
  if (errors.length > 0) {
    throw invalidRequest(constraintsOf(errors).join('; ') || BODY_SHAPE);
  }
  return dto;
}
