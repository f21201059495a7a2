import { MAX_TOKEN_LENGTH } from '../tokens/token-format';

/**
 * Why a presented credential was rejected before any lookup. Only for logs and tests: every
 * reason becomes the same 401 `token_invalid`, so a client learns nothing about the parser.
 */
export type MalformedReason =
  | 'multiple_headers'
  | 'not_a_string'
  | 'bad_separator'
  | 'no_token'
  | 'too_long'
  | 'bad_characters'
  | 'duplicate_cookie';

/**
 * What the credential extractors found:
 * - `none`: nothing for us (no header, a foreign scheme such as `Basic`, no auth cookie);
 * - `malformed`: a credential meant for us that cannot be a token (401 without any lookup);
 * - `token`: a syntactically valid token, still to be verified.
 */
export type CredentialResult =
  | { readonly kind: 'none' }
  | { readonly kind: 'malformed'; readonly reason: MalformedReason }
  | { readonly kind: 'token'; readonly token: string };

/** A {@link CredentialResult} from a cookie; a token says which cookie carried it. */
export type CookieCredentialResult =
  | { readonly kind: 'none' }
  | { readonly kind: 'malformed'; readonly reason: MalformedReason }
  | { readonly kind: 'token'; readonly token: string; readonly name: string };

// The longest token accepted (255), shared with the token format. The extractors check it before
// any pattern match, hash or query, so an oversized value costs nothing (REQ-HDR-05).
export { MAX_TOKEN_LENGTH };

/**
 * RFC 6750 §2.1 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
 * Anything else (spaces, quotes, `;`, NUL, non-ASCII) never reaches the hasher or the driver.
 */
export const B64TOKEN_PATTERN = /^[A-Za-z0-9\-._~+/]+=*$/;

export const NO_CREDENTIAL: CredentialResult & CookieCredentialResult = Object.freeze({
  kind: 'none',
});

export function malformed(reason: MalformedReason): CredentialResult & CookieCredentialResult {
  return { kind: 'malformed', reason };
}

/** The checks shared by header and cookie values: length first, then the alphabet. */
export function checkTokenSyntax(value: string): MalformedReason | undefined {
  if (value.length === 0) return 'no_token';
  if (value.length > MAX_TOKEN_LENGTH) return 'too_long';
  return B64TOKEN_PATTERN.test(value) ? undefined : 'bad_characters';
}
