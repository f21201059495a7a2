import { randomBytes } from 'node:crypto';
import { base62Width, encodeBase62, encodeBase62Bytes } from './base62';
import { crc32 } from './crc32';

/** The kind of a token, written into it so a refresh token can never pass as an access token. */
export type TokenKind = 'access' | 'refresh';

/** 32 bytes = 256 bits from the OS CSPRNG: far beyond guessing, and the checklist's REQ-GEN-01. */
export const SECRET_BYTES = 32;
const SECRET_CHARS = base62Width(SECRET_BYTES); // 43
/** 62^6 > 2^32, so any CRC-32 fits in six base62 characters. */
const CHECKSUM_CHARS = 6;
const KIND_CODES: Record<TokenKind, string> = { access: 'at', refresh: 'rt' };

/** Lower-case letters and digits only: the prefix is part of the token and must stay b64token. */
export const TOKEN_PREFIX_PATTERN = /^[a-z0-9]{1,16}$/;

/**
 * No valid token is longer than this; anything longer is rejected before it is hashed, so an
 * attacker cannot make us hash megabytes (REQ-HDR-05).
 */
export const MAX_TOKEN_LENGTH = 255;

const BODY_PATTERN = /^[0-9A-Za-z]+$/;

/** Builds and recognises tokens of one prefix: `<prefix>_<at|rt>_<43 base62 secret><6 base62 CRC32>`. */
export class TokenFormat {
  private readonly accessHead: string;
  private readonly refreshHead: string;
  private readonly tokenLength: number;

  constructor(readonly prefix: string) {
    if (!TOKEN_PREFIX_PATTERN.test(prefix)) {
      throw new RangeError('token prefix must be 1-16 lower-case letters or digits');
    }
    this.accessHead = `${prefix}_${KIND_CODES.access}_`;
    this.refreshHead = `${prefix}_${KIND_CODES.refresh}_`;
    this.tokenLength = this.accessHead.length + SECRET_CHARS + CHECKSUM_CHARS;
  }

  /** A new random token of the given kind. The caller shows it once and stores only its hash. */
  generate(kind: TokenKind): string {
    const head = kind === 'access' ? this.accessHead : this.refreshHead;
    const body = head + encodeBase62Bytes(randomBytes(SECRET_BYTES), SECRET_CHARS);
    return body + encodeBase62(BigInt(crc32(body)), CHECKSUM_CHARS);
  }

  /**
   * The kind of a well-formed token, or `null` for anything else (wrong type, prefix, length,
   * alphabet or checksum). Pure and cheap: this runs before any hashing or database work, so junk
   * and flooding never reach the store.
   */
  parse(raw: unknown): TokenKind | null {
    if (typeof raw !== 'string' || raw.length !== this.tokenLength) {
      return null;
    }
    let kind: TokenKind;
    if (raw.startsWith(this.accessHead)) {
      kind = 'access';
    } else if (raw.startsWith(this.refreshHead)) {
      kind = 'refresh';
    } else {
      return null;
    }
    const tail = raw.slice(this.accessHead.length);
    if (!BODY_PATTERN.test(tail)) {
      return null;
    }
    const body = raw.slice(0, raw.length - CHECKSUM_CHARS);
    const checksum = raw.slice(raw.length - CHECKSUM_CHARS);
    return encodeBase62(BigInt(crc32(body)), CHECKSUM_CHARS) === checksum ? kind : null;
  }
}
