import { checkTokenSyntax, CredentialResult, malformed, NO_CREDENTIAL } from './credential-result';

/**
 * RFC 9110 `token` (tchar run) at the start of the value: the auth scheme. Only the first
 * {@link SCHEME_SCAN_LIMIT} characters are looked at, so a huge header costs a bounded scan.
 */
const SCHEME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
/** Longer than any accepted scheme (32, see the options) by enough to tell "longer" apart. */
const SCHEME_SCAN_LIMIT = 64;

/**
 * Reads a token from an `Authorization` header value, following RFC 6750 §2.1:
 * `credentials = scheme 1*SP b64token`, the scheme matched case-insensitively against `prefixes`.
 *
 * - No header, an empty one, or a scheme that is not in `prefixes` (`Basic …`, `Digest …`) is
 *   `none`: the credential belongs to someone else, so another mechanism (the cookie) may decide.
 * - One of our schemes with anything but `1*SP b64token` after it (no token, a tab, a second
 *   part, characters outside b64token, more than 255 characters) is `malformed`.
 * - Several header values (an array) are `malformed`: which one a proxy or framework would keep
 *   differs between implementations, so honouring either invites smuggling (REQ-HDR-06).
 *
 * Leading/trailing whitespace is not trimmed: Node's HTTP parser already strips the optional
 * whitespace around a field value, so any left here was put there on purpose.
 * Never throws, whatever it is given.
 *
 * @example
 * extractHeaderToken('bearer durin_at_…', ['Bearer']); // { kind: 'token', token: 'durin_at_…' }
 * extractHeaderToken('Basic dTpw', ['Bearer']); // { kind: 'none' }
 * extractHeaderToken('Bearer a b', ['Bearer']); // { kind: 'malformed', reason: 'bad_characters' }
 */
export function extractHeaderToken(
  headerValue: unknown,
  prefixes: readonly string[],
): CredentialResult {
  if (headerValue === undefined || headerValue === null) {
    return NO_CREDENTIAL;
  }
  if (Array.isArray(headerValue)) {
    if (headerValue.length === 0) return NO_CREDENTIAL;
    return headerValue.length === 1
      ? extractHeaderToken(headerValue[0], prefixes)
      : malformed('multiple_headers');
  }
  if (typeof headerValue !== 'string') {
    return malformed('not_a_string');
  }
  const scheme = SCHEME_PATTERN.exec(headerValue.slice(0, SCHEME_SCAN_LIMIT))?.[0];
  if (scheme === undefined || !isOurScheme(scheme, prefixes)) {
    return NO_CREDENTIAL;
  }
  // From here on the header is addressed to us: whatever is wrong with it is a 401, never a
  // fall-back to the cookie (REQ-TYP-03).
  let index = scheme.length;
  if (index === headerValue.length) return malformed('no_token');
  if (headerValue.charCodeAt(index) !== 0x20) return malformed('bad_separator');
  while (index < headerValue.length && headerValue.charCodeAt(index) === 0x20) {
    index += 1;
  }
  const reason = checkTokenSyntax(headerValue.slice(index));
  return reason === undefined
    ? { kind: 'token', token: headerValue.slice(index) }
    : malformed(reason);
}

function isOurScheme(scheme: string, prefixes: readonly string[]): boolean {
  const lower = scheme.toLowerCase();
  return prefixes.some((prefix) => typeof prefix === 'string' && prefix.toLowerCase() === lower);
}
