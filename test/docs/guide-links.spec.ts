/**
 * The guide's links, and the README's links into the guide, land on a heading that exists (GitHub's
 * anchors), so a renamed section does not leave a newcomer on a dead link.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { REPO_ROOT } from './doc-blocks';

const read = (file: string): string => readFileSync(join(REPO_ROOT, file), 'utf8');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a markdown file's headings, outside code blocks. */
function anchors(file: string): Set<string> {
  const found = new Set<string>();
  let inCode = false;
  for (const line of read(file).split('\n')) {
    if (/^(```|~~~)/.test(line)) inCode = !inCode;
    const heading = /^#{1,6} (.+)$/.exec(line);
    if (!inCode && heading) found.add(anchorOf(heading[1].trim()));
  }
  return found;
}

/** `[text](target)` links of a file that point into the repository, as `file#anchor`. */
function localLinks(file: string): { target: string; file: string; anchor?: string }[] {
  const links = [...read(file).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  return links
    .filter((target) => !/^[a-z]+:/.test(target))
    .map((target) => {
      const [path, anchor] = target.split('#');
      return { target, file: path === '' ? file : normalize(join(dirname(file), path)), anchor };
    });
}

describe('links of the guide', () => {
  it.each(['docs/guide.md', 'README.md'])('%s: every link into the guide resolves', (file) => {
    const broken = localLinks(file)
      .filter((link) => file === 'docs/guide.md' || link.file === 'docs/guide.md')
      .filter((link) => {
        if (!existsSync(join(REPO_ROOT, link.file))) return true;
        if (!link.file.endsWith('.md') || link.anchor === undefined) return false;
        return !anchors(link.file).has(link.anchor);
      })
      .map((link) => link.target);
    expect(broken).toEqual([]);
  });

  it('computes GitHub anchors as GitHub does', () => {
    expect(anchorOf('9. The `durin` command')).toBe('9-the-durin-command');
    expect(anchorOf('Going live: a checklist')).toBe('going-live-a-checklist');
  });
});
