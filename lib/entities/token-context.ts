import { HttpStatus } from '@nestjs/common';
import { DurinError } from '../errors/durin.error';

// The recursion goes through interfaces, which TypeScript resolves lazily: as a recursive type
// alias it made TypeORM's QueryDeepPartialEntity (repository.insert/update of a token entity) fail
// with TS2589 "type instantiation is excessively deep".
/** A value inside the session context stored with a token (JSON). */
export type TokenContextValue =
  string | number | boolean | null | TokenContextArray | TokenContextObject;
/** A JSON array inside a context. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- an interface, for the reason above
export interface TokenContextArray extends Array<TokenContextValue> {}
/** A JSON object inside a context. */
export interface TokenContextObject {
  [key: string]: TokenContextValue;
}
/** The session context stored with a token: a flat JSON object chosen at login. */
export type TokenContextData = Record<string, TokenContextValue>;

/**
 * Thrown by `contextObj` (and `@TokenContext('key')`) under `strictContextAccess` when a key is
 * missing. Answered 403 `context_key_missing`: the caller is authenticated, but its session was not
 * issued with what this route needs (e.g. logged in before the app started storing that key).
 */
export class MissingContextKeyError extends DurinError {
  constructor(readonly key: string) {
    super(`nestjs-durin: the token context has no key ${JSON.stringify(key)}`, {
      status: HttpStatus.FORBIDDEN,
      code: 'context_key_missing',
      publicMessage: 'This session lacks context that this route needs: log in again.',
    });
  }
}

/**
 * A read-only view of a context. Missing keys read as `undefined`, or throw when `strict`. Writes
 * throw: the context is part of what was authenticated and must not change behind the store's back.
 */
export function createContextView(
  data: TokenContextData,
  strict: boolean,
): Readonly<TokenContextData> {
  // A deep, frozen copy: nested values are as read-only as the top level, and a later change of the
  // stored context does not show through a view handed out earlier.
  const frozen = deepFreeze(JSON.parse(JSON.stringify(data)) as TokenContextData);
  return new Proxy(frozen, {
    get(target, key, receiver) {
      // Inherited members (toString, valueOf, …), symbols and the keys probed by `await` and JSON
      // stay quiet so logging, string conversion or awaiting the view works.
      if (typeof key === 'string' && strict && !(key in target)) {
        if (key !== 'then' && key !== 'toJSON') {
          throw new MissingContextKeyError(key);
        }
      }
      return Reflect.get(target, key, receiver);
    },
    set() {
      throw new TypeError('nestjs-durin: the token context is read-only');
    },
    deleteProperty() {
      throw new TypeError('nestjs-durin: the token context is read-only');
    },
  });
}

function deepFreeze<V>(value: V): V {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Whether a value can be stored as a context: a plain JSON object. */
export function isPlainContext(value: unknown): value is TokenContextData {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return false;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    return false;
  }
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}
