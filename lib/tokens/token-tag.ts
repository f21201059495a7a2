import * as crypto from 'node:crypto';
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
/** SHA-256's block size: an HMAC key of exactly this length is used as is (RFC 2104). */
const HMAC_BLOCK_BYTES = 64;

/**
 * The server-keyed tag carried by tokens of the tagged format: a truncated HMAC-SHA256 of the
 * token's head and secret. A token whose tag verifies under none of the configured keys was never
 * issued by this application, so it is refused in memory before any store lookup (and, on the
 * request path, right after a token-cache miss: only verified tokens are ever cached); a flood of
 * distinct forged tokens then costs one SHA-256 and one HMAC each and no query.
 */
export class TokenTag {
  private readonly keys: TagKey[];

  /** @param secrets the configured `tokenTagKey`s, newest first (at least one). */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) {
      throw new RangeError('a token tag needs at least one key');
    }
    this.keys = secrets.map((secret) => new TagKey(secret));
  }

  /** The tag of `body` under the newest key, as {@link TAG_CHARS} base62 characters. */
  sign(body: string): string {
    return this.keys[0].tagOf(body);
  }

  /**
   * Whether `tag` is the tag of `body` under one of the keys. Compared in constant time, so the
   * answer time says nothing about how many leading characters of a guess were right. Stops at
   * the first key that matches: which key signed a genuine token is not secret, and a forged
   * token is tried against every key either way.
   */
  verify(body: string, tag: string): boolean {
    for (const key of this.keys) {
      if (constantTimeEqual(key.tagOf(body), tag)) {
        return true;
      }
    }
    return false;
  }
}

/** `crypto.hash` (Node >= 20.12): one native call, no Hash object; see {@link TagKey}. */
const oneShot = (
  crypto as {
    hash?: (algorithm: string, data: string | Buffer, encoding: 'hex') => string;
  }
).hash;

/**
 * One tag key, prepared once for the request path. The HMAC key is 64 bytes from HKDF over the
 * configured secret (a dedicated key, so a secret also used as a pepper or CSRF secret never gives
 * values that are valid here), each byte masked to 7 bits (448 bits remain).
 *
 * HMAC-SHA256 is computed as RFC 2104 defines it, H((K ^ opad) || H((K ^ ipad) || m)), with the
 * padded keys built once: two one-shot `crypto.hash` calls cost about half of `createHmac` with a
 * cached KeyObject (0.8 against 1.7 µs of CPU, mostly the Hmac object), and this runs on every
 * request once a key is set. The 7-bit key bytes keep `K ^ ipad` ASCII, so it can be prefixed to
 * the (ASCII) token as a string, whose UTF-8 bytes are then exactly the bytes HMAC hashes. Without
 * `crypto.hash` (Node < 20.12) the same value comes from `createHmac`; token-tag.spec checks both
 * against `createHmac`.
 */
class TagKey {
  private readonly object: KeyObject;
  private readonly innerPad: string;
  /** `K ^ opad` followed by room for the inner digest; reused (the request path is synchronous). */
  private readonly outer: Buffer;

  constructor(secret: string) {
    const key = Buffer.from(
      hkdfSync('sha256', Buffer.from(secret, 'utf8'), KEY_SALT, KEY_INFO, HMAC_BLOCK_BYTES),
    ).map((byte) => byte & 0x7f);
    this.object = createSecretKey(key);
    this.innerPad = Buffer.from(key.map((byte) => byte ^ 0x36)).toString('latin1');
    this.outer = Buffer.alloc(HMAC_BLOCK_BYTES + 32);
    key.forEach((byte, i) => (this.outer[i] = byte ^ 0x5c));
  }

  /** HMAC-SHA256 of `message` under this key, hex. */
  hmacHex(message: string): string {
    if (oneShot === undefined) {
      return createHmac('sha256', this.object).update(message, 'utf8').digest('hex');
    }
    this.outer.write(oneShot('sha256', this.innerPad + message, 'hex'), HMAC_BLOCK_BYTES, 'hex');
    return oneShot('sha256', this.outer, 'hex');
  }

  /** The first {@link TAG_BYTES} of the HMAC as {@link TAG_CHARS} base62 characters. */
  tagOf(body: string): string {
    const hex = this.hmacHex(body);
    return base62Of64(parseInt(hex.slice(0, 8), 16), parseInt(hex.slice(8, 16), 16));
  }
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
