import { InvalidAbilitiesError } from './ability-errors';

/** What every token held before abilities existed, and what one issued without any holds. */
export const ALL_ABILITIES: readonly string[] = Object.freeze(['*']);

/**
 * The ability the library's session-management routes need (`GET sessions`, `DELETE
 * sessions/:id`, `POST logoutall`, `apiaccess`): held by `['*']` tokens, never by a default
 * API key.
 */
export const DURIN_SESSIONS_ABILITY = 'durin:sessions';

/**
 * What a personal API key holds when it is created without `abilities`: nothing, so it passes
 * only routes that require no ability (and logs itself out). Least privilege by default: a key
 * handed to a CI script cannot end its owner's sessions or mint further keys.
 */
export const DURIN_API_KEY_DEFAULT_ABILITIES: readonly string[] = Object.freeze([]);

/** The most abilities one token may hold. */
export const MAX_ABILITIES = 64;
/** The longest ability name. */
export const MAX_ABILITY_LENGTH = 64;

// `*` only as the whole ability or as its last segment (`orders:*`): a star elsewhere would read
// like a pattern but match only itself, so it is refused rather than silently meaning nothing.
const ABILITY_PATTERN = /^(?:\*|[a-z0-9._-]+(?::[a-z0-9._-]+)*(?::\*)?)$/;

/** Whether `value` is a well-formed ability name (see {@link parseAbilities}). */
export function isAbility(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_ABILITY_LENGTH &&
    ABILITY_PATTERN.test(value)
  );
}

/**
 * Checks a list of abilities as given by a caller and returns a fresh, de-duplicated copy in the
 * given order. Each is 1 to {@link MAX_ABILITY_LENGTH} characters of `a-z 0-9 : * . _ -`, with
 * `*` only alone or as the last segment (`orders:*`); at most {@link MAX_ABILITIES} of them.
 *
 * @param field what the list is, named in the developer-facing message
 * @throws InvalidAbilitiesError (400 `invalid_scope`) on anything else
 */
export function parseAbilities(value: unknown, field = 'abilities'): string[] {
  if (!Array.isArray(value)) {
    throw new InvalidAbilitiesError('malformed', `${field} must be an array of strings`);
  }
  // Checked before walking it: a million-element array is refused at the cost of one comparison.
  if (value.length > MAX_ABILITIES) {
    throw new InvalidAbilitiesError(
      'malformed',
      `${field} may hold at most ${MAX_ABILITIES} abilities (got ${value.length})`,
    );
  }
  const unique = new Set<string>();
  for (const [index, ability] of value.entries()) {
    if (!isAbility(ability)) {
      throw new InvalidAbilitiesError(
        'malformed',
        `${field}[${index}] must be 1 to ${MAX_ABILITY_LENGTH} characters of a-z 0-9 : . _ - ` +
          `with * only alone or as the last segment`,
      );
    }
    unique.add(ability);
  }
  return [...unique];
}

/**
 * The abilities a stored value stands for: `null` (a token issued before abilities existed) is
 * `['*']`, as is anything unreadable, which only a hand-edited row can hold. Never wider than
 * what was stored otherwise.
 */
export function storedAbilities(stored: readonly string[] | null | undefined): readonly string[] {
  return Array.isArray(stored) ? stored : ALL_ABILITIES;
}

/**
 * Whether one granted ability covers a wanted one: `*` covers everything, `orders:*` covers
 * `orders:read`, `orders:items:write` and `orders:*` itself, anything else only itself. A wanted
 * `orders:*` is therefore only covered by `orders:*` (or a wider wildcard), never by
 * `orders:read`: this is also the "subset" rule of narrowing.
 */
export function abilityCovers(granted: string, wanted: string): boolean {
  if (granted === '*' || granted === wanted) return true;
  return granted.endsWith(':*') && wanted.startsWith(granted.slice(0, -1));
}

/** Whether a set of granted abilities covers `wanted` (see {@link abilityCovers}). */
export function grants(granted: readonly string[], wanted: string): boolean {
  return granted.some((ability) => abilityCovers(ability, wanted));
}

/** The abilities of `wanted` that `granted` does not cover, in order. */
export function notGranted(granted: readonly string[], wanted: readonly string[]): string[] {
  return wanted.filter((ability) => !grants(granted, ability));
}
