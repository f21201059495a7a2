import { timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in time that does not depend on where they differ. `timingSafeEqual`
 * throws on a length mismatch, which once turned a wrong-length guess into a 500 in a peer library
 * (KNOX PR #85, REQ-STO-03); here a mismatch is simply `false`. The length of a secret is not
 * itself secret (every token of a kind has the same length).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) {
    return false;
  }
  return timingSafeEqual(left, right);
}
