import { createHmac, createSecretKey, hkdfSync, KeyObject } from 'node:crypto';
import { constantTimeEqual } from './constant-time';

/**
 * Bytes of HMAC-SHA256 kept as the tag. The tag is a filter in front of the database, not an
 * authentication control (the 256-bit secret and the stored hash still decide), so what it must
 * make negligible is the number of forged tokens that get through to a query. A PRF truncated to
 * 64 bits lets a forgery through with probability 2^-64 ≈ 5.4e-20 per attempt; the key never
 * leaves the server, so every attempt is a request: a flood of a million requests a second for a
 * hundred years (≈ 3.2e15) expects under 0.0002 queries in total. 32 bits would already cut a
 * flood 4 billion-fold but still lets one query through every ~72 minutes at 1M req/s, which
 * makes "a forged token never costs a query" false in practice; more than 64 bits buys nothing
 * measurable and costs characters in every token. 8 bytes are 11 base62 characters.
 */
export const TAG_BYTES = 8;
/** 62^11 > 2^64 > 62^10: eleven characters hold every 64-bit tag. */
export const TAG_CHARS = 11;

/**
 * Below this a key could be guessed offline: anyone holding one tagged token (their own) can test
 * candidate keys against its tag without asking the server, so the key needs full entropy, like
 * `csrf.secret`.
 */
export const MIN_TAG_KEY_LENGTH = 32;

const KEY_SALT = Buffer.from('nestjs-durin', 'utf8');
const KEY_INFO = Buffer.from('nestjs-durin token tag v1', 'utf8');
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const TWO_32 = 0x1_0000_0000;

/**
 * The server-keyed tag carried by tokens of the tagged format: a truncated HMAC-SHA256 of the
 * token's head and secret. A token whose tag verifies under none of the configured keys was never
 * issued by this application, so it is refused in memory before any cache or store lookup; a
 * flood of distinct forged tokens then costs one HMAC each and no query.
 */
export class TokenTag {
  private readonly keys: KeyObject[];

  /** @param secrets the configured `tokenTagKey`s, newest first (at least one). */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) {
      throw new RangeError('a token tag needs at least one key');
    }
    // A dedicated key per secret (HKDF), so a secret also used as a pepper or CSRF secret never
    // gives values that are valid here; imported once as KeyObjects so that a request does not
    // re-parse the secret.
    this.keys = secrets.map((secret) =>
      createSecretKey(
        Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), KEY_SALT, KEY_INFO, 32)),
      ),
    );
  }

  /** The tag of `body` under the newest key, as {@link TAG_CHARS} base62 characters. */
  sign(body: string): string {
    return tagOf(this.keys[0], body);
  }

  /**
   * Whether `tag` is the tag of `body` under one of the keys. Compared in constant time, so the
   * answer time says nothing about how many leading characters of a guess were right. Stops at
   * the first key that matches: which key signed a genuine token is not secret, and a forged
   * token is tried against every key either way.
   */
  verify(body: string, tag: string): boolean {
    for (const key of this.keys) {
      if (constantTimeEqual(tagOf(key, body), tag)) {
        return true;
      }
    }
    return false;
  }
}

function tagOf(key: KeyObject, body: string): string {
  const digest = createHmac('sha256', key).update(body, 'latin1').digest();
  return base62Of64(digest.readUInt32BE(0), digest.readUInt32BE(4));
}

/**
 * The 64-bit number `high * 2^32 + low` in fixed-width base62, by long division on two 32-bit
 * halves: the same digits as `encodeBase62` on a BigInt, without the BigInt allocations on a path
 * that runs for every request.
 */
export function base62Of64(high: number, low: number): string {
  let out = '';
  let hi = high;
  let lo = low;
  for (let i = 0; i < TAG_CHARS; i++) {
    const carry = hi % 62;
    hi = (hi - carry) / 62;
    // carry * 2^32 + lo < 62 * 2^32 < 2^53: exact in a double.
    const rest = carry * TWO_32 + lo;
    const digit = rest % 62;
    lo = (rest - digit) / 62;
    out = ALPHABET[digit] + out;
  }
  return out;
}
