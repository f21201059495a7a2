import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { issueTestToken } from 'nestjs-durin/testing';
import { DataSource } from 'typeorm';
import { ActingAsModule } from './acting-as.module';
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
  init: { token?: string; body?: object; headers?: Readonly<Record<string, string>> } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...init.headers,
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
    const ada = await users.save(
      users.create({ email: 'ada@example.com', password: 'correct horse' }),
    );

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

    // nestjs-durin/testing: a real token in one call, for the header and for a cookie session.
    const issued = await issueTestToken(app, ada);
    const asIssued = await call(base, 'GET', '/profile', { headers: issued.headers });
    check(
      asIssued.status === 200 && asIssued.body.session === issued.token.id,
      `issueTestToken (header) -> 200 on the protected route (${asIssued.status})`,
    );
    const browser = await issueTestToken(app, ada, { authType: 'cookie' });
    const { cookie } = browser.headers;
    const forged = await call(base, 'POST', '/auth/logout', { headers: { cookie } });
    check(
      forged.status === 403 && forged.body.code === 'csrf_failed',
      `cookie session without its CSRF header -> 403 csrf_failed (${forged.status})`,
    );
    const cookieLogout = await call(base, 'POST', '/auth/logout', { headers: browser.headers });
    check(
      cookieLogout.status === 204,
      `issueTestToken (cookie) headers pass CSRF: POST /auth/logout -> 204 (${cookieLogout.status})`,
    );
  } finally {
    await app.close();
  }
  await actingAsChecks();
}

/** `actingAs` from nestjs-durin/testing as the guard of an app without any database. */
async function actingAsChecks(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(ActingAsModule, {
    logger: ['error', 'warn'],
  });
  try {
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    const read = await call(base, 'GET', '/orders');
    check(
      read.status === 200 && read.body.email === 'reader@example.com' && read.body.client === 'web',
      `actingAs: a database-less app authenticates as the given user (${read.status})`,
    );
    const write = await call(base, 'GET', '/orders/write');
    check(
      write.status === 403 && write.body.code === 'insufficient_scope',
      `actingAs: an ability the token lacks -> 403 insufficient_scope (${write.status})`,
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
