/**
 * Every ```ts block of README.md and docs/*.md compiles against the library's source (strict), so
 * the docs cannot drift from the code. The convention (automatic imports, the skip marker) is
 * described at the top of ./doc-blocks.ts and in docs/guide.md ("Code blocks in these docs").
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BlockResult,
  checkBlocks,
  DocBlock,
  extractBlocks,
  parseBlocks,
  REPO_ROOT,
} from './doc-blocks';

const DOC_FILES = [
  'README.md',
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

const blocks: DocBlock[] = DOC_FILES.flatMap(extractBlocks);
const name = (block: DocBlock): string => `${block.file}:${block.line}`;

/** Blocks that must NOT compile, checked in the same program: proof that the check checks. */
const WRONG_OPTION: DocBlock = {
  file: 'self-test.md',
  line: 1,
  code: "DurinModule.forRoot({ userEntity: User, tokenTTL: '1h' });",
};
const OBJECT_FRAGMENT: DocBlock = {
  file: 'self-test.md',
  line: 10,
  code: 'imports: [DurinModule.forRoot({ userEntity: User })];',
};
const UNKNOWN_NAME: DocBlock = {
  file: 'self-test.md',
  line: 20,
  code: 'await tokenService.generateBearerToken(user);',
};

describe('the code blocks of the docs', () => {
  let results: Map<DocBlock, BlockResult>;

  beforeAll(() => {
    const all = checkBlocks([...blocks, WRONG_OPTION, OBJECT_FRAGMENT, UNKNOWN_NAME]);
    results = new Map(all.map((result) => [result.block, result]));
  });

  it('finds the blocks of README.md and the guide', () => {
    expect(blocks.filter((b) => b.file === 'README.md').length).toBeGreaterThan(10);
    expect(blocks.filter((b) => b.file === 'docs/guide.md').length).toBeGreaterThan(10);
  });

  it.each(blocks.map((block) => [name(block), block] as const))('%s', (_name, block) => {
    expect(block.badMarker).toBeUndefined();
    const { errors } = results.get(block)!;
    if (block.skipReason === undefined) {
      expect(errors).toEqual([]);
    } else {
      // A skip marker on a block that compiles is stale: drop it, so the block is checked.
      expect(errors.length).toBeGreaterThan(0);
    }
  });

  describe('the checker itself', () => {
    it('refuses an option the library does not have, at the line of the block', () => {
      const { errors } = results.get(WRONG_OPTION)!;
      expect(errors).toEqual([expect.stringMatching(/^self-test\.md:1:\d+ TS2561 .*tokenTTL/)]);
    });

    it('refuses a `key: value` fragment, which TypeScript alone would take for a label', () => {
      expect(results.get(OBJECT_FRAGMENT)!.errors).toEqual([
        expect.stringContaining('`imports: …` is an object fragment'),
      ]);
    });

    it('refuses a method the library does not have', () => {
      expect(results.get(UNKNOWN_NAME)!.errors).toEqual([
        expect.stringMatching(/^self-test\.md:20:\d+ TS2551 .*generateBearerToken/),
      ]);
    });

    it('reads the skip marker with its reason, and flags one without a reason', () => {
      const parsed = parseBlocks(
        'x.md',
        [
          '<!-- ts-check: skip (pseudo-code) -->',
          '```ts',
          'a b c',
          '```',
          '<!-- ts-check: skip -->',
          '```typescript',
          'x',
          '```',
          '```bash',
          'echo not checked',
          '```',
          '```ts',
          'const checked = 1;',
          '```',
          '- in a list:',
          '  ```ts',
          '  const indented = 2;',
          '  ```',
        ].join('\n'),
      );
      expect(parsed).toEqual([
        { file: 'x.md', line: 3, code: 'a b c', skipReason: 'pseudo-code' },
        { file: 'x.md', line: 7, code: 'x', badMarker: '<!-- ts-check: skip -->' },
        { file: 'x.md', line: 13, code: 'const checked = 1;' },
        { file: 'x.md', line: 17, code: 'const indented = 2;' },
      ]);
    });
  });
});
