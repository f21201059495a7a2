import crypto, { createHmac, hkdfSync } from 'node:crypto';
import { encodeBase62 } from '../../lib/tokens/base62';
import { crc32 } from '../../lib/tokens/crc32';
import { TokenFormat, TokenTagPolicy } from '../../lib/tokens/token-format';
import { base62Of64, TAG_CHARS, TokenTag } from '../../lib/tokens/token-tag';

const KEY_A = 'tag-key-a-0123456789abcdef0123456789';
const KEY_B = 'tag-key-b-fedcba9876543210fedcba9876';
const TAGGED_SHAPE = /^durin_(at2|rt2)_[0-9A-Za-z]{60}$/;
const HEAD = 'durin_at2_'.length;
const SECRET_CHARS = 43;

/**
 * The documented construction with Node's own HMAC, written out independently of the
 * implementation: a 64-byte HKDF key with 7-bit bytes, HMAC-SHA256, the first 64 bits in base62.
 */
function expectedTag(key: string, body: string): string {
  const derived = Buffer.from(
    hkdfSync('sha256', Buffer.from(key), 'nestjs-durin', 'nestjs-durin token tag v1', 64),
  ).map((byte) => byte & 0x7f);
  const digest = createHmac('sha256', derived).update(body).digest();
  return encodeBase62(digest.readBigUInt64BE(0), TAG_CHARS);
}

function withChecksum(body: string): string {
  return body + encodeBase62(BigInt(crc32(body)), 6);
}

/** The parts of a tagged token: signed part (head + secret), tag, checksum. */
function partsOf(token: string): { signed: string; tag: string } {
  const signedEnd = HEAD + SECRET_CHARS;
  return { signed: token.slice(0, signedEnd), tag: token.slice(signedEnd, signedEnd + TAG_CHARS) };
}

function policy(keys: string[], acceptUntagged = true): TokenTagPolicy {
  return { tag: new TokenTag(keys), acceptUntagged };
}

/** A well-formed tagged token with a valid checksum and the given tag. */
function retagged(token: string, tag: string): string {
  return withChecksum(partsOf(token).signed + tag);
}

