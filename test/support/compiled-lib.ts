import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

/**
 * The library compiled as it is published (lib/tsconfig.lib.json), for tests that run it in a
 * child `node`: optional peers hidden, the emitted declarations read.
 */
export interface CompiledLib {
  /** The output directory (inside node_modules, so the compiled files resolve the other packages as the published ones do). */
  readonly dir: string;
  /** `dist/lib/index.js` of that build. */
  readonly entry: string;
  /** A `-r` preload that makes `name` (and anything under it) unresolvable, as if not installed. */
  hidePackage(name: string): Promise<string>;
  /** Every `.d.ts` file of the build. */
  declarationFiles(): Promise<string[]>;
  /** Runs `script` with `node -e` in the repo root, `DURIN_ENTRY` set to the entry; its stdout. */
  runNode(script: string, preloads?: readonly string[]): Promise<string>;
  remove(): Promise<void>;
}

export async function compileLib(label: string): Promise<CompiledLib> {
  const dir = await mkdtemp(join(ROOT, 'node_modules', `.cache-durin-${label}-`));
  await run(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(ROOT, 'lib', 'tsconfig.lib.json'),
      '--outDir',
      dir,
    ],
    { cwd: ROOT },
  );
  const entry = join(dir, 'index.js');
  return {
    dir,
    entry,
    async hidePackage(name) {
      const file = join(dir, `hide-${name.replace(/[^a-z0-9]+/gi, '-')}.js`);
      await writeFile(
        file,
        `
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === ${JSON.stringify(name)} || request.startsWith(${JSON.stringify(`${name}/`)})) {
    const error = new Error("Cannot find module '" + request + "'");
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return resolve.call(this, request, ...rest);
};
`,
      );
      return file;
    },
    async declarationFiles() {
      const names = await readdir(dir, { recursive: true });
      return names.filter((name) => name.endsWith('.d.ts')).map((name) => join(dir, name));
    },
    async runNode(script, preloads = []) {
      const { stdout } = await run(
        process.execPath,
        [...preloads.flatMap((preload) => ['-r', preload]), '-e', script],
        { cwd: ROOT, env: { ...process.env, DURIN_ENTRY: entry } },
      );
      return stdout;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
