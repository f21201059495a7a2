import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

/** Makes `@nestjs/throttler` (and anything under it) unresolvable, as if it were not installed. */
const HIDE_THROTTLER = `
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === '@nestjs/throttler' || request.startsWith('@nestjs/throttler/')) {
    const error = new Error("Cannot find module '" + request + "'");
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return resolve.call(this, request, ...rest);
};
`;

/** Runs in the child, on the compiled library, with the package hidden. */
const PROBE = `
require('reflect-metadata');
const out = {};
try { require('@nestjs/throttler'); out.hidden = false; } catch { out.hidden = true; }
const durin = require(process.env.DURIN_ENTRY);
out.loaded = typeof durin.DurinModule === 'function' && typeof durin.TokenService === 'function';
out.guardExported = typeof durin.DurinThrottlerGuard === 'function';
try { new durin.DurinThrottlerGuard(); } catch (e) { out.guardError = [e.name, e.message]; }
const dir = require('node:path').dirname(process.env.DURIN_ENTRY);
const { RouteRateLimiter } = require(dir + '/throttling/route-rate-limiter');
const { resolveDurinOptions } = require(dir + '/options/resolve-options');
class User {}
const limiter = (throttle) => new RouteRateLimiter(resolveDurinOptions({ userEntity: User, throttle }), {}, {});
limiter(undefined).onModuleInit();
out.offNeedsNothing = true;
try { limiter({}).onModuleInit(); } catch (e) { out.limiterError = [e.name, e.message]; }
console.log(JSON.stringify(out));
`;

function declarationFiles(dir: string): Promise<string[]> {
  return readdir(dir, { recursive: true }).then((names) =>
    names.filter((name) => name.endsWith('.d.ts')).map((name) => join(dir, name)),
  );
}

/**
 * @nestjs/throttler is an optional peer: the library must load without it, an app that never
 * throttles must not need it, and using throttling without it must say which package is missing.
 * Checked on the compiled library (as published), in a child process whose module resolution
 * cannot find the package.
 */
describe('@nestjs/throttler as an optional peer', () => {
  let outDir: string;

  beforeAll(async () => {
    // Inside node_modules, so the compiled files resolve the other packages as the published ones do.
    outDir = await mkdtemp(join(ROOT, 'node_modules', '.cache-durin-peer-'));
    await run(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(ROOT, 'lib', 'tsconfig.lib.json'),
        '--outDir',
        outDir,
      ],
      { cwd: ROOT },
    );
    await writeFile(join(outDir, 'hide-throttler.js'), HIDE_THROTTLER);
  }, 120_000);

  afterAll(async () => {
    if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
  });

  it('loads without it, and only a use of throttling asks for it by name', async () => {
    const { stdout } = await run(
      process.execPath,
      ['-r', join(outDir, 'hide-throttler.js'), '-e', PROBE],
      { cwd: ROOT, env: { ...process.env, DURIN_ENTRY: join(outDir, 'index.js') } },
    );
    const missing =
      "nestjs-durin: invalid option '%s': needs the optional peer dependency '@nestjs/throttler' (npm install @nestjs/throttler)";
    expect(JSON.parse(stdout)).toEqual({
      hidden: true,
      loaded: true,
      guardExported: true,
      guardError: ['DurinConfigurationError', missing.replace('%s', 'DurinThrottlerGuard')],
      offNeedsNothing: true,
      limiterError: ['DurinConfigurationError', missing.replace('%s', 'throttle')],
    });
  });

  it('keeps its type declarations free of imports from it', async () => {
    const offenders: string[] = [];
    for (const file of await declarationFiles(outDir)) {
      const text = await readFile(file, 'utf8');
      if (/(from\s*|import\(|require\()\s*['"]@nestjs\/throttler/.test(text)) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });
});
