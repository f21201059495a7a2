import { parse } from 'cookie';
import {
  checkTokenSyntax,
  CookieCredentialResult,
  malformed,
  NO_CREDENTIAL,
} from './credential-result';

/**
 * Reads a token from a raw `Cookie` header: the first of `names` that is present decides.
 *
 * The header is parsed with the `cookie` package rather than taken from `request.cookies`, so it
 * behaves the same on Express and Fastify, with or without a cookie plugin (and regardless of how
 * such a plugin decodes or signs values).
 *
 * - A chosen cookie that occurs more than once is `malformed`. `cookie.parse` keeps the first
 *   occurrence, other parsers keep the last; a sibling subdomain or an injected header can add a
 *   second one, so neither may win (RFC 6265 §4.2.2 gives no order guarantee, REQ-CK-03).
 * - The value is URL-decoded by `cookie.parse` (undecodable values stay as they are) and then
 *   checked like a header token: at most 255 characters of RFC 6750 b64token (REQ-CK-05).
 * - Several header values (an array, as HTTP/2 may deliver) are one list joined with `; `, as
 *   RFC 9113 §8.2.3 prescribes; only a repeated name is ambiguous.
 *
 * Linear in the header length. Never throws, whatever it is given.
 *
 * @example
 * extractCookieToken('theme=dark; __Host-token=durin_at_…', ['__Host-token']);
 * // { kind: 'token', token: 'durin_at_…', name: '__Host-token' }
 */
export function extractCookieToken(
  cookieHeader: unknown,
  names: readonly string[],
): CookieCredentialResult {
  if (cookieHeader === undefined || cookieHeader === null) {
    return NO_CREDENTIAL;
  }
  let header: string;
  if (Array.isArray(cookieHeader)) {
    if (!cookieHeader.every((part) => typeof part === 'string')) return malformed('not_a_string');
    header = cookieHeader.join('; ');
  } else if (typeof cookieHeader === 'string') {
    header = cookieHeader;
  } else {
    return malformed('not_a_string');
  }
  const counts = countNames(header, names);
  let parsed: Record<string, string | undefined> | undefined;
  for (const name of names) {
    const count = counts.get(name) ?? 0;
    if (count === 0) continue;
    if (count > 1) return malformed('duplicate_cookie');
    parsed ??= parse(header);
    const value = parsed[name] ?? '';
    const reason = checkTokenSyntax(value);
    return reason === undefined ? { kind: 'token', token: value, name } : malformed(reason);
  }
  return NO_CREDENTIAL;
}

/**
 * How often each of `names` occurs in the header, splitting pairs the way `cookie.parse` does
 * (pairs end at `;`, a name ends at the first `=`, pairs without `=` are skipped, SP/HTAB around
 * the name are ignored), so "present once" here means exactly the pair `parse` returns.
 */
function countNames(header: string, names: readonly string[]): Map<string, number> {
  const wanted = new Set(names);
  const counts = new Map<string, number>();
  let start = 0;
  while (start < header.length) {
    const eq = header.indexOf('=', start);
    if (eq === -1) break;
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    if (eq > end) {
      // Jump straight to the pair holding that `=` (as `parse` does): rescanning from every
      // `=`-less pair would make a header of many such pairs quadratic (REQ-CK-04).
      start = header.lastIndexOf(';', eq - 1) + 1;
      continue;
    }
    const name = trimSpaceAndTab(header.slice(start, eq));
    if (wanted.has(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
    start = end + 1;
  }
  return counts;
}

function trimSpaceAndTab(value: string): string {
  let from = 0;
  let to = value.length;
  while (from < to && isSpaceOrTab(value.charCodeAt(from))) from += 1;
  while (to > from && isSpaceOrTab(value.charCodeAt(to - 1))) to -= 1;
  return value.slice(from, to);
}

function isSpaceOrTab(code: number): boolean {
  return code === 0x20 || code === 0x09;
}
