import { randomInt } from 'node:crypto';
import * as zlib from 'node:zlib';
import { crc32 } from '../../lib/tokens/crc32';

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
