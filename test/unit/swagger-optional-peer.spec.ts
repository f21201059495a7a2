import { readFile } from 'node:fs/promises';
import { compileLib, type CompiledLib } from '../support/compiled-lib';

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

/**
 * @nestjs/swagger is an optional peer: the library must load and mount its routes without it,
 * with nothing changed, and must not load it before routes are mounted even when it is installed.
 * Checked on the compiled library (as published), in child processes.
 */
describe('@nestjs/swagger as an optional peer', () => {
  let lib: CompiledLib;
  let hideSwagger: string;

  beforeAll(async () => {
    lib = await compileLib('swagger-peer');
    hideSwagger = await lib.hidePackage('@nestjs/swagger');
  }, 120_000);

  afterAll(async () => {
    await lib?.remove();
  });

  async function probe(hide: boolean): Promise<Record<string, unknown>> {
    const stdout = await lib.runNode(PROBE, hide ? [hideSwagger] : []);
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
    for (const file of await lib.declarationFiles()) {
      const text = await readFile(file, 'utf8');
      if (/(from\s*|import\(|require\()\s*['"]@nestjs\/swagger/.test(text)) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });
});
