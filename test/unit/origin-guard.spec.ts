import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { CsrfValidationError, DurinModuleOptions, OriginGuard } from '../../lib';
import { resolveDurinOptions } from '../../lib/options/resolve-options';

class User {
  id!: number;
}

function guardWith(options: Partial<DurinModuleOptions> = {}): OriginGuard {
  return new OriginGuard(resolveDurinOptions({ userEntity: User, ...options }));
}

function http(method: string, headers: Record<string, string>): ExecutionContextHost {
  const context = new ExecutionContextHost([
    { method, headers: { host: 'api.example.com', ...headers } },
    {},
  ]);
  context.setType('http');
  return context;
}

function refusal(guard: OriginGuard, context: ExecutionContextHost): string | undefined {
  try {
    guard.canActivate(context);
    return undefined;
  } catch (error) {
    if (error instanceof CsrfValidationError) return error.reason;
    throw error;
  }
}

/** The login-CSRF defence for public cookie-setting routes (REQ-CSRF-01, origin half). */
describe('OriginGuard', () => {
  const guard = guardWith();

  it.each<[string, Record<string, string>]>([
    ['the same origin', { origin: 'https://api.example.com' }],
    [
      'the same origin with its default port',
      { origin: 'https://api.example.com', host: 'api.example.com:443' },
    ],
    ['Sec-Fetch-Site same-origin without Origin', { 'sec-fetch-site': 'same-origin' }],
    ['a user-typed navigation (none)', { 'sec-fetch-site': 'none' }],
    ['no browser headers at all (curl, a mobile app)', {}],
  ])('lets a POST from %s through', (_name, headers) => {
    expect(refusal(guard, http('POST', headers))).toBeUndefined();
  });

  it.each<[string, Record<string, string>, string]>([
    ['a foreign Origin', { origin: 'https://evil.example' }, 'origin_mismatch'],
    ['a sibling subdomain', { origin: 'https://evil.api.example.com' }, 'origin_mismatch'],
    ['Origin null (sandboxed frame)', { origin: 'null' }, 'origin_null'],
    ['Sec-Fetch-Site cross-site without Origin', { 'sec-fetch-site': 'cross-site' }, 'cross_site'],
    ['Sec-Fetch-Site same-site without Origin', { 'sec-fetch-site': 'same-site' }, 'cross_site'],
    [
      'our Origin but marked cross-site',
      { origin: 'https://api.example.com', 'sec-fetch-site': 'cross-site' },
      'cross_site',
    ],
  ])('refuses a POST from %s with 403 csrf_failed', (_name, headers, reason) => {
    expect(refusal(guard, http('POST', headers))).toBe(reason);
  });

  it('lets safe methods through whatever their origin', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) {
      expect(refusal(guard, http(method, { origin: 'https://evil.example' }))).toBeUndefined();
    }
  });

  it('accepts the front ends listed in csrf.allowedOrigins', () => {
    const listed = guardWith({ csrf: { allowedOrigins: ['http://localhost:5173'] } });
    const headers = { origin: 'http://localhost:5173', 'sec-fetch-site': 'same-site' };
    expect(refusal(listed, http('POST', headers))).toBeUndefined();
    expect(refusal(listed, http('POST', { origin: 'http://localhost:6666' }))).toBe(
      'origin_mismatch',
    );
  });

  it('still checks with csrf: false (putting it on a route is an explicit choice)', () => {
    const off = guardWith({ csrf: false });
    expect(refusal(off, http('POST', { origin: 'https://evil.example' }))).toBe('origin_mismatch');
  });
});
