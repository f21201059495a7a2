'use strict';
// NestJS 12 + TypeORM 1.x smoke app for the compiled nestjs-durin, in plain CommonJS.
//
// Run by run.sh from a staging directory; argv[2] is the repo root. No decorator syntax: plain
// `node` cannot parse it, so decorators are applied as the functions they are, the way the
// TypeScript compiler's output does it.

require('reflect-metadata');
const path = require('node:path');
const fs = require('node:fs');

const repoRoot = process.argv[2];
const stageDir = __dirname;
const stageModules = path.join(stageDir, 'node_modules') + path.sep;

let step = 0;
function ok(message) {
  step += 1;
  console.log(`ok ${step} - ${message}`);
}
function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  ok(message);
}

// --- Where does everything come from? -------------------------------------------------------
const libDir = path.dirname(require.resolve('nestjs-durin'));
const libManifest = JSON.parse(fs.readFileSync(path.join(libDir, 'package.json'), 'utf8'));

function packageJsonOf(entryFile) {
  for (let dir = path.dirname(entryFile); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) {
      const manifest = JSON.parse(fs.readFileSync(candidate, 'utf8'));
      if (manifest.name) return manifest;
    }
  }
  throw new Error(`no package.json above ${entryFile}`);
}

// Resolve from the library's own directory: that is where its require() calls start looking.
// Optional peers (ioredis, @nestjs/event-emitter) are checked only when the smoke install has them.
const optionalPeers = new Set(
  Object.entries(libManifest.peerDependenciesMeta || {})
    .filter(([, meta]) => meta && meta.optional)
    .map(([name]) => name),
);
const isInstalled = (name) => {
  try {
    require.resolve(name, { paths: [libDir] });
    return true;
  } catch {
    return false;
  }
};
const wanted = [
  ...Object.keys(libManifest.peerDependencies).filter(
    (name) => !optionalPeers.has(name) || isInstalled(name),
  ),
  ...Object.keys(libManifest.dependencies),
  '@nestjs/platform-express',
  'better-sqlite3',
];
const versions = {};
for (const name of wanted) {
  const resolved = require.resolve(name, { paths: [libDir] });
  const manifest = packageJsonOf(resolved);
  versions[name] = manifest.version;
  console.log(`# ${name}@${manifest.version} -> ${resolved}`);
  if (!resolved.startsWith(stageModules)) {
    throw new Error(`${name} resolved outside the smoke install: ${resolved}`);
  }
}
const major = (name) => Number(versions[name].split('.')[0]);
check(major('@nestjs/core') === 12, `@nestjs/core is v12 (${versions['@nestjs/core']})`);
check(major('@nestjs/common') === 12, `@nestjs/common is v12 (${versions['@nestjs/common']})`);
check(major('typeorm') === 1, `typeorm is v1 (${versions.typeorm})`);

// --- The app ----------------------------------------------------------------------------------
const { Controller, Get, Module, Req, UseGuards } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { TypeOrmModule } = require('@nestjs/typeorm');
const { Column, DataSource, Entity, PrimaryGeneratedColumn } = require('typeorm');
const durin = require('nestjs-durin');

function decorateProperty(target, key, decorators) {
  Reflect.decorate(decorators, target.prototype, key, undefined);
}
function decorateMethod(target, key, decorators) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, key);
  Reflect.decorate(decorators, target.prototype, key, descriptor);
}

class User {}
decorateProperty(User, 'id', [PrimaryGeneratedColumn()]);
decorateProperty(User, 'email', [Column({ type: 'varchar', unique: true })]);
decorateProperty(User, 'isActive', [Column({ type: 'boolean', default: true })]);
Reflect.decorate([Entity('users')], User);

const hasGuard = typeof durin.AuthGuard === 'function';
console.log(`# typeof durin.AuthGuard === '${typeof durin.AuthGuard}'`);

