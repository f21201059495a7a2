import { createHash, createHmac } from 'node:crypto';
import { TokenFormat } from '../../lib/tokens/token-format';
import { TokenHasher } from '../../lib/tokens/token-hasher';

const PEPPER_A = 'pepper-a-0123456789abcdef';
const PEPPER_B = 'pepper-b-fedcba9876543210';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const hmac = (key: string, text: string) => createHmac('sha256', key).update(text).digest('hex');

describe('TokenHasher', () => {
  const token = new TokenFormat('durin').generate('access');

  describe('without a pepper', () => {
    const hasher = new TokenHasher([]);

    it('stores SHA-256 in hex', () => {
      expect(hasher.hash(token)).toBe(sha256(token));
      expect(hasher.hash(token)).toMatch(/^[0-9a-f]{64}$/);
    });

    it('looks up that one hash', () => {
      expect(hasher.candidates(token)).toEqual([sha256(token)]);
    });

    it('never reports a hash as outdated', () => {
      expect(hasher.isOutdated(token, sha256(token))).toBe(false);
      expect(hasher.isOutdated(token, 'anything')).toBe(false);
    });
  });

  describe('with a pepper', () => {
    const hasher = new TokenHasher([PEPPER_A]);

    it('stores HMAC-SHA256 keyed with the pepper', () => {
      expect(hasher.hash(token)).toBe(hmac(PEPPER_A, token));
      expect(hasher.hash(token)).toMatch(/^[0-9a-f]{64}$/);
    });

    it('does not store what a plain SHA-256 of the token would give', () => {
      expect(hasher.hash(token)).not.toBe(sha256(token));
      expect(hasher.candidates(token)).not.toContain(sha256(token));
    });

    it('is deterministic per token and differs between tokens', () => {
      expect(new TokenHasher([PEPPER_A]).hash(token)).toBe(hasher.hash(token));
      // Another last character, always: a fixed 'x' was the same token 1 time in 62.
      const other = token.slice(0, -1) + (token.endsWith('x') ? 'y' : 'x');
      expect(hasher.hash(other)).not.toBe(hasher.hash(token));
    });

    it('depends on the pepper', () => {
      expect(new TokenHasher([PEPPER_B]).hash(token)).not.toBe(hasher.hash(token));
    });

    it('never reports a hash as outdated with only one pepper', () => {
      expect(hasher.isOutdated(token, hmac(PEPPER_A, token))).toBe(false);
    });
  });

  describe('with several peppers (newest first)', () => {
    const hasher = new TokenHasher([PEPPER_B, PEPPER_A]);

    it('stores under the newest pepper', () => {
      expect(hasher.hash(token)).toBe(hmac(PEPPER_B, token));
    });

    it('gives the candidates newest first, one per pepper', () => {
      expect(hasher.candidates(token)).toEqual([hmac(PEPPER_B, token), hmac(PEPPER_A, token)]);
    });

    it('reports a hash made with an older pepper as outdated, the newest as current', () => {
      expect(hasher.isOutdated(token, hmac(PEPPER_A, token))).toBe(true);
      expect(hasher.isOutdated(token, hmac(PEPPER_B, token))).toBe(false);
    });
  });
});
