import { InvalidTokenOptionsError } from '../errors/token-errors';

/**
 * The id of a saved user under `userIdField`; throws {@link InvalidTokenOptionsError} when it is
 * missing, so no token is ever written without an owner.
 */
export function userIdOf(user: object, userIdField: string): unknown {
  const id =
    user !== null && typeof user === 'object'
      ? (user as Record<string, unknown>)[userIdField]
      : undefined;
  if (id === undefined || id === null) {
    throw new InvalidTokenOptionsError('user', `must be a saved user with '${userIdField}' set`);
  }
  return id;
}

/** The user id of a method that takes either a user or its id. */
export function idOf(userOrId: object | string | number, userIdField: string): unknown {
  return typeof userOrId === 'object' ? userIdOf(userOrId, userIdField) : userOrId;
}
