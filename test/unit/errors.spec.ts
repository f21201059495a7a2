import { HttpException } from '@nestjs/common';
import {
  ApiKeyExistsError,
  ClientAlreadyExistsError,
  ClientForbiddenError,
  CsrfValidationError,
  DurinConfigurationError,
  DurinError,
  DurinHttpException,
  DurinUnauthorizedException,
  DurinUnavailableException,
  InsufficientScopeError,
  InvalidAbilitiesError,
  InvalidClientError,
  InvalidCredentialsError,
  InvalidTokenOptionsError,
  MissingContextKeyError,
  RateLimitedError,
  SessionLimitExceededError,
  TokenStoreUnavailableError,
  UnknownClientError,
} from '../../lib';

/**
 * Every error the library throws is an HttpException with a documented status and `code`, so it
 * reaches the client as `{ statusCode, error, message, code }` from app code with no handler. The
 * README's error table lists the same rows.
 */
const HOSTILE = '<script>alert(1)</script>\u0000';

const CASES: Array<[string, DurinError, number, string, string]> = [
  [
    'InvalidTokenOptionsError',
    new InvalidTokenOptionsError('client', `got ${HOSTILE}`),
    400,
    'Bad Request',
    'invalid_token_options',
  ],
  ['UnknownClientError', new UnknownClientError(HOSTILE), 400, 'Bad Request', 'unknown_client'],
  [
    'InvalidClientError',
    new InvalidClientError('name', `got ${HOSTILE}`),
    400,
    'Bad Request',
    'invalid_client',
  ],
  [
    'ClientAlreadyExistsError',
    new ClientAlreadyExistsError(HOSTILE),
    409,
    'Conflict',
    'client_exists',
  ],
  ['ApiKeyExistsError', new ApiKeyExistsError(), 400, 'Bad Request', 'api_key_exists'],
  [
    'SessionLimitExceededError',
    new SessionLimitExceededError(3),
    403,
    'Forbidden',
    'session_limit',
  ],
  [
    'CsrfValidationError',
    new CsrfValidationError('token_mismatch'),
    403,
    'Forbidden',
    'csrf_failed',
  ],
  ['ClientForbiddenError', new ClientForbiddenError(HOSTILE), 403, 'Forbidden', 'client_forbidden'],
  [
    'InvalidCredentialsError',
    new InvalidCredentialsError(),
    400,
    'Bad Request',
    'invalid_credentials',
  ],
  [
    'MissingContextKeyError',
    new MissingContextKeyError(HOSTILE),
    403,
    'Forbidden',
    'context_key_missing',
  ],
  [
    'TokenStoreUnavailableError',
    new TokenStoreUnavailableError(new Error('ECONNREFUSED')),
    503,
    'Service Unavailable',
    'auth_unavailable',
  ],
  [
    'DurinUnavailableException',
    new DurinUnavailableException(new Error('x')),
    503,
    'Service Unavailable',
    'auth_unavailable',
  ],
  [
    'DurinUnauthorizedException',
    new DurinUnauthorizedException('token_expired'),
    401,
    'Unauthorized',
    'token_expired',
  ],
  ['RateLimitedError', new RateLimitedError(30, HOSTILE), 429, 'Too Many Requests', 'rate_limited'],
  [
    'InvalidAbilitiesError (malformed)',
    new InvalidAbilitiesError('malformed', `got ${HOSTILE}`),
    400,
    'Bad Request',
    'invalid_scope',
  ],
  [
    'InvalidAbilitiesError (not_granted)',
    new InvalidAbilitiesError('not_granted', `not held: ${HOSTILE}`),
    400,
    'Bad Request',
    'invalid_scope',
  ],
  [
    'InsufficientScopeError',
    new InsufficientScopeError(['orders:read'], 'all'),
    403,
    'Forbidden',
    'insufficient_scope',
  ],
  [
    'DurinConfigurationError',
    new DurinConfigurationError('tokenTtl', `got ${HOSTILE}`),
    500,
    'Internal Server Error',
    'configuration_error',
  ],
];