const controllers = [];
if (hasGuard) {
  class ProfileController {
    me(request) {
      const user = request.user;
      return { userId: user ? user.id : null };
    }
  }
  decorateMethod(ProfileController, 'me', [Get('me')]);
  Req()(ProfileController.prototype, 'me', 0);
  Reflect.decorate([Controller('profile'), UseGuards(durin.AuthGuard)], ProfileController);
  controllers.push(ProfileController);
}

class AppModule {}
Reflect.decorate(
  [
    Module({
      imports: [
        TypeOrmModule.forRoot({
          type: 'better-sqlite3',
          database: ':memory:',
          autoLoadEntities: true,
          synchronize: true,
        }),
        TypeOrmModule.forFeature([User]),
        durin.DurinModule.forRoot({ userEntity: User }),
      ],
      controllers,
    }),
  ],
  AppModule,
);

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  try {
    await app.listen(0, '127.0.0.1');
    ok('NestFactory.create + listen on port 0');

    const users = app.get(DataSource).getRepository(User);
    const user = await users.save(users.create({ email: 'smoke@example.com' }));
    check(typeof user.id === 'number', `user saved with id ${user.id}`);

    const tokens = app.get(durin.TokenService);
    const issued = await tokens.generateHeaderToken(user);
    check(typeof issued.accessToken === 'string' && issued.accessToken.length > 20, 'token issued');

    const verified = await tokens.verifyToken(issued.accessToken);
    check(verified !== null, 'verifyToken finds the token');
    check(verified.user && verified.user.id === user.id, 'verified token carries its user');

    if (hasGuard) {
      const { port } = app.getHttpServer().address();
      const url = `http://127.0.0.1:${port}/profile/me`;
      const withToken = await fetch(url, {
        headers: { authorization: `Bearer ${issued.accessToken}` },
      });
      const body = await withToken.json();
      check(withToken.status === 200, `GET /profile/me with the token -> ${withToken.status}`);
      // Informational: where the guard puts the user is the library's API, tested in its e2e suite.
      console.log(`# request.user after the guard: ${JSON.stringify(body)}`);
      const without = await fetch(url);
      check(without.status === 401, `GET /profile/me without a token -> ${without.status}`);
    } else {
      console.log('# SKIP HTTP guard checks: dist/lib does not export AuthGuard yet');
    }

    await tokens.revokeToken(verified);
    check(
      (await tokens.verifyToken(issued.accessToken)) === null,
      'revoked token no longer verifies',
    );

    if (hasGuard) {
      const { port } = app.getHttpServer().address();
      const revoked = await fetch(`http://127.0.0.1:${port}/profile/me`, {
        headers: { authorization: `Bearer ${issued.accessToken}` },
      });
      check(revoked.status === 401, `GET /profile/me with the revoked token -> ${revoked.status}`);
    }
  } finally {
    await app.close();
  }

  // Every CommonJS module (including the entry points of the ESM packages) came from the stage.
  const foreign = Object.keys(require.cache).filter(
    (file) => !file.startsWith(stageDir + path.sep) || (repoRoot && file.startsWith(repoRoot)),
  );
  check(
    foreign.length === 0,
    'no module loaded from outside the smoke install' +
      (foreign.length > 0 ? `: ${foreign.join(', ')}` : ''),
  );
}

// A hang (a pool that never closes, a request that never answers) must fail CI, not stall it.
const watchdog = setTimeout(() => {
  console.error('not ok - smoke run timed out after 120 s');
  process.exit(1);
}, 120_000);
watchdog.unref();

main().then(
  () => {
    console.log(
      `# PASS: nestjs-durin ${libManifest.version} on @nestjs/core ${versions['@nestjs/core']}, ` +
        `typeorm ${versions.typeorm}, better-sqlite3 ${versions['better-sqlite3']}, node ${process.versions.node}`,
    );
    process.exit(0);
  },
  (error) => {
    console.error(`not ok - ${error && error.stack ? error.stack : error}`);
    process.exit(1);
  },
);
