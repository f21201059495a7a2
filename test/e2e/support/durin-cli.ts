import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(__dirname, '../../..');

/**
 * What ships, not the sources: `lib` compiled with the library's own build config into a
 * temporary directory, where data-source files import it as `./dist/lib` the way an app imports
 * `nestjs-durin`. `node_modules` is a link to the repository's, so the data source, the CLI and the
 * test resolve one copy of typeorm.
 */
export interface BuiltCli {
  readonly dir: string;
  readonly bin: string;
  write(file: string, text: string): Promise<string>;
  remove(): Promise<void>;
}

export async function buildCli(): Promise<BuiltCli> {
  const dir = await mkdtemp(join(tmpdir(), 'durin-cli-'));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  await promisify(execFile)(process.execPath, [
    require.resolve('typescript/bin/tsc'),
    '-p',
    join(ROOT, 'lib/tsconfig.lib.json'),
    '--outDir',
    join(dir, 'dist/lib'),
  ]);
  // What an app's tsconfig says for TypeORM entities; ts-node finds it next to the data source.
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'commonjs',
        target: 'ES2022',
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        strict: true,
      },
    }),
  );
  return {
    dir,
    bin: join(dir, 'dist/lib/cli/durin.js'),
    write: async (file, text) => {
      const path = join(dir, file);
      await writeFile(path, text);
      return path;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <bin> ...args` as a user's shell would, and collects what it printed. */
export function runCli(bin: string, args: readonly string[], cwd: string): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The TypeORM connection options of a test database, as a data-source file would spell them. */
export function connectionSource(options: Record<string, unknown>): string {
  return JSON.stringify(options, null, 2);
}

/**
 * A data source in plain JavaScript, exported by name (`AppDataSource`) as many apps do for the
 * TypeORM CLI; the user entity is declared without decorator syntax.
 */
export function jsDataSource(connection: Record<string, unknown>): string {
  return `const { DataSource, Entity, PrimaryGeneratedColumn } = require('typeorm');
const { AuthTokenEntity, ClientEntity, registerDurinUserEntity } = require('./dist/lib');

class User {}
Entity('users')(User);
PrimaryGeneratedColumn()(User.prototype, 'id');
registerDurinUserEntity(User);

exports.AppDataSource = new DataSource({
  ...${connectionSource(connection)},
  entities: [User, AuthTokenEntity, ClientEntity],
});
`;
}

/**
 * A data source in TypeScript with a default export. It asks for `synchronize` and `dropSchema`,
 * which the CLI must switch off: running it must never touch the schema.
 */
export function tsDataSource(connection: Record<string, unknown>): string {
  return `import { DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { AuthTokenEntity, ClientEntity, registerDurinUserEntity } from './dist/lib';

@Entity('users')
export class User {
  @PrimaryGeneratedColumn()
  id!: number;
}
registerDurinUserEntity(User);

export default new DataSource({
  ...${connectionSource(connection)},
  synchronize: true,
  dropSchema: true,
  entities: [User, AuthTokenEntity, ClientEntity],
});
`;
}
