/**
 * Every ```ts block of README.md and docs/*.md compiles against the library's source (strict), so
 * the docs cannot drift from the code. The convention (automatic imports, the skip marker) is
 * described at the top of ./doc-blocks.ts and in docs/guide.md ("Code blocks in these docs").
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BlockResult, checkBlocks, DocBlock, extractBlocks, REPO_ROOT } from './doc-blocks';

const DOC_FILES = [
  'README.md',
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

const blocks: DocBlock[] = DOC_FILES.flatMap(extractBlocks);
const name = (block: DocBlock): string => `${block.file}:${block.line}`;

describe('the code blocks of the docs', () => {
  let results: Map<DocBlock, BlockResult>;

  beforeAll(() => {
    results = new Map(checkBlocks(blocks).map((result) => [result.block, result]));
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
});
