import { randomBytes } from 'node:crypto';
import { base62Width, decodeBase62Range, encodeBase62, encodeBase62Bytes } from './base62';
import { crc32, crc32OfBase62 } from './crc32';
import { TAG_CHARS, TokenTag } from './token-tag';

/** The kind of a token, written into it so a refresh token can never pass as an access token. */
export type TokenKind = 'access' | 'refresh';

/** 32 bytes = 256 bits from the OS CSPRNG: far beyond guessing, and the checklist's REQ-GEN-01. */
export const SECRET_BYTES = 32;
const SECRET_CHARS = base62Width(SECRET_BYTES); // 43
/** 62^6 > 2^32, so any CRC-32 fits in six base62 characters. */
const CHECKSUM_CHARS = 6;
const KIND_CODES: Record<TokenKind, string> = { access: 'at', refresh: 'rt' };
/**
 * The kind codes of the tagged format (`<prefix>_at2_…`). A marker in the head as well as a
 * different length, so neither format can be read as the other (an untagged head of the tagged
 * length is refused), and secret scanners tell them apart by the prefix alone.
 */
const TAGGED_KIND_CODES: Record<TokenKind, string> = { access: 'at2', refresh: 'rt2' };

/** Lower-case letters and digits only: the prefix is part of the token and must stay b64token. */
export const TOKEN_PREFIX_PATTERN = /^[a-z0-9]{1,16}$/;

/**
 * No valid token is longer than this; anything longer is rejected before it is hashed, so an
 * attacker cannot make us hash megabytes (REQ-HDR-05).
 */
export const MAX_TOKEN_LENGTH = 255;

/**
 * How tagged tokens are checked: the tag and whether tokens of the untagged format are still
 * accepted (during a migration).
 */
export interface TokenTagPolicy {
  tag: TokenTag;
  acceptUntagged: boolean;
}

/**
 * Builds and recognises tokens of one prefix: `<prefix>_<at|rt>_<43 base62 secret><6 base62
 * CRC32>`; with a {@link TokenTagPolicy}, new tokens are `<prefix>_<at2|rt2>_<43 base62 secret><11
 * base62 tag><6 base62 CRC32>` (the tag is the truncated HMAC of everything before it, the CRC
 * still covers everything before it).
 */
export class TokenFormat {
  private readonly accessHead: string;
  private readonly refreshHead: string;
  private readonly tokenLength: number;
  // -- tagged format (issue 12): unused without a policy
  private readonly taggedAccessHead: string;
  private readonly taggedRefreshHead: string;
  private readonly taggedLength: number;

  constructor(
    readonly prefix: string,
    private readonly tagging: TokenTagPolicy | null = null,
  ) {
    if (!TOKEN_PREFIX_PATTERN.test(prefix)) {
      throw new RangeError('token prefix must be 1-16 lower-case letters or digits');
    }
    this.accessHead = `${prefix}_${KIND_CODES.access}_`;
    this.refreshHead = `${prefix}_${KIND_CODES.refresh}_`;
    this.tokenLength = this.accessHead.length + SECRET_CHARS + CHECKSUM_CHARS;
    this.taggedAccessHead = `${prefix}_${TAGGED_KIND_CODES.access}_`;
    this.taggedRefreshHead = `${prefix}_${TAGGED_KIND_CODES.refresh}_`;
    this.taggedLength = this.taggedAccessHead.length + SECRET_CHARS + TAG_CHARS + CHECKSUM_CHARS;
  }

  /** A new random token of the given kind. The caller shows it once and stores only its hash. */
  generate(kind: TokenKind): string {
    if (this.tagging !== null) {
      const head = kind === 'access' ? this.taggedAccessHead : this.taggedRefreshHead;
      const signed = head + encodeBase62Bytes(randomBytes(SECRET_BYTES), SECRET_CHARS);
      const body = signed + this.tagging.tag.sign(signed);
      return body + encodeBase62(BigInt(crc32(body)), CHECKSUM_CHARS);
    }
    const head = kind === 'access' ? this.accessHead : this.refreshHead;
    const body = head + encodeBase62Bytes(randomBytes(SECRET_BYTES), SECRET_CHARS);
    return body + encodeBase62(BigInt(crc32(body)), CHECKSUM_CHARS);
  }

  /**
   * The kind of a well-formed token, or `null` for anything else (wrong type, prefix, length,
   * alphabet or checksum; with a tag policy also a tag that verifies under no key, or an untagged
   * token once those are no longer accepted). Pure and cheap: this runs before any hashing, cache
   * or database work, so junk, forgeries and flooding never reach the store.
   *
   * `checkTag: false` leaves the tag (the one HMAC) to a later {@link hasValidTag}: for a caller
   * that first looks in a cache only tokens verified earlier can be in, and verifies the tag
   * before anything else (see `TokenAuthenticator`).
   */
  parse(raw: unknown, checkTag = true): TokenKind | null {
    if (typeof raw !== 'string') {
      return null;
    }
    if (this.tagging !== null && raw.length === this.taggedLength) {
      return this.parseTagged(raw, checkTag ? this.tagging.tag : null);
    }
    if (raw.length !== this.tokenLength || this.tagging?.acceptUntagged === false) {
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
    return checksumMatches(raw, this.accessHead.length) ? kind : null;
  }

  /**
   * Whether the tag of a token that {@link parse} accepted with `checkTag: false` verifies; `true`
   * for a token of the untagged format (parse already decided whether those are accepted).
   */
  hasValidTag(raw: string): boolean {
    return (
      this.tagging === null ||
      raw.length !== this.taggedLength ||
      this.tagValid(raw, this.tagging.tag)
    );
  }

  /** {@link parse} for the tagged format: head, alphabet, checksum, then the tag (one HMAC). */
  private parseTagged(raw: string, tag: TokenTag | null): TokenKind | null {
    let kind: TokenKind;
    if (raw.startsWith(this.taggedAccessHead)) {
      kind = 'access';
    } else if (raw.startsWith(this.taggedRefreshHead)) {
      kind = 'refresh';
    } else {
      return null;
    }
    if (!checksumMatches(raw, this.taggedAccessHead.length)) {
      return null;
    }
    return tag === null || this.tagValid(raw, tag) ? kind : null;
  }

  private tagValid(raw: string, tag: TokenTag): boolean {
    const signedEnd = raw.length - CHECKSUM_CHARS - TAG_CHARS;
    return tag.verify(raw.slice(0, signedEnd), raw.slice(signedEnd, raw.length - CHECKSUM_CHARS));
  }
}

/**
 * Whether the characters from `bodyFrom` are base62 and the last {@link CHECKSUM_CHARS} are the
 * base62 CRC-32 of the rest. Compared as numbers (the encoding is fixed-width and zero-padded, so
 * equal numbers mean equal text): no BigInt, no slices, no string built per request.
 */
function checksumMatches(raw: string, bodyFrom: number): boolean {
  const end = raw.length - CHECKSUM_CHARS;
  const checksum = decodeBase62Range(raw, end, raw.length);
  return checksum >= 0 && checksum === crc32OfBase62(raw, bodyFrom, end);
}
