import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AllowClients, Public, RequireAbilities } from '../../lib';
import { RouteRulesMemo } from '../../lib/http/route-rules';

class BaseController {
  @RequireAbilities('orders:read')
  list(): void {}

  open(): void {}
}

@Public()
class PublicController extends BaseController {}

@AllowClients('web')
class WebController extends BaseController {
  @Public()
  health(): void {}
}

function contextOf(controller: object, handler: unknown): ExecutionContext {
  return { getHandler: () => handler, getClass: () => controller } as ExecutionContext;
}

describe('RouteRulesMemo (the route decorators, read once per handler and controller)', () => {
  const memo = new RouteRulesMemo(new Reflector());
  const list = Object.getOwnPropertyDescriptor(BaseController.prototype, 'list')!.value as object;
  const open = Object.getOwnPropertyDescriptor(BaseController.prototype, 'open')!.value as object;
  const health = Object.getOwnPropertyDescriptor(WebController.prototype, 'health')!
    .value as object;

  it('reads public, client policy and abilities as the guard did per request', () => {
    expect(memo.of(contextOf(BaseController, list))).toEqual({
      isPublic: false,
      clients: undefined,
      abilities: [{ mode: 'all', abilities: ['orders:read'] }],
    });
    expect(memo.of(contextOf(WebController, health))).toMatchObject({ isPublic: true });
    expect(memo.of(contextOf(WebController, open)).clients).toEqual({ allow: new Set(['web']) });
  });

  it('keeps one handler inherited by two controllers apart', () => {
    // The same function object under each controller: the rules are per (handler, controller).
    expect(memo.of(contextOf(PublicController, open)).isPublic).toBe(true);
    expect(memo.of(contextOf(WebController, open)).isPublic).toBe(false);
    expect(memo.of(contextOf(BaseController, open))).toEqual({
      isPublic: false,
      clients: undefined,
      abilities: [],
    });
    // And answers the same again from the memo.
    expect(memo.of(contextOf(PublicController, open)).isPublic).toBe(true);
    expect(memo.of(contextOf(WebController, open)).clients).toEqual({ allow: new Set(['web']) });
  });
});
