import type { AuthType } from '../interfaces/durin-module-options.interface';

/** What happened to a token. The name emitted on `@nestjs/event-emitter` is `durin.<type>`. */
export type DurinEventType =
  | 'token_created'
  | 'token_refreshed'
  | 'token_auto_refreshed'
  | 'token_revoked'
  | 'token_expired'
  | 'refresh_reuse_detected'
  | 'logout_all'
  | 'expired_tokens_cleaned';

/** Every {@link DurinEventType}, e.g. to subscribe to each one. */
export const DURIN_EVENT_TYPES: readonly DurinEventType[] = [
  'token_created',
  'token_refreshed',
  'token_auto_refreshed',
  'token_revoked',
  'token_expired',
  'refresh_reuse_detected',
  'logout_all',
  'expired_tokens_cleaned',
];

/** The prefix of every event name on `@nestjs/event-emitter` (`durin.token_created`, …). */
export const DURIN_EVENT_PREFIX = 'durin.';

/** The event name nestjs-durin emits a {@link DurinEventType} under: `durin.<type>`. */
export function durinEventName(type: DurinEventType): string {
  return `${DURIN_EVENT_PREFIX}${type}`;
}

/**
 * A security-relevant change to a token, emitted after it was committed. It identifies the session
 * and the user but never carries a raw token or a hash (REQ-STO-05, REQ-LOG-01), so it can go to
 * logs and audit trails as is.
 *
 * | type | when | `reason` |
 * | --- | --- | --- |
 * | `token_created` | a login (`generateHeaderToken` / `generateCookieToken`) | `null` |
 * | `token_refreshed` | `refreshToken` minted a new pair; `renewToken`; a racing tab got the current pair within `refreshReuseGraceSeconds` | `'rotation'`, `'renew'`, `'grace_replay'` |
 * | `token_auto_refreshed` | a request slid the expiry (`autoRefresh`) | `null` |
 * | `token_revoked` | a session was ended: logout, `revokeUserSession`, `enforceSingleLogin`, `oneTokenPerClient`, `maxSessionsPerUser` | `'logout'`, `'revoked'`, `'single_login'`, `'client_login'`, `'session_limit'` |
 * | `token_expired` | an expired token was presented, or `expireToken` was called | `'access_expired'`, `'refresh_expired'`, `'absolute_expired'`, `'expire_token'` |
 * | `refresh_reuse_detected` | an already rotated refresh token was presented outside the grace window: the whole family was revoked | `'reuse_detected'` |
 * | `logout_all` | `revokeAllUserTokens` | `'logout_all'` |
 * | `expired_tokens_cleaned` | a run of the background cleanup (`cleanup` option) ended; `count` rows were removed or marked | `'scheduled'` |
 *
 * Bulk events (`logout_all`, `single_login`) concern every session of a user: `tokenId`,
 * `familyId`, `authType` and `client` are then `null`; `expired_tokens_cleaned` concerns no user
 * and has `userId` `null` as well, and the number of rows in `count`.
 *
 * @example
 * // with @nestjs/event-emitter
 * @OnEvent('durin.refresh_reuse_detected')
 * onReuse(event: DurinEvent) {
 *   this.alerts.raise(`refresh token reuse for user ${event.userId}`);
 * }
 */
export interface DurinEvent {
  readonly type: DurinEventType;
  /** The token (session row) concerned; `null` for bulk events. */
  readonly tokenId: string | null;
  /** The login (rotation family) concerned; `null` for bulk events. */
  readonly familyId: string | null;
  /** The user's primary key; `null` when it was not known at the time. */
  readonly userId: string | number | null;
  readonly authType: AuthType | null;
  /** The client's name, if the token belongs to one. */
  readonly client: string | null;
  /** Why it happened (see the table above); `null` when there is nothing more to say. */
  readonly reason: string | null;
  /** When it happened, by `DURIN_CLOCK`. */
  readonly occurredAt: Date;
  /** How many rows a bulk operation changed (`expired_tokens_cleaned`); absent on the others. */
  readonly count?: number;
}

/**
 * The `onEvent` option: called with every {@link DurinEvent}. It runs on the request path, so keep
 * it quick (queue slow work); it may be `async`, and is then not awaited. What it throws or
 * rejects with is logged and otherwise ignored: a listener can never break authentication.
 */
// `void` rather than `void | Promise<void>`: it accepts async functions and arrow functions that
// happen to return something (`(e) => list.push(e)`) alike; the result is only checked for a promise.
export type DurinEventListener = (event: DurinEvent) => void;
