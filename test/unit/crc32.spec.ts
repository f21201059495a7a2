import { randomInt } from 'node:crypto';
import * as zlib from 'node:zlib';
import { crc32, crc32OfBase62 } from '../../lib/tokens/crc32';

/** `zlib.crc32` exists from Node 20.15; the library carries its own table for older 20.x. */
const zlibCrc32 = (zlib as unknown as { crc32(data: string | Buffer): number }).crc32;

function randomAscii(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out += String.fromCharCode(randomInt(0, 128));
  }
  return out;
}

describe('crc32', () => {
  it('gives the standard check value', () => {
    // The CRC-32/ISO-HDLC check value from the CRC catalogue.
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32('')).toBe(0);
  });

  it('matches zlib.crc32 on 2 000 random ASCII strings', () => {
    expect(typeof zlibCrc32).toBe('function');
    for (let i = 0; i < 2000; i++) {
      const text = randomAscii(randomInt(0, 300));
      expect(crc32(text)).toBe(zlibCrc32(text));
    }
  });

  it('always returns an unsigned 32-bit integer', () => {
    for (let i = 0; i < 500; i++) {
      const value = crc32(randomAscii(40));
      expect(Number.isInteger(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(2 ** 32);
    }
  });
});

describe('crc32 of a prefix', () => {
  it('equals the CRC of the slice', () => {
    const text = 'durin_at_0123456789abcdefABCDEF';
    for (let end = 0; end <= text.length; end++) {
      expect(crc32(text, end)).toBe(crc32(text.slice(0, end)));
    }
  });
});

describe('crc32OfBase62 (alphabet check and checksum in one pass)', () => {
  it('is the CRC of the prefix when the checked range is base62', () => {
    const text = 'durin_at_0123456789abcdefABCDEFzz';
    for (let end = 9; end <= text.length; end++) {
      expect(crc32OfBase62(text, 9, end)).toBe(crc32(text, end));
    }
  });

  it('is -1 when a character of the checked range is not base62, and ignores the head', () => {
    for (const bad of ['_', '-', '/', ':', '@', '[', '`', '{', ' ', 'é', '\u0000']) {
      for (let index = 9; index < 15; index++) {
        const text = `durin_at_${'a'.repeat(index - 9)}${bad}${'a'.repeat(14 - index)}`;
        expect(crc32OfBase62(text, 9, 15)).toBe(-1);
      }
    }
    expect(crc32OfBase62('durin_at_abc', 9, 12)).toBe(crc32('durin_at_abc'));
  });
});
