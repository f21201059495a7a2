import { readFile } from 'node:fs/promises';
import { compileLib, type CompiledLib } from '../support/compiled-lib';

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

/**
 * @nestjs/throttler is an optional peer: the library must load without it, an app that never
 * throttles must not need it, and using throttling without it must say which package is missing.
 * Checked on the compiled library (as published), in a child process whose module resolution
 * cannot find the package.
 */
describe('@nestjs/throttler as an optional peer', () => {
  let lib: CompiledLib;
  let hideThrottler: string;

  beforeAll(async () => {
    lib = await compileLib('peer');
    hideThrottler = await lib.hidePackage('@nestjs/throttler');
  }, 120_000);

  afterAll(async () => {
    await lib?.remove();
  });

  it('loads without it, and only a use of throttling asks for it by name', async () => {
    const stdout = await lib.runNode(PROBE, [hideThrottler]);
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
    for (const file of await lib.declarationFiles()) {
      const text = await readFile(file, 'utf8');
      if (/(from\s*|import\(|require\()\s*['"]@nestjs\/throttler/.test(text)) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });
});
