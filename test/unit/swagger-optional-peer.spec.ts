import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

/** Makes `@nestjs/swagger` (and anything under it) unresolvable, as if it were not installed. */
const HIDE_SWAGGER = `
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === '@nestjs/swagger' || request.startsWith('@nestjs/swagger/')) {
    const error = new Error("Cannot find module '" + request + "'");
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return resolve.call(this, request, ...rest);
};
`;

/**
 * Runs in the child, on the compiled library: loads it, mounts the routes (session routes and
 * login) and reports whether `@nestjs/swagger` was loaded and what metadata the routes carry.
 */
const PROBE = `
require('reflect-metadata');
const out = {};
try { require('@nestjs/swagger'); out.resolvable = true; } catch { out.resolvable = false; }
for (const key of Object.keys(require.cache)) if (key.includes('@nestjs/swagger')) delete require.cache[key];
const swaggerLoaded = () => Object.keys(require.cache).some((key) => key.includes('@nestjs/swagger'));
const durin = require(process.env.DURIN_ENTRY);
out.loaded = typeof durin.DurinModule === 'function';
out.swaggerLoadedWithLibrary = swaggerLoaded();
const { controllers } = durin.DurinRoutesModule.register({ path: 'auth', login: { validateUser: () => null } });
out.swaggerLoadedOnMount = swaggerLoaded();
const swaggerKeys = (target) => Reflect.getMetadataKeys(target).filter((key) => String(key).startsWith('swagger/'));
const [routes, login] = controllers;
out.routesMethodKeys = swaggerKeys(routes.prototype.refresh).sort();
out.loginMethodKeys = swaggerKeys(login.prototype.logIn).sort();
out.classKeys = swaggerKeys(routes).sort();
const added = [];
const builder = { addSecurity(name, scheme) { added.push([name, scheme.type]); return this; } };
out.helperReturnsBuilder = durin.addDurinSecuritySchemes(builder) === builder;
out.added = added;
console.log(JSON.stringify(out));
`;

function declarationFiles(dir: string): Promise<string[]> {
  return readdir(dir, { recursive: true }).then((names) =>
    names.filter((name) => name.endsWith('.d.ts')).map((name) => join(dir, name)),
  );
}

/**
 * @nestjs/swagger is an optional peer: the library must load and mount its routes without it,
 * with nothing changed, and must not load it before routes are mounted even when it is installed.
 * Checked on the compiled library (as published), in child processes.
 */
describe('@nestjs/swagger as an optional peer', () => {
  let outDir: string;

  beforeAll(async () => {
    // Inside node_modules, so the compiled files resolve the other packages as the published ones do.
    outDir = await mkdtemp(join(ROOT, 'node_modules', '.cache-durin-swagger-peer-'));
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
    await writeFile(join(outDir, 'hide-swagger.js'), HIDE_SWAGGER);
  }, 120_000);

  afterAll(async () => {
    if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
  });

  async function probe(hide: boolean): Promise<Record<string, unknown>> {
    const { stdout } = await run(
      process.execPath,
      [...(hide ? ['-r', join(outDir, 'hide-swagger.js')] : []), '-e', PROBE],
      { cwd: ROOT, env: { ...process.env, DURIN_ENTRY: join(outDir, 'index.js') } },
    );
    return JSON.parse(stdout) as Record<string, unknown>;
  }

  const SCHEMES = [
    ['durin-bearer', 'http'],
    ['durin-cookie', 'apiKey'],
  ];

  it('without it: the library loads, the routes mount without OpenAPI metadata', async () => {
    expect(await probe(true)).toEqual({
      resolvable: false,
      loaded: true,
      swaggerLoadedWithLibrary: false,
      swaggerLoadedOnMount: false,
      routesMethodKeys: [],
      loginMethodKeys: [],
      classKeys: [],
      helperReturnsBuilder: true,
      added: SCHEMES,
    });
  });

  it('with it: loaded only when routes are mounted, which then carry the metadata', async () => {
    const out = await probe(false);
    expect(out).toMatchObject({
      resolvable: true,
      loaded: true,
      swaggerLoadedWithLibrary: false,
      swaggerLoadedOnMount: true,
      classKeys: ['swagger/apiExtraModels', 'swagger/apiUseTags'],
      added: SCHEMES,
    });
    expect(out.routesMethodKeys).toEqual(
      expect.arrayContaining([
        'swagger/apiOperation',
        'swagger/apiResponse',
        'swagger/apiParameters',
      ]),
    );
    expect(out.loginMethodKeys).toEqual(
      expect.arrayContaining(['swagger/apiOperation', 'swagger/apiResponse']),
    );
  });

  it('keeps its type declarations free of imports from it', async () => {
    const offenders: string[] = [];
    for (const file of await declarationFiles(outDir)) {
      const text = await readFile(file, 'utf8');
      if (/(from\s*|import\(|require\()\s*['"]@nestjs\/swagger/.test(text)) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });
});
