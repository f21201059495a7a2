import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import {
  AbstractAuthToken,
  AuthCookieService,
  AuthGuard,
  type AuthenticationResult,
  type DurinAuthResult,
  type DurinRequest,
  DurinUnauthorizedException,
  InsufficientScopeError,
  ManualClock,
  RequireAbilities,
  TokenService,
} from '../../lib';
import { resolveDurinOptions } from '../../lib/options/resolve-options';

class User {
  id = 1;
}

const options = resolveDurinOptions({ userEntity: User, tokenTtl: '1h' });
const clock = new ManualClock(Date.UTC(2030, 0, 1));

function tokenWith(abilities: string[] | null): AbstractAuthToken {
  const token = Object.create(AbstractAuthToken.prototype) as AbstractAuthToken;
  return Object.assign(token, { id: 't1', authType: 'header', context: {}, abilities });
}

class Handlers {
  open(): void {}
  @RequireAbilities('orders:write')
  write(): void {}
}

function http(request: DurinRequest, response: ServerResponse, handler: 'open' | 'write') {
  const host = new ExecutionContextHost([request, response], Handlers, Handlers.prototype[handler]);
  host.setType('http');
  return host;
}

function guardFor(abilities: string[] | null) {
  const authenticate = jest.fn(async (): Promise<AuthenticationResult> => ({
    ok: true,
    user: new User(),
    token: tokenWith(abilities),
    autoRefreshed: false,
  }));
  const tokens = { authenticate } as unknown as TokenService;
  const guard = new AuthGuard(
    new Reflector(),
    tokens,
    new AuthCookieService(options, clock),
    options,
  );
  return { guard, authenticate };
}

const response = () => new ServerResponse(new IncomingMessage(new Socket()));

describe('AuthGuard and abilities', () => {
  it('checks the route once authenticated, with the challenge on the response', async () => {
    const { guard } = guardFor(['orders:read']);
    const res = response();
    const request: DurinRequest = { headers: { authorization: 'Bearer durin_at_x' } };
    await expect(guard.canActivate(http(request, res, 'write'))).rejects.toBeInstanceOf(
      InsufficientScopeError,
    );
    expect(res.getHeader('www-authenticate')).toBe(
      'Bearer realm="api", error="insufficient_scope", scope="orders:write"',
    );
  });

  it('checks it also when a second guard on the request takes the de-duplicated path', async () => {
    const { guard, authenticate } = guardFor(['orders:read']);
    const request: DurinRequest = { headers: { authorization: 'Bearer durin_at_x' } };
    // The first run (say, a global guard on a context without requirements) accepts the request.
    await expect(guard.canActivate(http(request, response(), 'open'))).resolves.toBe(true);
    const res = response();
    await expect(guard.canActivate(http(request, res, 'write'))).rejects.toBeInstanceOf(
      InsufficientScopeError,
    );
    expect(authenticate).toHaveBeenCalledTimes(1);
    expect(res.getHeader('www-authenticate')).toMatch(/insufficient_scope/);
  });

  it('lets a token holding the ability (or a pre-abilities NULL) through', async () => {
    for (const abilities of [['orders:write'], ['orders:*'], ['*'], null]) {
      const { guard } = guardFor(abilities);
      const request: DurinRequest = { headers: { authorization: 'Bearer durin_at_x' } };
      await expect(guard.canActivate(http(request, response(), 'write'))).resolves.toBe(true);
    }
  });

  it('a request let in without a token (overridden handleRequest) is 401 on a route with requirements', async () => {
    class AnonymousGuard extends AuthGuard {
      protected override handleRequest(result: DurinAuthResult, request: DurinRequest): void {
        if (!result.ok && result.code === 'token_missing') return;
        super.handleRequest(result, request);
      }
    }
    const tokens = {} as TokenService;
    const guard = new AnonymousGuard(
      new Reflector(),
      tokens,
      new AuthCookieService(options, clock),
      options,
    );
    await expect(guard.canActivate(http({ headers: {} }, response(), 'open'))).resolves.toBe(true);
    const res = response();
    await expect(guard.canActivate(http({ headers: {} }, res, 'write'))).rejects.toBeInstanceOf(
      DurinUnauthorizedException,
    );
    expect(res.getHeader('www-authenticate')).toBe('Bearer realm="api"');
  });
});