describe('TokenTag', () => {
  const tag = new TokenTag([KEY_A]);
  const body = 'durin_at2_' + 'x'.repeat(SECRET_CHARS);

  it('is HMAC-SHA256 under an HKDF-derived key, first 64 bits, as 11 base62 characters', () => {
    for (let i = 0; i < 200; i++) {
      const random = `durin_at2_${crypto.randomBytes(32).toString('hex').slice(0, SECRET_CHARS)}`;
      expect(tag.sign(random)).toBe(expectedTag(KEY_A, random));
      expect(tag.sign(random)).toMatch(/^[0-9A-Za-z]{11}$/);
    }
  });

  it('gives the same tags through createHmac where crypto.hash is missing (Node < 20.12)', () => {
    const bodies = Array.from(
      { length: 50 },
      () => `durin_rt2_${crypto.randomBytes(32).toString('hex').slice(0, SECRET_CHARS)}`,
    );
    const nodeCrypto = crypto as { hash?: unknown };
    const saved = nodeCrypto.hash;
    let fallback: typeof TokenTag | undefined;
    try {
      nodeCrypto.hash = undefined;
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        fallback = (require('../../lib/tokens/token-tag') as { TokenTag: typeof TokenTag })
          .TokenTag;
      });
    } finally {
      nodeCrypto.hash = saved;
    }
    const slow = new fallback!([KEY_A]);
    for (const random of bodies) {
      expect(slow.sign(random)).toBe(expectedTag(KEY_A, random));
      expect(slow.sign(random)).toBe(tag.sign(random));
    }
  });

  it('is not the HMAC under the raw secret: a secret shared with a pepper gives other values', () => {
    const raw = createHmac('sha256', KEY_A).update(body).digest();
    expect(tag.sign(body)).not.toBe(encodeBase62(raw.readBigUInt64BE(0), TAG_CHARS));
  });

  it('encodes 64-bit values like the BigInt encoder, at the edges too', () => {
    const values = [0n, 1n, 61n, 62n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 63n, 2n ** 64n - 1n];
    for (let i = 0; i < 500; i++) values.push(crypto.randomBytes(8).readBigUInt64BE(0));
    for (const value of values) {
      const high = Number(value >> 32n);
      const low = Number(value & 0xffffffffn);
      expect(base62Of64(high, low)).toBe(encodeBase62(value, TAG_CHARS));
    }
  });

  it('verifies its own tag and nothing else', () => {
    const good = tag.sign(body);
    expect(tag.verify(body, good)).toBe(true);
    expect(tag.verify(body.replace('x', 'y'), good)).toBe(false);
    expect(new TokenTag([KEY_B]).verify(body, good)).toBe(false);
  });

  it.each([0, 5, TAG_CHARS - 1])('refuses a tag changed at position %i', (index) => {
    const good = tag.sign(body);
    const changed =
      good.slice(0, index) + (good[index] === 'A' ? 'B' : 'A') + good.slice(index + 1);
    expect(tag.verify(body, changed)).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['one character short', 'A'.repeat(TAG_CHARS - 1)],
    ['one character long', 'A'.repeat(TAG_CHARS + 1)],
    ['non-ASCII of the same length', 'é'.repeat(TAG_CHARS)],
  ])('refuses a tag of another length, without throwing: %s', (_name, bad) => {
    expect(() => tag.verify(body, bad)).not.toThrow();
    expect(tag.verify(body, bad)).toBe(false);
  });

  describe('constant-time comparison', () => {
    let spy: jest.SpiedFunction<typeof crypto.timingSafeEqual>;
    beforeEach(() => {
      spy = jest.spyOn(crypto, 'timingSafeEqual');
    });
    afterEach(() => spy.mockRestore());

    it('compares every candidate tag with timingSafeEqual on equal-length buffers', () => {
      const good = tag.sign(body);
      const firstWrong = (good[0] === 'A' ? 'B' : 'A') + good.slice(1);
      const lastWrong = good.slice(0, -1) + (good.at(-1) === 'A' ? 'B' : 'A');
      for (const candidate of [good, firstWrong, lastWrong]) {
        spy.mockClear();
        tag.verify(body, candidate);
        expect(spy).toHaveBeenCalledTimes(1);
        const [left, right] = spy.mock.calls[0] as [Buffer, Buffer];
        expect(left).toHaveLength(TAG_CHARS);
        expect(right).toHaveLength(TAG_CHARS);
      }
    });

    it('tries every key for a forgery, one comparison each', () => {
      const rotating = new TokenTag([KEY_B, KEY_A]);
      rotating.verify(body, 'A'.repeat(TAG_CHARS));
      expect(spy).toHaveBeenCalledTimes(2);
    });
  });

  describe('key rotation', () => {
    const tagA = new TokenTag([KEY_A]).sign(body);
    const tagB = new TokenTag([KEY_B]).sign(body);

    it('signs with the newest key and still verifies the older one', () => {
      const rotating = new TokenTag([KEY_B, KEY_A]);
      expect(rotating.sign(body)).toBe(tagB);
      expect(rotating.verify(body, tagA)).toBe(true);
      expect(rotating.verify(body, tagB)).toBe(true);
    });

    it('refuses the tags of a removed key', () => {
      expect(new TokenTag([KEY_B]).verify(body, tagA)).toBe(false);
    });

    it('needs at least one key', () => {
      expect(() => new TokenTag([])).toThrow(RangeError);
    });
  });
});

