import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { ServerResponse, IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import {
  AbstractAuthToken,
  AuthCookieService,
  AuthGuard,
  type AuthenticationResult,
  type DurinAuthResult,
  type DurinRequest,
  DurinUnauthorizedException,
  DurinUnavailableException,
  ManualClock,
  Public,
  TokenService,
  TokenStoreUnavailableError,
} from '../../lib';
import { resolveDurinOptions } from '../../lib/options/resolve-options';

class User {
  id = 1;
}

const options = resolveDurinOptions({ userEntity: User, tokenTtl: '1h' });
const clock = new ManualClock(Date.UTC(2030, 0, 1));
const TOKEN = 'durin_at_abc';

function fakeToken(authType: 'header' | 'cookie'): AbstractAuthToken {
  const token = Object.create(AbstractAuthToken.prototype) as AbstractAuthToken;
  Object.assign(token, {
    id: 't1',
    authType,
    context: {},
    expiresAt: new Date(clock.now() + 3_600_000),
  });
  return token;
}

function setup(outcome: () => Promise<AuthenticationResult>) {
  const authenticate = jest.fn(outcome);
  const tokens = { authenticate } as unknown as TokenService;
  const guard = new AuthGuard(
    new Reflector(),
    tokens,
    new AuthCookieService(options, clock),
    options,
  );
  return { guard, authenticate };
}

const ok =
  (authType: 'header' | 'cookie', autoRefreshed = false) =>
  async () =>
    ({ ok: true, user: new User(), token: fakeToken(authType), autoRefreshed }) as const;

class Handlers {
  closed(): void {}
  @Public()
  open(): void {}
}

function context(type: string, args: unknown[], handler: 'closed' | 'open' = 'closed') {
  const host = new ExecutionContextHost(args, Handlers, Handlers.prototype[handler]);
  host.setType(type);
  return host;
}

function nodeResponse(): ServerResponse {
  return new ServerResponse(new IncomingMessage(new Socket()));
}

describe('AuthGuard outside plain HTTP', () => {
  it('reads a GraphQL context’s req and puts the challenge on its res', async () => {
    const { guard, authenticate } = setup(ok('header'));
    const req: DurinRequest = { headers: {} };
    const res = nodeResponse();
    const gql = context('graphql', [{}, {}, { req, res }, {}]);
    await expect(guard.canActivate(gql)).rejects.toBeInstanceOf(DurinUnauthorizedException);
    expect(res.getHeader('www-authenticate')).toBe('Bearer realm="api"');
    expect(authenticate).not.toHaveBeenCalled();

    req.headers = { authorization: `Bearer ${TOKEN}` };
    await expect(guard.canActivate(gql)).resolves.toBe(true);
    expect(authenticate).toHaveBeenCalledWith(TOKEN, 'header');
    expect(req.user).toBeInstanceOf(User);
    expect(req.authToken?.id).toBe('t1');
  });

  it('falls back to req.res for a GraphQL context without res', async () => {
    const { guard } = setup(ok('header'));
    const res = nodeResponse();
    const req = { headers: { authorization: 'Bearer a b' }, res };
    const error = await guard
      .canActivate(context('graphql', [{}, {}, { req }, {}]))
      .catch((e) => e);
    expect(error).toBeInstanceOf(DurinUnauthorizedException);
    expect((error as DurinUnauthorizedException).headers).toEqual({
      'WWW-Authenticate': 'Bearer realm="api", error="invalid_token"',
    });
    expect(res.getHeader('www-authenticate')).toBe('Bearer realm="api", error="invalid_token"');
  });

  it('reads a socket.io handshake for WebSockets and sets the user on it', async () => {
    const { guard, authenticate } = setup(ok('cookie'));
    const handshake: DurinRequest = { headers: { cookie: `__Host-token=${TOKEN}` } };
    await expect(guard.canActivate(context('ws', [{ handshake }, {}]))).resolves.toBe(true);
    expect(authenticate).toHaveBeenCalledWith(TOKEN, 'cookie');
    expect(handshake.user).toBeInstanceOf(User);
  });

  it('checks every WebSocket message again (the handshake outlives it)', async () => {
    let revoked = false;
    const { guard, authenticate } = setup(async () =>
      revoked ? { ok: false, reason: 'token_invalid' } : ok('header')(),
    );
    const handshake = { headers: { authorization: `Bearer ${TOKEN}` } };
    await expect(guard.canActivate(context('ws', [{ handshake }, {}]))).resolves.toBe(true);
    revoked = true;
    await expect(guard.canActivate(context('ws', [{ handshake }, {}]))).rejects.toBeInstanceOf(
      DurinUnauthorizedException,
    );
    expect(authenticate).toHaveBeenCalledTimes(2);
  });

  it('authenticates an HTTP request once when two guards apply', async () => {
    const { guard, authenticate } = setup(ok('header'));
    const req = { headers: { authorization: `Bearer ${TOKEN}` } };
    const res = nodeResponse();
    await guard.canActivate(context('http', [req, res]));
    await guard.canActivate(context('http', [req, res]));
    expect(authenticate).toHaveBeenCalledTimes(1);
  });

  it('throws with the headers on the exception when there is no response (ws)', async () => {
    const { guard } = setup(async () => {
      throw new TokenStoreUnavailableError(new Error('ECONNRESET'));
    });
    const handshake = { headers: { authorization: `Bearer ${TOKEN}` } };
    const error = await guard.canActivate(context('ws', [{ handshake }, {}])).catch((e) => e);
    expect(error).toBeInstanceOf(DurinUnavailableException);
    expect((error as DurinUnavailableException).getStatus()).toBe(503);
    expect((error as DurinUnavailableException).headers).toEqual({ 'Retry-After': '5' });
  });

  it('maps a store failure to 503 with Retry-After on an HTTP response', async () => {
    const { guard } = setup(async () => {
      throw new TokenStoreUnavailableError();
    });
    const res = nodeResponse();
    const req = { headers: { authorization: `Bearer ${TOKEN}` } };
    await expect(guard.canActivate(context('http', [req, res]))).rejects.toBeInstanceOf(
      DurinUnavailableException,
    );
    expect(res.getHeader('retry-after')).toBe('5');
  });

  it('skips @Public() handlers without reading anything', async () => {
    const { guard, authenticate } = setup(ok('header'));
    const req = { headers: { authorization: `Bearer ${TOKEN}` } } as DurinRequest;
    await expect(guard.canActivate(context('http', [req, nodeResponse()], 'open'))).resolves.toBe(
      true,
    );
    expect(authenticate).not.toHaveBeenCalled();
    expect(req.user).toBeUndefined();
  });

  it('sets the refreshed cookie after a slide of a cookie token only', async () => {
    const cookieGuard = setup(ok('cookie', true)).guard;
    const res = nodeResponse();
    await cookieGuard.canActivate(
      context('http', [{ headers: { cookie: `__Host-token=${TOKEN}` } }, res]),
    );
    // The session's readable CSRF cookie is re-set with it, for as long (REQ-CSRF-01).
    const csrf = new AuthCookieService(options, clock).csrfTokenFor(TOKEN);
    expect(res.getHeader('set-cookie')).toEqual([
      `__Host-token=${TOKEN}; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax`,
      `__Host-csrf=${csrf}; Max-Age=3600; Path=/; Secure; SameSite=Lax`,
    ]);

    const headerGuard = setup(ok('header', true)).guard;
    const other = nodeResponse();
    await headerGuard.canActivate(
      context('http', [{ headers: { authorization: `Bearer ${TOKEN}` } }, other]),
    );
    expect(other.getHeader('set-cookie')).toBeUndefined();
  });

  it('lets a subclass admit anonymous requests through handleRequest, never store failures', async () => {
    class OptionalAuthGuard extends AuthGuard {
      protected override handleRequest(result: DurinAuthResult, request: DurinRequest): void {
        if (!result.ok && result.code === 'token_missing') return;
        super.handleRequest(result, request);
      }
    }
    const tokens = {
      authenticate: jest.fn(async () => {
        throw new TokenStoreUnavailableError();
      }),
    } as unknown as TokenService;
    const guard = new OptionalAuthGuard(
      new Reflector(),
      tokens,
      new AuthCookieService(options, clock),
      options,
    );
    const anonymous: DurinRequest = { headers: {} };
    await expect(guard.canActivate(context('http', [anonymous, nodeResponse()]))).resolves.toBe(
      true,
    );
    expect(anonymous.user).toBeUndefined();
    await expect(
      guard.canActivate(
        context('http', [{ headers: { authorization: 'Bearer x' } }, nodeResponse()]),
      ),
    ).rejects.toBeInstanceOf(DurinUnavailableException);
    await expect(
      guard.canActivate(
        context('http', [{ headers: { authorization: 'Bearer a b' } }, nodeResponse()]),
      ),
    ).rejects.toBeInstanceOf(DurinUnauthorizedException);
  });
});

describe('auth cookie options', () => {
  it('reads the __Host- form of the configured cookie name', () => {
    expect(options.cookie.name).toBe('__Host-token');
    expect(options.authCookieNames).toEqual(['__Host-token']);
    const custom = resolveDurinOptions({
      userEntity: User,
      cookie: { name: 'sid' },
      authCookieNames: ['legacy', 'sid'],
    });
    expect(custom.cookie.name).toBe('__Host-sid');
    expect(custom.authCookieNames).toEqual(['legacy', '__Host-sid']);
    expect(
      resolveDurinOptions({ userEntity: User, cookie: { name: 'sid' } }).authCookieNames,
    ).toEqual(['__Host-sid']);
    expect(
      resolveDurinOptions({ userEntity: User, cookie: { name: 'sid' }, authCookieNames: ['x'] })
        .authCookieNames,
    ).toEqual(['__Host-sid', 'x']);
  });

  it('keeps the plain name where __Host- is impossible (domain or path set)', () => {
    const scoped = resolveDurinOptions({
      userEntity: User,
      cookie: { domain: 'example.com', sameSite: 'strict' },
    });
    expect(scoped.cookie.name).toBe('token');
    expect(scoped.authCookieNames).toEqual(['token']);
    const service = new AuthCookieService(scoped, clock);
    expect(service.serializeAuthCookie({ accessToken: TOKEN, accessTokenExpiresAt: null })).toBe(
      `token=${TOKEN}; Max-Age=34560000; Domain=example.com; Path=/; HttpOnly; Secure; SameSite=Strict`,
    );
  });

  it('writes and clears the cookie on a Fastify-shaped reply, replacing its own earlier line', () => {
    const headers: Record<string, unknown> = { 'set-cookie': ['other=1'] };
    const reply = {
      raw: { headersSent: false },
      sent: false,
      header(name: string, value: unknown) {
        const key = name.toLowerCase();
        const current = headers[key];
        // Fastify appends Set-Cookie values instead of replacing them.
        headers[key] =
          key === 'set-cookie' && current !== undefined
            ? ([] as unknown[]).concat(current, value)
            : value;
        return this;
      },
      getHeader: (name: string) => headers[name.toLowerCase()],
      removeHeader: (name: string) => delete headers[name.toLowerCase()],
    };
    const service = new AuthCookieService(options, clock);
    service.setAuthCookie(reply, {
      accessToken: TOKEN,
      accessTokenExpiresAt: new Date(clock.now() + 90_500),
      refreshToken: 'durin_rt_abc',
      refreshTokenExpiresAt: new Date(clock.now() + 200_500),
    });
    expect(headers['set-cookie']).toEqual([
      'other=1',
      `__Host-token=${TOKEN}; Max-Age=200; Path=/; HttpOnly; Secure; SameSite=Lax`,
      `__Host-csrf=${service.csrfTokenFor(TOKEN)}; Max-Age=200; Path=/; Secure; SameSite=Lax`,
      '__Secure-refresh=durin_rt_abc; Max-Age=200; Path=/auth/refresh; HttpOnly; Secure; SameSite=Lax',
    ]);
    service.clearAuthCookie(reply);
    expect(headers['set-cookie']).toEqual([
      'other=1',
      '__Host-token=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax',
      '__Host-csrf=; Max-Age=0; Path=/; Secure; SameSite=Lax',
      '__Secure-refresh=; Max-Age=0; Path=/auth/refresh; HttpOnly; Secure; SameSite=Lax',
    ]);
  });

  it('lets the auth and CSRF cookies live as long as the session can be refreshed', () => {
    const service = new AuthCookieService(options, clock);
    const access = new Date(clock.now() + 3_600_999);
    const refresh = new Date(clock.now() + 86_400_999);
    // Rounded down: no cookie outlives the expiry it was given.
    expect(
      service.serializeAuthCookie({ accessToken: TOKEN, accessTokenExpiresAt: access }),
    ).toMatch(/; Max-Age=3600; /);
    expect(
      service.serializeAuthCookie({
        accessToken: TOKEN,
        accessTokenExpiresAt: access,
        refreshTokenExpiresAt: refresh,
      }),
    ).toMatch(/; Max-Age=86400; /);
    // A refresh expiry before the access expiry (a renewed access token) does not shorten it.
    expect(
      service.serializeAuthCookie({
        accessToken: TOKEN,
        accessTokenExpiresAt: refresh,
        refreshTokenExpiresAt: access,
      }),
    ).toMatch(/; Max-Age=86400; /);
    // No refresh token in the set: no refresh cookie is written.
    const response = nodeResponse();
    service.setAuthCookie(response, {
      accessToken: TOKEN,
      accessTokenExpiresAt: access,
      refreshToken: null,
      refreshTokenExpiresAt: null,
    });
    expect(String(response.getHeader('set-cookie'))).not.toContain('refresh');
  });

  it('refuses a response it cannot write to', () => {
    const service = new AuthCookieService(options, clock);
    expect(() => service.clearAuthCookie({})).toThrow(TypeError);
    const sent = nodeResponse();
    Object.defineProperty(sent, 'headersSent', { value: true });
    expect(() => service.clearAuthCookie(sent)).toThrow(TypeError);
  });
});
