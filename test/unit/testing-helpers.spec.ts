import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { Entity } from 'typeorm';
import {
  AbstractAuthToken,
  AuthTokenEntity,
  InsufficientScopeError,
  InvalidAbilitiesError,
  MissingContextKeyError,
  RequireAbilities,
} from '../../lib';
import { actingAs, actingAsAnonymous, createTestAuthToken } from '../../lib/testing';
import { DurinUnauthorizedException } from '../../lib/errors/durin-http.exception';

const USER = { id: 42, email: 'ada@example.com' };

@Entity('custom_token')
class CustomToken extends AbstractAuthToken {
  label(): string {
    return `token of ${String((this.user as { id?: number }).id)}`;
  }
}

class Routes {
  open(): void {}
  @RequireAbilities('orders:write')
  write(): void {}
}

/** An HTTP execution context of `Routes[handler]`, as Nest builds it for a guard. */
function httpContext(handler: keyof Routes, request: object = {}): ExecutionContextHost {
  const host = new ExecutionContextHost([request, {}], Routes, Routes.prototype[handler]);
  host.setType('http');
  return host;
}

describe('createTestAuthToken', () => {
  it('builds a real token entity with the defaults of a fresh header login', () => {
    const before = Date.now();
    const token = createTestAuthToken(USER);
    expect(token).toBeInstanceOf(AuthTokenEntity);
    expect(token.user).toBe(USER);
    expect(token.authType).toBe('header');
    expect(token.client).toBeNull();
    expect(token.abilities).toEqual(['*']);
    expect(token.can('anything:at-all')).toBe(true);
    expect(token.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(token.refreshExpiresAt!.getTime()).toBeGreaterThan(token.expiresAt!.getTime());
    expect(token.isExpired).toBe(false);
    expect(token.isRevoked).toBe(false);
    expect(token.familyId).toBe(token.id);
    expect(token.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(createTestAuthToken(USER).id).not.toBe(token.id);
  });

  it('has the abilities, client, context and expiries it is given', () => {
    const expiresAt = new Date(Date.now() - 1000);
    const token = createTestAuthToken(USER, {
      abilities: ['orders:*', 'orders:*'],
      client: 'cli',
      authType: 'cookie',
      context: { device: 'laptop', tags: ['a'] },
      expiresAt,
      refreshExpiresAt: null,
    });
    expect(token.abilities).toEqual(['orders:*']);
    expect(token.can('orders:read')).toBe(true);
    expect(token.cannot('users:read')).toBe(true);
    expect(token.client?.name).toBe('cli');
    expect(token.authType).toBe('cookie');
    expect(token.contextObj.device).toBe('laptop');
    expect(() => {
      (token.contextObj as Record<string, unknown>).device = 'phone';
    }).toThrow(TypeError);
    expect(token.isExpired).toBe(true);
    expect(token.refreshExpiresAt).toBeNull();
    expect(token.refreshTokenHash).toBeNull();
  });

  it('reads a missing context key as the module option strictContextAccess has it', () => {
    expect(createTestAuthToken(USER).contextObj.device).toBeUndefined();
    const strict = createTestAuthToken(USER, { strictContextAccess: true });
    expect(() => strict.contextObj.device).toThrow(MissingContextKeyError);
  });

  it('builds the app’s own token model', () => {
    const token = createTestAuthToken(USER, { tokenEntity: CustomToken });
    expect(token).toBeInstanceOf(CustomToken);
    expect(token.label()).toBe('token of 42');
  });

  it('refuses abilities and client names production could never issue', () => {
    expect(() => createTestAuthToken(USER, { abilities: ['Orders Read'] })).toThrow(
      InvalidAbilitiesError,
    );
    expect(() => createTestAuthToken(USER, { client: '' })).toThrow(TypeError);
    expect(() => createTestAuthToken(USER, { client: 'x'.repeat(65) })).toThrow(TypeError);
  });
});

describe('ActingAsGuard', () => {
  it('sets request.user and request.authToken to its user and token', () => {
    const guard = actingAs(USER, { abilities: ['orders:write'] });
    const request: { user?: object; authToken?: object } = {};
    expect(guard.canActivate(httpContext('write', request))).toBe(true);
    expect(request.user).toBe(USER);
    expect(request.authToken).toBe(guard.token);
  });

  it('throws the real guard’s errors after authentication', () => {
    const guard = actingAs(USER, { abilities: ['orders:read'] });
    expect(() => guard.canActivate(httpContext('write'))).toThrow(InsufficientScopeError);
    expect(guard.canActivate(httpContext('open'))).toBe(true);
    expect(() => actingAsAnonymous().canActivate(httpContext('open'))).toThrow(
      DurinUnauthorizedException,
    );
  });
});
