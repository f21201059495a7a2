import type { TokenContextData } from '../entities/token-context';

/**
 * `POST <path>/refresh` → 200. For a cookie session the new access and refresh tokens are only in
 * the (HttpOnly) cookies, never in the body, so scripts cannot read them: `accessToken` and
 * `refreshToken` are then absent, and `csrfToken` is present instead (unless `csrf: false`).
 */
export interface DurinTokenPairResponse {
  /** Header sessions only. */
  accessToken?: string;
  /** Header sessions only; `null` when refresh tokens are disabled for the token. */
  refreshToken?: string | null;
  accessTokenExpiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  /**
   * Cookie tokens only: the new session's CSRF token, for the `X-CSRF-Token` header from now on
   * (the previous one stops working with the rotated access token). Also set in the readable CSRF
   * cookie; it is in the body for front ends on another origin, which cannot read that cookie.
   */
  csrfToken?: string;
}

/** `POST <path>/renew` → 200. `null`: the token does not expire. */
export interface DurinRenewResponse {
  expiresAt: Date | null;
}

/** One entry of `GET <path>/sessions`: never a secret or a hash. */
export interface DurinSessionResponse {
  id: string;
  client: string | null;
  context: TokenContextData;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  /** What the session's token may do. */
  abilities: string[];
  /** The session of the token this request was made with. */
  isCurrent: boolean;
}

/** `GET <path>/apiaccess` → 200: the personal API key's metadata, without the key. */
export interface DurinApiKeyResponse {
  id: string;
  client: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  /** What the key may do. */
  abilities: string[];
}

/** `POST <path>/apiaccess` → 201: the key itself, shown this once. */
export interface DurinApiKeyCreatedResponse extends DurinApiKeyResponse {
  token: string;
}

/**
 * `POST <path>/login` → 200. A header session gets its tokens here, with `tokenType: 'Bearer'`;
 * a cookie session (`login: { cookie: true }`) gets them in the cookies only, and the body holds
 * the expiries and the `csrfToken`, as after a refresh.
 */
export interface DurinLoginResponse extends DurinTokenPairResponse {
  /** Header sessions only. */
  tokenType?: 'Bearer';
}