describe('TokenFormat with a tag', () => {
  const tagged = new TokenFormat('durin', policy([KEY_A]));
  const untagged = new TokenFormat('durin');

  it.each(['access', 'refresh'] as const)('gives %s tokens of the tagged shape', (kind) => {
    const lengths = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const token = tagged.generate(kind);
      expect(token).toMatch(TAGGED_SHAPE);
      expect(token.startsWith(kind === 'access' ? 'durin_at2_' : 'durin_rt2_')).toBe(true);
      expect(tagged.parse(token)).toBe(kind);
      lengths.add(token.length);
    }
    expect([...lengths]).toEqual([70]);
  });

  it('carries the tag of head and secret, then the CRC-32 of everything before it', () => {
    const token = tagged.generate('access');
    const { signed, tag } = partsOf(token);
    expect(tag).toBe(expectedTag(KEY_A, signed));
    expect(token.slice(-6)).toBe(encodeBase62(BigInt(crc32(token.slice(0, -6))), 6));
  });

  it('refuses a well-formed token with a valid checksum and a forged tag', () => {
    const token = tagged.generate('access');
    let refused = 0;
    for (let i = 0; i < 1000; i++) {
      const forged = retagged(token, encodeBase62(crypto.randomBytes(8).readBigUInt64BE(0), 11));
      expect(forged).toHaveLength(token.length);
      if (tagged.parse(forged) === null) refused++;
    }
    expect(refused).toBe(1000);
  });

  it('refuses a genuine tag moved onto another secret or the other kind', () => {
    const token = tagged.generate('access');
    const { signed, tag } = partsOf(token);
    const otherSecret =
      signed.slice(0, HEAD) + (signed[HEAD] === 'a' ? 'b' : 'a') + signed.slice(HEAD + 1);
    expect(tagged.parse(withChecksum(otherSecret + tag))).toBeNull();
    expect(tagged.parse(withChecksum(signed.replace('_at2_', '_rt2_') + tag))).toBeNull();
  });

  it('refuses a tagged token with a wrong checksum before checking its tag', () => {
    const token = tagged.generate('refresh');
    const spy = jest.spyOn(TokenTag.prototype, 'verify');
    try {
      expect(tagged.parse(token.slice(0, -1) + (token.at(-1) === 'A' ? 'B' : 'A'))).toBeNull();
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses the tokens of another key, and of another prefix under the same key', () => {
    expect(new TokenFormat('durin', policy([KEY_B])).parse(tagged.generate('access'))).toBeNull();
    const acme = new TokenFormat('acme', policy([KEY_A]));
    expect(tagged.parse(acme.generate('access'))).toBeNull();
  });

  describe('key rotation', () => {
    it('A, then [B, A] issues under B and accepts both, then [B] refuses A', () => {
      const underA = tagged.generate('access');
      const rotating = new TokenFormat('durin', policy([KEY_B, KEY_A]));
      const underB = rotating.generate('access');
      expect(partsOf(underB).tag).toBe(expectedTag(KEY_B, partsOf(underB).signed));
      expect(rotating.parse(underA)).toBe('access');
      expect(rotating.parse(underB)).toBe('access');
      const rotated = new TokenFormat('durin', policy([KEY_B]));
      expect(rotated.parse(underB)).toBe('access');
      expect(rotated.parse(underA)).toBeNull();
    });
  });

  describe('untagged tokens (issued before the key)', () => {
    const old = untagged.generate('access');
    const oldRefresh = untagged.generate('refresh');

    it('are accepted by default during the migration', () => {
      expect(tagged.parse(old)).toBe('access');
      expect(tagged.parse(oldRefresh)).toBe('refresh');
    });

    it('are refused with acceptUntagged: false', () => {
      const strict = new TokenFormat('durin', policy([KEY_A], false));
      expect(strict.parse(old)).toBeNull();
      expect(strict.parse(oldRefresh)).toBeNull();
      expect(strict.parse(strict.generate('access'))).toBe('access');
    });

    it('still need a valid checksum', () => {
      expect(tagged.parse(old.slice(0, -1) + (old.at(-1) === 'A' ? 'B' : 'A'))).toBeNull();
    });
  });

  describe('without a key (the format before issue 12)', () => {
    it('issues untagged tokens', () => {
      expect(untagged.generate('access')).toMatch(/^durin_at_[0-9A-Za-z]{49}$/);
    });

    it('refuses tagged tokens: nothing can verify them', () => {
      expect(untagged.parse(tagged.generate('access'))).toBeNull();
      expect(untagged.parse(tagged.generate('refresh'))).toBeNull();
    });
  });

  it('never confuses the formats: an untagged head with a tagged length is refused', () => {
    const token = tagged.generate('access');
    const { signed, tag } = partsOf(token);
    const mixed = withChecksum(signed.replace('_at2_', '_at_') + tag + 'A');
    expect(mixed).toHaveLength(token.length);
    expect(tagged.parse(mixed)).toBeNull();
  });
});
