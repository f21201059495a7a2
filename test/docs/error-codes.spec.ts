/**
 * The troubleshooting table of docs/guide.md names every error `code` the library can answer with:
 * a new code in lib/ without a row fails here, as does a row for a code that no longer exists.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './doc-blocks';

/** Every `.ts` file under `dir`. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * The codes lib/ can put in a body: `code: '…'` (the DurinError subclasses, the guard's results,
 * the body-parse answer), `new DurinHttpException(HttpStatus.X, '…'` (the routes' own answers)
 * and the guard's `AuthErrorCode` union.
 */
function libraryCodes(): Set<string> {
  const codes = new Set<string>();
  for (const file of sourceFiles(join(REPO_ROOT, 'lib'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bcode:\s*'([a-z][a-z_]*)'/g)) codes.add(m[1]);
    for (const m of text.matchAll(/DurinHttpException\(\s*HttpStatus\.\w+,\s*'([a-z][a-z_]*)'/g)) {
      codes.add(m[1]);
    }
    const union = /type AuthErrorCode\s*=([^;]+);/.exec(text);
    if (union) for (const m of union[1].matchAll(/'([a-z_]+)'/g)) codes.add(m[1]);
  }
  return codes;
}

/** The first column of the guide's troubleshooting table. */
function tableCodes(): string[] {
  const guide = readFileSync(join(REPO_ROOT, 'docs', 'guide.md'), 'utf8');
  const section = guide.split(/^## /m).find((s) => s.startsWith('10. Troubleshooting'));
  if (!section) throw new Error('docs/guide.md has no "10. Troubleshooting" section');
  return [...section.matchAll(/^\| `([a-z_]+)` +\|/gm)].map((m) => m[1]);
}

describe('the troubleshooting table of docs/guide.md', () => {
  const inLib = libraryCodes();
  const inTable = tableCodes();

  it('finds the codes of lib/ (the scan itself works)', () => {
    for (const code of [
      'token_missing',
      'user_inactive',
      'csrf_failed',
      'session_not_found',
      'rate_limited',
    ]) {
      expect(inLib).toContain(code);
    }
    expect(inLib.size).toBeGreaterThanOrEqual(24);
  });

  it('has a row for every code of lib/', () => {
    expect([...inLib].filter((code) => !inTable.includes(code)).sort()).toEqual([]);
  });

  it('has no row for a code lib/ does not have, and no code twice', () => {
    expect(inTable.filter((code) => !inLib.has(code))).toEqual([]);
    expect(new Set(inTable).size).toBe(inTable.length);
  });
});