describe('library errors as HTTP answers', () => {
  it.each(CASES)(
    '%s is an HttpException %d with its code',
    (_name, error, status, phrase, code) => {
      expect(error).toBeInstanceOf(HttpException);
      expect(error).toBeInstanceOf(DurinError);
      expect(error).toBeInstanceOf(Error);
      expect(error.getStatus()).toBe(status);
      expect(error.code).toBe(code);
      expect(error.getResponse()).toEqual({
        statusCode: status,
        error: phrase,
        message: expect.any(String),
        code,
      });
    },
  );

  it.each(CASES)('%s never echoes its input to the client', (_name, error) => {
    const body = JSON.stringify(error.getResponse());
    expect(body).not.toContain('script');
    expect(body).not.toContain('\\u0000');
  });

  it('keeps the detailed message (naming the value) for logs and tests', () => {
    const error = new UnknownClientError('mobile');
    expect(error.message).toBe('nestjs-durin: unknown client "mobile"');
    expect(error.name).toBe('UnknownClientError');
    expect(error.clientName).toBe('mobile');
    expect((error.getResponse() as { message: string }).message).toBe('Unknown client.');
  });

  it('tells every CSRF failure the same way, whatever check failed', () => {
    const bodies = (['origin_mismatch', 'cross_site', 'token_missing'] as const).map((reason) =>
      JSON.stringify(new CsrfValidationError(reason).getResponse()),
    );
    expect(new Set(bodies).size).toBe(1);
  });

  it('carries the headers of its answer (Retry-After, WWW-Authenticate)', () => {
    expect(new TokenStoreUnavailableError().headers).toEqual({ 'Retry-After': '5' });
    expect(new DurinUnavailableException().headers).toEqual({ 'Retry-After': '5' });
    expect(new DurinUnauthorizedException('token_missing').headers).toEqual({
      'WWW-Authenticate': 'Bearer realm="api"',
    });
    expect(new InsufficientScopeError(['orders:read', 'orders:write'], 'all').headers).toEqual({
      'WWW-Authenticate':
        'Bearer realm="api", error="insufficient_scope", scope="orders:read orders:write"',
    });
    expect(new InvalidAbilitiesError('malformed', 'x').headers).toEqual({});
    expect(new UnknownClientError('x').headers).toEqual({});
    // Whole seconds, at least one: a storage may answer 0 or a fraction at the edge of a window.
    expect(new RateLimitedError(0, 'durin').headers).toEqual({ 'Retry-After': '1' });
    expect(new RateLimitedError(2.2, 'durin').headers).toEqual({ 'Retry-After': '3' });
    expect(new RateLimitedError(2.2, 'durin').retryAfterSeconds).toBe(3);
  });

  it('keeps the cause of a store failure for logs, out of the body', () => {
    const cause = new Error('password authentication failed for user "app"');
    const error = new TokenStoreUnavailableError(cause);
    expect(error.cause).toBe(cause);
    expect(JSON.stringify(error.getResponse())).not.toContain('password');
  });

  it('lets apps throw their own DurinHttpException with a code', () => {
    const error = new DurinHttpException(404, 'order_not_found', 'No such order.');
    expect(error).toBeInstanceOf(DurinError);
    expect(error.getResponse()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'No such order.',
      code: 'order_not_found',
    });
  });

  /** Codes of the refusals any client can provoke at will: no stack trace is recorded for them. */
  const REFUSALS = new Set([
    'token_expired',
    'client_forbidden',
    'insufficient_scope',
    'rate_limited',
    'invalid_credentials',
    'csrf_failed',
    'auth_unavailable',
  ]);
  const hasFrames = (error: Error): boolean => /\n\s+at /.test(error.stack ?? '');

  it.each(CASES)(
    '%s records a stack trace only if a developer needs one',
    (_n, error, _s, _e, code) => {
      expect(hasFrames(error)).toBe(!REFUSALS.has(code));
      expect(error.stack?.split('\n')[0]).toContain(error.message);
    },
  );

  it('puts Error.stackTraceLimit back after a refusal, and keeps the cause’s own trace', () => {
    const before = Error.stackTraceLimit;
    const cause = new Error('connection refused');
    const refusal = new DurinUnavailableException(cause);
    expect(Error.stackTraceLimit).toBe(before);
    expect(hasFrames(refusal)).toBe(false);
    expect(hasFrames(cause)).toBe(true);
    expect(hasFrames(new Error('after'))).toBe(true);
  });

  it('lets an app’s own DurinHttpException choose', () => {
    expect(hasFrames(new DurinHttpException(404, 'order_not_found', 'No such order.'))).toBe(true);
    const quiet = new DurinHttpException(
      404,
      'order_not_found',
      'No such order.',
      {},
      {
        captureStackTrace: false,
      },
    );
    expect(hasFrames(quiet)).toBe(false);
  });
});
