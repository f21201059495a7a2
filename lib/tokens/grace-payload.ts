import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The new pair of a rotation, sealed on the parent row for the refresh grace window.
 *
 * Only hashes of tokens are stored, so a racing tab that presents the parent again cannot be
 * given "the same child" from the hashes alone. The child's raw tokens are therefore kept,
 * encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from the parent's raw refresh
 * token: only someone who holds that secret, i.e. the racing tab itself, can open it; a reader of
 * the table cannot. The salt is the parent's id and the additional data binds the box to the
 * parent/child pair, so a box copied onto another row does not open.
 */

const VERSION = 'v1';
const INFO = Buffer.from('nestjs-durin refresh-grace v1', 'utf8');
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The raw secrets of a rotated-to child. */
export interface GracePair {
  access: string;
  refresh: string;
}

function keyFor(parentRefreshToken: string, parentId: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', Buffer.from(parentRefreshToken, 'utf8'), parentId, INFO, 32),
  );
}

function aadFor(parentId: string, childId: string): Buffer {
  return Buffer.from(`${parentId}>${childId}`, 'utf8');
}

/** Encrypts `pair` for whoever holds `parentRefreshToken`. */
export function sealGracePair(
  parentRefreshToken: string,
  parentId: string,
  childId: string,
  pair: GracePair,
): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyFor(parentRefreshToken, parentId), iv, {
    authTagLength: TAG_BYTES,
  });
  cipher.setAAD(aadFor(parentId, childId));
  const plaintext = Buffer.from(JSON.stringify([pair.access, pair.refresh]), 'utf8');
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [
    VERSION,
    iv.toString('base64url'),
    sealed.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
  ].join('.');
}

/**
 * Decrypts a box made by {@link sealGracePair}; `null` for a wrong secret, a tampered or foreign
 * box, or anything malformed (never throws).
 */
export function openGracePair(
  parentRefreshToken: string,
  parentId: string,
  childId: string,
  box: string,
): GracePair | null {
  const parts = box.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) return null;
  try {
    const iv = Buffer.from(parts[1], 'base64url');
    const tag = Buffer.from(parts[3], 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return null;
    const decipher = createDecipheriv('aes-256-gcm', keyFor(parentRefreshToken, parentId), iv, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aadFor(parentId, childId));
    decipher.setAuthTag(tag);
    const plaintext = Buffer.concat([
      decipher.update(Buffer.from(parts[2], 'base64url')),
      decipher.final(),
    ]);
    const parsed: unknown = JSON.parse(plaintext.toString('utf8'));
    if (
      !Array.isArray(parsed) ||
      parsed.length !== 2 ||
      typeof parsed[0] !== 'string' ||
      typeof parsed[1] !== 'string'
    ) {
      return null;
    }
    return { access: parsed[0], refresh: parsed[1] };
  } catch {
    return null;
  }
}
