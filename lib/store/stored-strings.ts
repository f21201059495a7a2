/**
 * Strings from outside (client names, session ids) are checked against what the store can hold
 * before they reach SQL. A value that cannot be stored cannot be found either, so the answer is
 * "unknown" without a query; and PostgreSQL refuses a NUL in its text types with a driver error,
 * which would otherwise surface as a store failure (a 503) for what is only bad input.
 */

/** Control characters (NUL included) and lone surrogates: never part of a name or id we wrote. */
const UNSTORABLE = /[\p{Cc}\p{Cs}]/u;

/** `auth_client.name` is a `varchar(64)`. */
export const CLIENT_NAME_MAX = 64;

/** Token ids are UUIDs in a `varchar(36)`. */
export const TOKEN_ID_MAX = 36;

/** Whether `value` is a string of 1 to `maxLength` characters that the store can hold as it is. */
export function isStorableString(value: unknown, maxLength: number): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= maxLength &&
    !UNSTORABLE.test(value)
  );
}
