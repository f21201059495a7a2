/** The session context stored with a token: a flat JSON object chosen at login. */
export type TokenContextValue =
  string | number | boolean | null | TokenContextValue[] | { [key: string]: TokenContextValue };
export type TokenContextData = Record<string, TokenContextValue>;

/** Thrown by `contextObj` under `strictContextAccess` when a key is missing. */
export class MissingContextKeyError extends Error {
  constructor(readonly key: string) {
    super(`nestjs-durin: the token context has no key ${JSON.stringify(key)}`);
    this.name = 'MissingContextKeyError';
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
  const frozen = Object.freeze({ ...data });
  return new Proxy(frozen, {
    get(target, key, receiver) {
      if (typeof key === 'string' && strict && !Object.prototype.hasOwnProperty.call(target, key)) {
        // Symbols and inspection keys (then, toJSON) stay quiet so logging or awaiting the view works.
        if (key !== 'then' && key !== 'toJSON' && key !== 'constructor') {
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
