import { randomBytes, randomInt } from 'node:crypto';
import {
  base62Width,
  decodeBase62Bytes,
  decodeBase62Range,
  encodeBase62,
  encodeBase62Bytes,
} from '../../lib/tokens/base62';

describe('base62', () => {
  it('needs 43 characters for 32 bytes and 6 for a CRC-32', () => {
    expect(base62Width(32)).toBe(43);
    expect(62 ** 6).toBeGreaterThan(2 ** 32);
    expect(encodeBase62(2n ** 32n - 1n, 6)).toHaveLength(6);
  });

  it('uses digits, then upper case, then lower case', () => {
    expect(encodeBase62(0n, 1)).toBe('0');
    expect(encodeBase62(10n, 1)).toBe('A');
    expect(encodeBase62(36n, 1)).toBe('a');
    expect(encodeBase62(61n, 1)).toBe('z');
    expect(encodeBase62(62n, 2)).toBe('10');
    expect(encodeBase62(5n, 4)).toBe('0005');
  });

  it('round-trips 1 000 random byte strings of several lengths', () => {
    for (let i = 0; i < 1000; i++) {
      const length = [1, 8, 16, 32, 33][i % 5];
      const bytes = randomBytes(length);
      const width = base62Width(length);
      const text = encodeBase62Bytes(bytes, width);
      expect(text).toMatch(/^[0-9A-Za-z]+$/);
      expect(text).toHaveLength(width);
      expect(decodeBase62Bytes(text, length).equals(bytes)).toBe(true);
    }
  });

  it('keeps leading zero bytes and the largest value', () => {
    const zeros = Buffer.alloc(32);
    expect(encodeBase62Bytes(zeros, 43)).toBe('0'.repeat(43));
    expect(decodeBase62Bytes('0'.repeat(43), 32).equals(zeros)).toBe(true);

    const leading = Buffer.concat([Buffer.alloc(5), randomBytes(27)]);
    expect(decodeBase62Bytes(encodeBase62Bytes(leading, 43), 32).equals(leading)).toBe(true);

    const max = Buffer.alloc(32, 0xff);
    expect(decodeBase62Bytes(encodeBase62Bytes(max, 43), 32).equals(max)).toBe(true);
  });

  it('refuses a value that does not fit', () => {
    expect(() => encodeBase62(62n ** 6n, 6)).toThrow(RangeError);
    expect(() => decodeBase62Bytes('z'.repeat(44), 32)).toThrow(RangeError);
  });

  it('refuses characters outside the alphabet', () => {
    const text = encodeBase62Bytes(randomBytes(32), 43);
    const index = randomInt(0, 43);
    for (const bad of ['-', '_', '+', '/', '=', 'é']) {
      const broken = text.slice(0, index) + bad + text.slice(index + 1);
      expect(() => decodeBase62Bytes(broken, 32)).toThrow(RangeError);
    }
  });
});

describe('decodeBase62Range (the parse path, no BigInt)', () => {
  it('reads back what encodeBase62 wrote, inside a longer string', () => {
    for (let i = 0; i < 1_000; i++) {
      const value = randomInt(0, 2 ** 32);
      const text = `xx_${encodeBase62(BigInt(value), 6)}!`;
      expect(decodeBase62Range(text, 3, 9)).toBe(value);
    }
    expect(decodeBase62Range('zzzzzz', 0, 6)).toBe(62 ** 6 - 1);
  });

  it('refuses any character outside the alphabet, at every position', () => {
    for (const bad of ['_', '-', '/', ':', '@', '[', '`', '{', ' ', 'é']) {
      for (let index = 0; index < 6; index++) {
        const text = `${'a'.repeat(index)}${bad}${'a'.repeat(5 - index)}`;
        expect(decodeBase62Range(text, 0, 6)).toBe(-1);
      }
    }
    expect(decodeBase62Range('_00000z', 1, 7)).toBe(61);
  });
});
