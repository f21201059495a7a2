import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { routeAbilityRequirements } from '../abilities/route-abilities';
import type { AbilityRequirement } from '../abilities/require-abilities.decorator';
import { ClientPolicy, routeClientPolicy } from '../clients/client-permissions';
import { DURIN_PUBLIC_KEY } from '../durin.constants';

/** What the guard reads from a route's decorators. */
export interface RouteRules {
  /** `@Public()` on the handler or the controller. */
  readonly isPublic: boolean;
  /** `@AllowClients()` / `@DenyClients()`. */
  readonly clients: ClientPolicy | undefined;
  /** `@RequireAbilities()` / `@RequireAnyAbility()` of the handler and the controller. */
  readonly abilities: readonly AbilityRequirement[];
}

/**
 * The rules of each route, read through the guard's Reflector once per handler and controller.
 * Decorators are applied when the classes are declared, so the answer never changes; reading
 * them per request cost three metadata walks (reflect-metadata follows the prototype chain of
 * the handler and of the class each time), about a tenth of a cache hit in the hit-path profile
 * (issue 12). Keyed weakly: a handler or controller that goes away takes its entry with it.
 */
export class RouteRulesMemo {
  private readonly byHandler = new WeakMap<object, WeakMap<object, RouteRules>>();

  constructor(private readonly reflector: Reflector) {}

  of(context: ExecutionContext): RouteRules {
    const handler: unknown = context.getHandler();
    const controller: unknown = context.getClass();
    if (!isKey(handler) || !isKey(controller)) return this.read(context);
    let byController = this.byHandler.get(handler);
    if (byController === undefined) {
      byController = new WeakMap();
      this.byHandler.set(handler, byController);
    }
    let rules = byController.get(controller);
    if (rules === undefined) {
      rules = this.read(context);
      byController.set(controller, rules);
    }
    return rules;
  }

  private read(context: ExecutionContext): RouteRules {
    return {
      isPublic:
        this.reflector.getAllAndOverride<boolean | undefined>(DURIN_PUBLIC_KEY, [
          context.getHandler(),
          context.getClass(),
        ]) === true,
      clients: routeClientPolicy(this.reflector, context),
      abilities: routeAbilityRequirements(this.reflector, context),
    };
  }
}

function isKey(value: unknown): value is object {
  return (typeof value === 'function' || typeof value === 'object') && value !== null;
}
