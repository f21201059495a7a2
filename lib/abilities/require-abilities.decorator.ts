import { DurinConfigurationError } from '../errors/durin-configuration.error';
import { isAbility } from './abilities';

/** Metadata key of `@RequireAbilities` / `@RequireAnyAbility`. */
export const DURIN_ABILITIES_KEY = 'DURIN:ABILITIES';

/** One decorator's requirement: all of `abilities`, or any one of them. */
export interface AbilityRequirement {
  readonly mode: 'all' | 'any';
  readonly abilities: readonly string[];
}

function requirement(
  decorator: string,
  mode: AbilityRequirement['mode'],
  abilities: string[],
): ClassDecorator & MethodDecorator {
  // Checked when the class is defined: a typo such as 'Orders:Read' could never be held by a
  // token, and the route would be refused to everyone without anyone noticing why.
  if (abilities.length === 0) {
    throw new DurinConfigurationError(decorator, 'needs at least one ability');
  }
  for (const ability of abilities) {
    if (!isAbility(ability)) {
      throw new DurinConfigurationError(
        decorator,
        `${JSON.stringify(ability)} is not an ability (1 to 64 characters of a-z 0-9 : . _ -, * only alone or last)`,
      );
    }
  }
  const added: AbilityRequirement = Object.freeze({
    mode,
    abilities: Object.freeze([...abilities]),
  });
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    const holder: object = descriptor?.value ?? target;
    // Several decorators on one target add up (each must hold) instead of the last one winning:
    // stacking a requirement must never loosen what an earlier one asked for.
    const existing =
      (Reflect.getOwnMetadata(DURIN_ABILITIES_KEY, holder) as AbilityRequirement[] | undefined) ??
      [];
    Reflect.defineMetadata(DURIN_ABILITIES_KEY, [...existing, added], holder);
  };
}

/**
 * The route (a handler, or every handler of a controller) needs a token holding **all** of these
 * abilities; checked by the `AuthGuard` right after authentication, on HTTP, GraphQL and
 * WebSocket handlers. A controller's and a handler's requirements both apply. Otherwise 403
 * `insufficient_scope` (see {@link InsufficientScopeError}).
 *
 * @example
 * @RequireAbilities('orders:read', 'orders:write')
 * @Post('orders')
 * create() {}
 */
export function RequireAbilities(...abilities: string[]): ClassDecorator & MethodDecorator {
  return requirement('RequireAbilities', 'all', abilities);
}

/**
 * Like {@link RequireAbilities}, but **any one** of these abilities is enough.
 *
 * @example
 * @RequireAnyAbility('orders:read', 'orders:admin')
 * @Get('orders')
 * list() {}
 */
export function RequireAnyAbility(...abilities: string[]): ClassDecorator & MethodDecorator {
  return requirement('RequireAnyAbility', 'any', abilities);
}
