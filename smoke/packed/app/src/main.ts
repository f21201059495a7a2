import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { User } from './user.entity';

let step = 0;
function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`check failed: ${message}`);
  step += 1;
  console.log(`ok ${step} - ${message}`);
}

async function call(
  base: string,
  method: string,
  path: string,
  init: { token?: string; body?: object } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    logger: ['error', 'warn'],
  });
  try {
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    check(true, `a strict NestJS 11 app boots with the packed library (${base})`);

    const users = app.get(DataSource).getRepository(User);
    await users.save(users.create({ email: 'ada@example.com', password: 'correct horse' }));

    const bad = await call(base, 'POST', '/auth/login', {
      body: { email: 'ada@example.com', password: 'wrong' },
    });
    check(bad.status === 401, `wrong password -> 401 (${bad.status})`);

    const login = await call(base, 'POST', '/auth/login', {
      body: { email: 'ada@example.com', password: 'correct horse' },
    });
    const token = login.body.accessToken;
    check(login.status === 200 && typeof token === 'string', `header login -> 200 with a token`);

    const anonymous = await call(base, 'GET', '/profile');
    check(
      anonymous.status === 401 && anonymous.body.code === 'token_missing',
      `protected route without a token -> 401 token_missing (${anonymous.status} ${String(anonymous.body.code)})`,
    );

    const me = await call(base, 'GET', '/profile', { token: token as string });
    check(
      me.status === 200 && me.body.email === 'ada@example.com',
      `protected route -> 200 as the user`,
    );

    const logout = await call(base, 'POST', '/auth/logout', { token: token as string });
    check(logout.status === 204, `POST /auth/logout -> 204 (${logout.status})`);

    const after = await call(base, 'GET', '/profile', { token: token as string });
    check(
      after.status === 401 && after.body.code === 'token_invalid',
      `the logged-out token -> 401 token_invalid (${after.status} ${String(after.body.code)})`,
    );
  } finally {
    await app.close();
  }
}

main().then(
  () => console.log(`# all ${step} checks passed`),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
