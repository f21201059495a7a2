import { csrfTokenFor } from '../../lib/csrf/csrf';
import { resolveDurinOptions } from '../../lib/options/resolve-options';
import { ResolvedCsrfOptions } from '../../lib/options/resolve-security-options';
import { TokenFormat } from '../../lib/tokens/token-format';
import { TokenHasher } from '../../lib/tokens/token-hasher';

class User {}

const ACCESS = new TokenFormat('durin').generate('access');

function csrfOptions(csrf?: { secret?: string }): ResolvedCsrfOptions {
  return resolveDurinOptions({ userEntity: User, csrf }).csrf as ResolvedCsrfOptions;
}

/** Item: the CSRF key must not be random per process (restarts, several instances). */
describe('CSRF key', () => {
  it('without a secret, two resolved option objects (two processes) give the same token', () => {
    const a = csrfOptions();
    const b = csrfOptions();
    expect(csrfTokenFor(a, ACCESS)).toBe(csrfTokenFor(b, ACCESS));
    expect(csrfTokenFor(a, ACCESS)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('stays bound to the session: another access token gives another value', () => {
    const options = csrfOptions();
    const other = new TokenFormat('durin').generate('access');
    expect(csrfTokenFor(options, other)).not.toBe(csrfTokenFor(options, ACCESS));
  });

  it('with a secret, the same secret gives the same token and another secret another one', () => {
    const one = 'a'.repeat(32);
    const two = 'b'.repeat(32);
    expect(csrfTokenFor(csrfOptions({ secret: one }), ACCESS)).toBe(
      csrfTokenFor(csrfOptions({ secret: one }), ACCESS),
    );
    expect(csrfTokenFor(csrfOptions({ secret: one }), ACCESS)).not.toBe(
      csrfTokenFor(csrfOptions({ secret: two }), ACCESS),
    );
    expect(csrfTokenFor(csrfOptions({ secret: one }), ACCESS)).not.toBe(
      csrfTokenFor(csrfOptions(), ACCESS),
    );
    // The key is derived from the secret, not the secret itself.
    expect(csrfOptions({ secret: one }).key.toString('utf8')).not.toContain(one);
  });

  it('differs from what a database reader holds (the stored hashes of the access token)', () => {
    const token = csrfTokenFor(csrfOptions(), ACCESS);
    const stored = [
      ...new TokenHasher([]).candidates(ACCESS),
      ...new TokenHasher(['p'.repeat(16)]).candidates(ACCESS),
    ];
    for (const hash of stored) {
      expect(Buffer.from(hash, 'hex').toString('base64url')).not.toBe(token);
      expect(hash).not.toBe(token);
    }
  });

  it('hands out a copy of the built-in key: altering one cannot change another module’s', () => {
    const a = csrfOptions();
    const before = csrfTokenFor(csrfOptions(), ACCESS);
    a.key.fill(0);
    expect(csrfTokenFor(csrfOptions(), ACCESS)).toBe(before);
  });
});
