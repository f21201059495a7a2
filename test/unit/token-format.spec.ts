import { decodeBase62Bytes, encodeBase62 } from '../../lib/tokens/base62';
import { crc32 } from '../../lib/tokens/crc32';
import { MAX_TOKEN_LENGTH, SECRET_BYTES, TokenFormat } from '../../lib/tokens/token-format';

const SHAPE = /^durin_(at|rt)_[0-9A-Za-z]{49}$/;
/** RFC 6750 §2.1 `b64token`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const HEAD_LENGTH = 'durin_at_'.length;
const SECRET_CHARS = 43;

/** Re-computes the checksum, so a test can change the body and fail only on what it means to. */
function withChecksum(body: string): string {
  return body + encodeBase62(BigInt(crc32(body)), 6);
}

function secretOf(token: string): string {
  return token.slice(HEAD_LENGTH, HEAD_LENGTH + SECRET_CHARS);
}

describe('TokenFormat', () => {
  const format = new TokenFormat('durin');

  describe('generate', () => {
    it.each(['access', 'refresh'] as const)('gives %s tokens of the documented shape', (kind) => {
      for (let i = 0; i < 200; i++) {
        const token = format.generate(kind);
        expect(token).toMatch(SHAPE);
        expect(token).toMatch(B64TOKEN);
        expect(token.startsWith(kind === 'access' ? 'durin_at_' : 'durin_rt_')).toBe(true);
      }
    });

    it('always gives the same length, far below the accepted maximum', () => {
      const lengths = new Set<number>();
      for (let i = 0; i < 2000; i++) {
        lengths.add(format.generate(i % 2 === 0 ? 'access' : 'refresh').length);
      }
      expect([...lengths]).toEqual([58]);
      expect(58).toBeLessThan(MAX_TOKEN_LENGTH);
    });

    it('writes the kind into the token, and parse reads it back', () => {
      const access = format.generate('access');
      const refresh = format.generate('refresh');
      expect(access.slice(0, HEAD_LENGTH)).not.toBe(refresh.slice(0, HEAD_LENGTH));
      expect(format.parse(access)).toBe('access');
      expect(format.parse(refresh)).toBe('refresh');
    });

    it('never repeats a token in 100 000 draws', () => {
      const seen = new Set<string>();
      for (let i = 0; i < 100_000; i++) {
        seen.add(format.generate('access'));
      }
      expect(seen.size).toBe(100_000);
    });

    it('carries a 32-byte secret that uses the whole range', () => {
      expect(SECRET_BYTES).toBe(32);
      let highFirstByte = 0;
      for (let i = 0; i < 500; i++) {
        const secret = secretOf(format.generate('access'));
        const bytes = decodeBase62Bytes(secret, 32);
        expect(bytes).toHaveLength(32);
        if (bytes[0] >= 128) highFirstByte++;
      }
      // A secret of fewer random bytes, left-padded, would never set the top bit of byte 0.
      expect(highFirstByte).toBeGreaterThan(150);
      expect(highFirstByte).toBeLessThan(350);
    });

    it('ends with the base62 CRC-32 of everything before it', () => {
      const token = format.generate('refresh');
      const body = token.slice(0, -6);
      expect(token.slice(-6)).toBe(encodeBase62(BigInt(crc32(body)), 6));
    });
  });

  describe('custom prefix', () => {
    it('uses the prefix and only accepts its own tokens', () => {
      const acme = new TokenFormat('acme2');
      const token = acme.generate('access');
      expect(token).toMatch(/^acme2_at_[0-9A-Za-z]{49}$/);
      expect(acme.parse(token)).toBe('access');
      expect(format.parse(token)).toBeNull();
      expect(acme.parse(format.generate('access'))).toBeNull();
    });

    it.each(['', 'Durin', 'du_rin', 'du-rin', 'a'.repeat(17), 'dürin'])(
      'refuses the prefix %j',
      (prefix) => {
        expect(() => new TokenFormat(prefix)).toThrow(RangeError);
      },
    );
  });

  describe('parse rejects', () => {
    const valid = format.generate('access');

    it('a wrong checksum', () => {
      const last = valid.at(-1) === 'A' ? 'B' : 'A';
      expect(format.parse(valid.slice(0, -1) + last)).toBeNull();
    });

    it('a changed secret character (the checksum no longer matches)', () => {
      const index = HEAD_LENGTH + 10;
      const swapped = valid[index] === 'x' ? 'y' : 'x';
      expect(format.parse(valid.slice(0, index) + swapped + valid.slice(index + 1))).toBeNull();
    });

    it('another prefix of the same length, even with a valid checksum', () => {
      const foreign = withChecksum('nirud_at_' + secretOf(valid));
      expect(new TokenFormat('nirud').parse(foreign)).toBe('access');
      expect(format.parse(foreign)).toBeNull();
    });

    it('an unknown kind with a valid checksum', () => {
      expect(format.parse(withChecksum('durin_xx_' + secretOf(valid)))).toBeNull();
    });

    it.each([
      ['one character short', valid.slice(0, -1)],
      ['one character long', valid + 'A'],
      ['empty', ''],
      ['10 000 characters', 'durin_at_' + 'A'.repeat(10_000 - HEAD_LENGTH)],
      ['with surrounding spaces', ` ${valid.slice(1, -1)} `],
    ])('a wrong length: %s', (_name, raw) => {
      expect(format.parse(raw)).toBeNull();
    });

    it.each(['-', '_', '.', '+', '/', '=', ' ', '\u0000', "'"])(
      'a non-base62 character %j even with a valid checksum',
      (char) => {
        const secret = secretOf(valid);
        const raw = withChecksum(`durin_at_${char}${secret.slice(1)}`);
        expect(raw).toHaveLength(valid.length);
        expect(format.parse(raw)).toBeNull();
      },
    );

    it.each([
      ['a latin letter with accent', 'é'],
      ['a Cyrillic look-alike', 'А'],
      ['a full-width digit', '１'],
    ])('unicode: %s', (_name, char) => {
      const raw = valid.slice(0, HEAD_LENGTH) + char + valid.slice(HEAD_LENGTH + 1);
      expect(raw).toHaveLength(valid.length);
      expect(format.parse(raw)).toBeNull();
    });

    it('unicode: an astral character (two UTF-16 units) in place of two characters', () => {
      const raw = valid.slice(0, HEAD_LENGTH) + '😀' + valid.slice(HEAD_LENGTH + 2);
      expect(raw).toHaveLength(valid.length);
      expect(format.parse(raw)).toBeNull();
    });

    it.each([
      ['undefined', undefined],
      ['null', null],
      ['a number', 42],
      ['an object', { token: valid }],
      ['an array', [valid]],
      ['a Buffer', Buffer.from(valid)],
      ['a String object', new String(valid)],
    ])('a non-string: %s', (_name, raw) => {
      expect(format.parse(raw)).toBeNull();
    });
  });
});
