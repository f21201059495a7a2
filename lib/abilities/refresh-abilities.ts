import { parseAbilities } from './abilities';

/**
 * Takes the optional `abilities` out of a `POST <path>/refresh` body (`{ refreshToken,
 * abilities }` for a header session, `{ abilities }` for a cookie session): the rest goes on to
 * the refresh body's own checks, which know nothing of abilities. Anything but a plain object is
 * passed on untouched, to be refused there.
 *
 * @throws InvalidAbilitiesError 400 `invalid_scope` for malformed abilities, before any lookup
 */
export function takeRefreshAbilities(body: unknown): {
  rest: unknown;
  abilities: string[] | undefined;
} {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('abilities' in body)) {
    return { rest: body, abilities: undefined };
  }
  const { abilities, ...rest } = body as Record<string, unknown>;
  return { rest, abilities: parseAbilities(abilities, 'abilities') };
}
