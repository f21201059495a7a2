const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE = BigInt(ALPHABET.length);

/**
 * Encodes an unsigned integer as base62, left-padded with `'0'` to `width` characters.
 *
 * Base62 keeps tokens inside the RFC 6750 `b64token` alphabet and double-click selectable, and the
 * fixed width means every token of a kind has the same length, so length alone rejects garbage.
 */
export function encodeBase62(value: bigint, width: number): string {
  let out = '';
  let rest = value;
  while (rest > 0n) {
    out = ALPHABET[Number(rest % BASE)] + out;
    rest /= BASE;
  }
  if (out.length > width) {
    throw new RangeError(`value does not fit in ${width} base62 characters`);
  }
  return out.padStart(width, '0');
}

/**
 * The value of `text[from, to)` read as base62, or `-1` if a character is not base62. For at most
 * eight characters (62^8 < 2^53, exact in a double): no BigInt and no slice on the request path.
 */
export function decodeBase62Range(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = base62Digit(text.charCodeAt(i));
    if (digit < 0) return -1;
    value = value * 62 + digit;
  }
  return value;
}

function base62Digit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 65 && code <= 90) return code - 55; // A-Z
  if (code >= 97 && code <= 122) return code - 61; // a-z
  return -1;
}

/** Encodes bytes as a fixed-width base62 number (big-endian). */
export function encodeBase62Bytes(bytes: Uint8Array, width: number): string {
  const hex = Buffer.from(bytes).toString('hex');
  return encodeBase62(hex.length === 0 ? 0n : BigInt(`0x${hex}`), width);
}

/** Decodes fixed-width base62 back to bytes; used by tests to prove no entropy is lost. */
export function decodeBase62Bytes(text: string, byteLength: number): Buffer {
  let value = 0n;
  for (const char of text) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) {
      throw new RangeError('not a base62 string');
    }
    value = value * BASE + BigInt(digit);
  }
  const hex = value.toString(16).padStart(byteLength * 2, '0');
  if (hex.length > byteLength * 2) {
    throw new RangeError(`value does not fit in ${byteLength} bytes`);
  }
  return Buffer.from(hex, 'hex');
}

/** Characters needed to hold `bytes` bytes in base62. */
export function base62Width(bytes: number): number {
  return Math.ceil((bytes * 8) / Math.log2(ALPHABET.length));
}
