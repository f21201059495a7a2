import { randomBytes } from 'node:crypto';
import { encodeBase62 } from '../../lib/tokens/base62';
import { crc32 } from '../../lib/tokens/crc32';
import { TAG_CHARS } from '../../lib/tokens/token-tag';

/**
 * Well-formed tokens nobody issued, for the forged-token tests and benchmarks: they pass every
 * format check (prefix, length, alphabet, CRC-32), so only a lookup or the keyed tag can refuse
 * them.
 */

/** `body` followed by its CRC-32 in six base62 characters, as TokenFormat appends it. */
export function withChecksum(body: string): string {
  return body + encodeBase62(BigInt(crc32(body)), 6);
}

/** `chars` random base62 characters. */
export function randomBase62(chars: number): string {
  return encodeBase62(BigInt(`0x${randomBytes(40).toString('hex')}`) % 62n ** BigInt(chars), chars);
}

/** A tagged token (valid checksum) with a random secret and a random, forged tag. */
export function forgedTagged(kind: 'at2' | 'rt2'): string {
  return withChecksum(`durin_${kind}_${randomBase62(43)}${randomBase62(TAG_CHARS)}`);
}

/** An untagged token (valid checksum) that was never issued. */
export function forgedUntagged(kind: 'at' | 'rt'): string {
  return withChecksum(`durin_${kind}_${randomBase62(43)}`);
}
