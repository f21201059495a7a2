import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { storedAbilities, grants } from './abilities';
import { InsufficientScopeError } from './ability-errors';
import { AbilityRequirement, DURIN_ABILITIES_KEY } from './require-abilities.decorator';

/** The requirements of the route of `context`: its handler's and its controller's. */
export function routeAbilityRequirements(
  reflector: Reflector,
  context: ExecutionContext,
): AbilityRequirement[] {
  return reflector
    .getAll<Array<AbilityRequirement[] | undefined>>(DURIN_ABILITIES_KEY, [
      context.getHandler(),
      context.getClass(),
    ])
    .flatMap((requirements) => requirements ?? []);
}

/**
 * Throws {@link InsufficientScopeError} unless `abilities` meet every requirement. Pure: it reads
 * what was loaded with the token, so the check costs no query.
 */
export function assertAbilities(
  abilities: readonly string[] | null | undefined,
  requirements: readonly AbilityRequirement[],
): void {
  const held = storedAbilities(abilities);
  for (const { mode, abilities: wanted } of requirements) {
    const met =
      mode === 'all'
        ? wanted.every((ability) => grants(held, ability))
        : wanted.some((ability) => grants(held, ability));
    if (!met) {
      throw new InsufficientScopeError(wanted, mode);
    }
  }
}
