import { builtinModules } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const LIB = join(ROOT, 'lib');

/** `import … from 'x'`, `export … from 'x'`, `import 'x'`, `import('x')`, `require('x')`. */
const SPECIFIER_PATTERNS = [
  /\b(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.[cm]?[jt]s$/.test(entry.name) ? [path] : [];
  });
}

export function importedSpecifiers(source: string): string[] {
  // Comments may mention packages (JSDoc examples) without importing them.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  for (const pattern of SPECIFIER_PATTERNS) {
    for (const match of code.matchAll(pattern)) found.push(match[1]);
  }
  return found;
}

/** The package a specifier loads, or undefined for relative paths and Node built-ins. */
export function packageName(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) {
    return undefined;
  }
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return builtinModules.includes(name) ? undefined : name;
}

describe('dependency scan of lib/', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const files = sourceFiles(LIB);
  const usage = new Map<string, string[]>();
  for (const file of files) {
    for (const specifier of importedSpecifiers(readFileSync(file, 'utf8'))) {
      const name = packageName(specifier);
      if (name === undefined) continue;
      usage.set(name, [...(usage.get(name) ?? []), relative(ROOT, file)]);
    }
  }

  it('parses the import forms it is meant to find', () => {
    const sample = [
      "import { A } from '@scope/pkg/sub';",
      "import type { B } from 'typed';",
      "export * from 'reexported';",
      "import 'side-effect';",
      "const c = require('required');",
      "const d = await import('dynamic/deep/path');",
      "import { e } from './relative';",
      "import { f } from 'node:crypto';",
      "import * as g from 'fs';",
      "// import { h } from 'commented';",
      "/** @example import { i } from 'documented'; */",
      'import {\n  j,\n  k,\n} from "multiline";',
    ].join('\n');
    const names = importedSpecifiers(sample).map(packageName).filter(Boolean).sort();
    expect(names).toEqual(
      [
        '@scope/pkg',
        'dynamic',
        'multiline',
        'reexported',
        'required',
        'side-effect',
        'typed',
      ].sort(),
    );
  });

  it('sees the packages the library is built on', () => {
    expect(files.length).toBeGreaterThan(10);
    expect([...usage.keys()]).toEqual(
      expect.arrayContaining(['@nestjs/common', '@nestjs/typeorm', 'typeorm']),
    );
  });

  it('finds every imported package in dependencies or peerDependencies', () => {
    const missing = [...usage.entries()]
      .filter(([name]) => !declared.has(name))
      .map(([name, where]) => `${name} (imported by ${[...new Set(where)].join(', ')})`);
    expect(missing).toEqual([]);
  });
});
