import { existsSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { DataSource, InstanceChecker } from 'typeorm';
import { CliError, firstLine } from './cli-error';

const TYPESCRIPT_EXTENSIONS = new Set(['.ts', '.cts', '.mts']);

/**
 * Loads the DataSource an app already keeps for the TypeORM CLI, accepted as that CLI accepts it:
 * the module's default export, or the one DataSource (or promise of one) among its exports.
 * Schema side effects are switched off before it connects, as the TypeORM CLI does: managing
 * clients must never synchronize, migrate or drop a production schema.
 */
export async function loadDataSource(file: string, cwd: string): Promise<DataSource> {
  const path = resolve(cwd, file);
  if (!existsSync(path)) throw new CliError(`data source file not found: ${path}`);
  if (TYPESCRIPT_EXTENSIONS.has(extname(path))) registerTypeScript(path, cwd);

  let exported: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loads the app's module by path
    exported = require(path);
  } catch (error) {
    throw new CliError(`cannot load ${file}: ${firstLine(error)}`);
  }
  const dataSource = await findDataSource(exported, file);
  dataSource.setOptions({
    synchronize: false,
    migrationsRun: false,
    dropSchema: false,
    logging: false,
  });
  return dataSource;
}

async function findDataSource(exported: unknown, file: string): Promise<DataSource> {
  // InstanceChecker rather than instanceof: the app's typeorm may be another copy than ours.
  if (InstanceChecker.isDataSource(exported)) return exported;
  const found = new Set<DataSource>();
  if (exported !== null && typeof exported === 'object') {
    for (const value of Object.values(exported)) {
      let settled: unknown;
      try {
        settled = await value;
      } catch (error) {
        throw new CliError(`cannot load ${file}: ${firstLine(error)}`);
      }
      if (InstanceChecker.isDataSource(settled)) found.add(settled);
    }
  }
  if (found.size === 1) return [...found][0];
  throw new CliError(
    found.size === 0
      ? `${file} exports no TypeORM DataSource (export it as default or by name)`
      : `${file} exports ${found.size} DataSources; export only the one to use`,
  );
}

/**
 * Registers ts-node (transpile-only: type errors are the build's business, and checking would
 * make every command slow) from the app's own node_modules, unless a loader is already in place
 * (`node -r ts-node/register`, tsx).
 */
function registerTypeScript(path: string, cwd: string): void {
  if (require.extensions['.ts'] !== undefined) return;
  let tsNode: string;
  try {
    tsNode = require.resolve('ts-node', { paths: [dirname(path), cwd] });
  } catch {
    throw new CliError(
      `${path} is TypeScript: install ts-node (npm i -D ts-node) or pass the compiled .js file`,
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the app's ts-node, found above
  const { register } = require(tsNode) as { register(options: object): unknown };
  register({ transpileOnly: true, projectSearchDir: dirname(path) });
}
