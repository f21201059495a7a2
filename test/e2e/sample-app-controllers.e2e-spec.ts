import { INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import { actingAs, actingAsAnonymous, type ActingAsGuard } from '../../lib/testing';
import { AppController } from '../../sample-app/src/app.controller';
import { MeController } from '../../sample-app/src/me/me.controller';
import { User } from '../../sample-app/src/users/user.entity';
import { HTTP_ADAPTER_KINDS, startHttpApp } from '../support/http-app';

const DEMO = Object.assign(new User(), { id: 7, username: 'demo', isActive: true });

/**
 * The sample app's controllers tested alone, as an app's own controller tests would be: no
 * database, no DurinModule, the global guard replaced by `actingAs` (nestjs-durin/testing).
 */
describe.each(HTTP_ADAPTER_KINDS)(
  'sample app controllers without a database over %s',
  (adapter) => {
    const apps: INestApplication[] = [];

    afterAll(async () => {
      for (const app of apps) await app.close();
    });

    async function start(guard: ActingAsGuard): Promise<request.Agent> {
      const moduleRef = await Test.createTestingModule({
        controllers: [AppController, MeController],
        providers: [{ provide: APP_GUARD, useValue: guard }],
      }).compile();
      expect(() => moduleRef.get(getDataSourceToken(), { strict: false })).toThrow();
      const app = await startHttpApp(moduleRef, adapter);
      apps.push(app);
      return request.agent(app.getHttpServer());
    }

    it('GET /me shows the user, the session and its context', async () => {
      const guard = actingAs(DEMO, { client: 'web', context: { userAgent: 'jest' } });
      const http = await start(guard);
      const response = await http.get('/me').expect(200);
      expect(response.body).toEqual({
        user: { id: 7, username: 'demo' },
        session: {
          id: guard.token!.id,
          client: 'web',
          authType: 'header',
          createdAt: guard.token!.createdAt.toISOString(),
          expiresAt: guard.token!.expiresAt!.toISOString(),
          refreshExpiresAt: guard.token!.refreshExpiresAt!.toISOString(),
        },
        context: { userAgent: 'jest' },
      });
    });

    it('GET /me/device reads one context key, null when the session has none', async () => {
      const withDevice = await start(actingAs(DEMO, { context: { userAgent: 'curl/8' } }));
      await withDevice.get('/me/device').expect(200, { userAgent: 'curl/8' });
      const without = await start(actingAs(DEMO));
      await without.get('/me/device').expect(200, { userAgent: null });
    });

    it('answers 401 token_missing without a user, and GET / stays public', async () => {
      const http = await start(actingAsAnonymous());
      const response = await http.get('/me').expect(401);
      expect(response.body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: expect.any(String),
        code: 'token_missing',
      });
      await http.get('/').expect(200);
    });
  },
);
