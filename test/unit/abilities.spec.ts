import { Controller, ExecutionContext, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  abilityCovers,
  AuthTokenEntity,
  DurinConfigurationError,
  InsufficientScopeError,
  InvalidAbilitiesError,
  parseAbilities,
  RequireAbilities,
  RequireAnyAbility,
} from '../../lib';
import { grants, notGranted, storedAbilities } from '../../lib/abilities/abilities';
import { apiKeyAbilitiesFromBody } from '../../lib/abilities/api-key-abilities';
import { takeRefreshAbilities } from '../../lib/abilities/refresh-abilities';
import { assertAbilities, routeAbilityRequirements } from '../../lib/abilities/route-abilities';

function refusal(work: () => unknown): { name: string; code: string; reason?: string } {
  try {
    work();
  } catch (error) {
    const e = error as { name: string; code: string; reason?: string };
    return { name: e.name, code: e.code, reason: e.reason };
  }
  throw new Error('expected a refusal');
}

describe('parseAbilities', () => {
  it('returns a de-duplicated copy in the given order', () => {
    const input = ['orders:read', 'orders:*', 'orders:read', '*', 'a.b_c-d:e9'];
    const parsed = parseAbilities(input);
    expect(parsed).toEqual(['orders:read', 'orders:*', '*', 'a.b_c-d:e9']);
    expect(parsed).not.toBe(input);
    expect(parseAbilities([])).toEqual([]);
  });

  it('accepts 64 abilities of 64 characters', () => {
    const many = Array.from(
      { length: 64 },
      (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(62)}`,
    );
    expect(parseAbilities(many)).toHaveLength(64);
  });

  it.each<[string, unknown]>([
    ['a string', 'orders:read'],
    ['null', null],
    ['an object', { 0: 'orders:read' }],
    ['65 abilities', Array.from({ length: 65 }, (_, i) => `a${i}`)],
    ['a number inside', [1]],
    ['an empty string', ['']],
    ['65 characters', ['a'.repeat(65)]],
    ['upper case', ['Orders:Read']],
    ['a space', ['orders read']],
    ['a quote (header injection)', ['a", error="x']],
    ['a newline', ['a\nb']],
    ['non-ASCII', ['ordérs']],
    ['a star inside a segment', ['orders:re*d']],
    ['a star before the end', ['*:read']],
    ['an empty segment', ['orders::read']],
    ['a trailing colon', ['orders:']],
    ['a nested array', [['*']]],
  ])('refuses %s: 400 invalid_scope (malformed)', (_name, value) => {
    expect(refusal(() => parseAbilities(value))).toEqual({
      name: 'InvalidAbilitiesError',
      code: 'invalid_scope',
      reason: 'malformed',
    });
  });

  it('refuses a huge array by its length without walking it', () => {
    const huge = new Array<string>(1_000_000);
    expect(refusal(() => parseAbilities(huge)).reason).toBe('malformed');
  });
});

describe('ability matching', () => {
  it.each<[string, string, boolean]>([
    ['*', 'orders:read', true],
    ['*', '*', true],
    ['*', 'durin:sessions', true],
    ['orders:read', 'orders:read', true],
    ['orders:read', 'orders:write', false],
    ['orders:*', 'orders:read', true],
    ['orders:*', 'orders:items:write', true],
    ['orders:*', 'orders:*', true],
    ['orders:*', 'orders', false],
    ['orders:*', 'ordersx:read', false],
    ['orders:*', '*', false],
    ['orders:read', 'orders:*', false],
    ['orders:items:*', 'orders:*', false],
    ['orders:items:*', 'orders:items:read', true],
    ['durin:*', 'durin:sessions', true],
  ])('%s covers %s: %s', (granted, wanted, expected) => {
    expect(abilityCovers(granted, wanted)).toBe(expected);
  });

  it('a set covers what one of its abilities covers', () => {
    expect(grants(['orders:read', 'users:*'], 'users:delete')).toBe(true);
    expect(grants([], 'orders:read')).toBe(false);
    expect(notGranted(['orders:*'], ['orders:read', '*', 'users:read'])).toEqual([
      '*',
      'users:read',
    ]);
  });

  it('reads a NULL (pre-abilities) column as every ability', () => {
    expect(storedAbilities(null)).toEqual(['*']);
    expect(storedAbilities(undefined)).toEqual(['*']);
    expect(storedAbilities([])).toEqual([]);
  });
});

describe('token.can / token.cannot', () => {
  const token = (abilities: string[] | null) => Object.assign(new AuthTokenEntity(), { abilities });

  it('checks with wildcards', () => {
    const t = token(['orders:*', 'users:read']);
    expect(t.can('orders:write')).toBe(true);
    expect(t.can('users:read')).toBe(true);
    expect(t.can('users:write')).toBe(false);
    expect(t.cannot('users:write')).toBe(true);
    expect(t.cannot('orders:read')).toBe(false);
  });

  it('a token issued before abilities existed (NULL) can do everything', () => {
    expect(token(null).can('anything:at:all')).toBe(true);
    expect(token(null).can('durin:sessions')).toBe(true);
  });

  it('a token with no abilities can do nothing that is asked for', () => {
    expect(token([]).can('orders:read')).toBe(false);
    expect(token([]).cannot('*')).toBe(true);
  });
});

@RequireAbilities('orders:read')
@Controller()
class OrdersController {
  @RequireAnyAbility('orders:write', 'orders:admin')
  @RequireAbilities('audit:log')
  @Get()
  write(): void {}

  @Get()
  read(): void {}
}

function contextFor(handler: () => void): ExecutionContext {
  return {
    getHandler: () => handler,
    getClass: () => OrdersController,
  } as unknown as ExecutionContext;
}

describe('@RequireAbilities / @RequireAnyAbility', () => {
  const reflector = new Reflector();

  it("collects the handler's and the controller's requirements, stacked ones included", () => {
    const proto = OrdersController.prototype;
    expect(routeAbilityRequirements(reflector, contextFor(proto.write))).toEqual(
      expect.arrayContaining([
        { mode: 'all', abilities: ['orders:read'] },
        { mode: 'any', abilities: ['orders:write', 'orders:admin'] },
        { mode: 'all', abilities: ['audit:log'] },
      ]),
    );
    expect(routeAbilityRequirements(reflector, contextFor(proto.write))).toHaveLength(3);
    expect(routeAbilityRequirements(reflector, contextFor(proto.read))).toEqual([
      { mode: 'all', abilities: ['orders:read'] },
    ]);
  });

  it('refuses a malformed or empty requirement when the class is defined', () => {
    expect(() => RequireAbilities('Orders:Read')).toThrow(DurinConfigurationError);
    expect(() => RequireAnyAbility()).toThrow(DurinConfigurationError);
    expect(() => RequireAbilities('a"b')).toThrow(/RequireAbilities/);
  });

  it('all: every ability; any: one is enough; each requirement must hold', () => {
    const requirements = routeAbilityRequirements(
      reflector,
      contextFor(OrdersController.prototype.write),
    );
    expect(() => assertAbilities(['*'], requirements)).not.toThrow();
    expect(() => assertAbilities(null, requirements)).not.toThrow();
    expect(() =>
      assertAbilities(['orders:read', 'orders:admin', 'audit:log'], requirements),
    ).not.toThrow();
    expect(() => assertAbilities(['orders:*', 'audit:*'], requirements)).not.toThrow();
    expect(() => assertAbilities(['orders:read', 'audit:log'], requirements)).toThrow(
      InsufficientScopeError,
    );
    expect(() => assertAbilities(['orders:write', 'audit:log'], requirements)).toThrow(
      InsufficientScopeError,
    );
    expect(() => assertAbilities([], [])).not.toThrow();
  });

  it('names the failed requirement in the challenge', () => {
    try {
      assertAbilities(
        ['orders:read'],
        [{ mode: 'any', abilities: ['orders:write', 'orders:admin'] }],
      );
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(InsufficientScopeError);
      const scope = error as InsufficientScopeError;
      expect(scope.required).toEqual(['orders:write', 'orders:admin']);
      expect(scope.mode).toBe('any');
      expect(scope.headers['WWW-Authenticate']).toBe(
        'Bearer realm="api", error="insufficient_scope", scope="orders:write orders:admin"',
      );
    }
  });
});

describe('apiKeyAbilitiesFromBody', () => {
  it('no body or {} is the default set: nothing', () => {
    expect(apiKeyAbilitiesFromBody(undefined, ['*'])).toEqual([]);
    expect(apiKeyAbilitiesFromBody({}, ['*'])).toEqual([]);
  });

  it('takes abilities held by the caller', () => {
    expect(apiKeyAbilitiesFromBody({ abilities: ['orders:read'] }, ['*'])).toEqual(['orders:read']);
    expect(apiKeyAbilitiesFromBody({ abilities: ['orders:read'] }, ['orders:*'])).toEqual([
      'orders:read',
    ]);
    expect(apiKeyAbilitiesFromBody({ abilities: ['durin:sessions'] }, null)).toEqual([
      'durin:sessions',
    ]);
  });

  it('never grants *, and nothing the caller lacks', () => {
    expect(refusal(() => apiKeyAbilitiesFromBody({ abilities: ['*'] }, ['*']))).toMatchObject({
      code: 'invalid_scope',
      reason: 'not_granted',
    });
    expect(
      refusal(() => apiKeyAbilitiesFromBody({ abilities: ['orders:*'] }, ['orders:read'])),
    ).toMatchObject({ code: 'invalid_scope', reason: 'not_granted' });
    expect(refusal(() => apiKeyAbilitiesFromBody({ abilities: ['X'] }, ['*']))).toMatchObject({
      code: 'invalid_scope',
      reason: 'malformed',
    });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['an array', [['orders:read']]],
    ['a string', 'orders:read'],
    ['an unknown field', { abilities: [], isAdmin: true }],
  ])('refuses %s as 400 invalid_request', (_name, body) => {
    expect(refusal(() => apiKeyAbilitiesFromBody(body, ['*']))).toMatchObject({
      code: 'invalid_request',
    });
  });
});

describe('takeRefreshAbilities', () => {
  it('takes abilities out and leaves the rest to the refresh body checks', () => {
    expect(takeRefreshAbilities({ refreshToken: 't', abilities: ['a', 'a'] })).toEqual({
      rest: { refreshToken: 't' },
      abilities: ['a'],
    });
    expect(takeRefreshAbilities({ abilities: [] })).toEqual({ rest: {}, abilities: [] });
    expect(takeRefreshAbilities({ refreshToken: 't' })).toEqual({
      rest: { refreshToken: 't' },
      abilities: undefined,
    });
    for (const body of [undefined, null, 'x', [1]]) {
      expect(takeRefreshAbilities(body)).toEqual({ rest: body, abilities: undefined });
    }
  });

  it('refuses malformed abilities with 400 invalid_scope', () => {
    expect(() => takeRefreshAbilities({ abilities: 'orders:read' })).toThrow(InvalidAbilitiesError);
  });
});
