import { INestApplication } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import type { Response } from 'supertest';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import {
  addDurinSecuritySchemes,
  DURIN_BEARER_SCHEME,
  DURIN_COOKIE_SCHEME,
  DURIN_OPENAPI_TAG,
  DURIN_RESOLVED_OPTIONS,
  DurinModule,
  DurinRoutesModule,
  type ResolvedDurinOptions,
  TokenService,
} from '../../lib';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { startHttpApp, syncedTypeOrm } from '../support/http-app';
import { HTTP_ADAPTERS, type SampleApp, startSampleApp } from './support/sample-app';

/**
 * The OpenAPI document of the ready-made routes, as `@nestjs/swagger` builds it from the sample
 * app (the `routes: { path: 'auth' }` shorthand) and from a `DurinRoutesModule.register` mount with
 * the login route; and the sample app serving it. The document does not depend on the database,
 * so SQLite is enough here.
 */

type Operation = {
  operationId: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  requestBody?: { required?: boolean; content: Record<string, { schema: { $ref: string } }> };
  parameters?: Array<{ name: string; in: string; schema: Record<string, unknown> }>;
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
};

const AUTH_FAILURES = ['token_missing', 'token_invalid', 'token_expired', 'user_inactive'];
const BOTH_SCHEMES = [{ [DURIN_BEARER_SCHEME]: [] }, { [DURIN_COOKIE_SCHEME]: [] }];

/** Every route under the mount, with its success status and the codes of each error status. */
const SESSION_ROUTES: Array<[string, string, number, Record<number, string[]>]> = [
  [
    'post',
    'refresh',
    200,
    {
      400: ['invalid_request', 'invalid_scope'],
      401: ['token_invalid'],
      403: ['csrf_failed'],
      429: ['rate_limited'],
      503: ['auth_unavailable'],
    },
  ],
  ['post', 'renew', 200, { 401: AUTH_FAILURES, 403: ['csrf_failed'], 503: ['auth_unavailable'] }],
  ['post', 'logout', 204, { 401: AUTH_FAILURES, 403: ['csrf_failed'], 503: ['auth_unavailable'] }],
  [
    'post',
    'logoutall',
    204,
    { 401: AUTH_FAILURES, 403: ['insufficient_scope', 'csrf_failed'], 503: ['auth_unavailable'] },
  ],
  [
    'get',
    'sessions',
    200,
    { 401: AUTH_FAILURES, 403: ['insufficient_scope'], 503: ['auth_unavailable'] },
  ],
  [
    'delete',
    'sessions/{id}',
    204,
    {
      400: ['session_current'],
      401: AUTH_FAILURES,
      403: ['insufficient_scope', 'csrf_failed'],
      404: ['session_not_found'],
      503: ['auth_unavailable'],
    },
  ],
  [
    'get',
    'apiaccess',
    200,
    {
      401: AUTH_FAILURES,
      403: ['insufficient_scope'],
      404: ['api_key_not_found'],
      503: ['auth_unavailable'],
    },
  ],
  [
    'post',
    'apiaccess',
    201,
    {
      400: ['api_key_exists', 'invalid_request', 'invalid_scope'],
      401: AUTH_FAILURES,
      403: ['insufficient_scope', 'csrf_failed'],
      503: ['auth_unavailable'],
    },
  ],
  [
    'delete',
    'apiaccess',
    204,
    {
      401: AUTH_FAILURES,
      403: ['insufficient_scope', 'csrf_failed'],
      404: ['api_key_not_found'],
      503: ['auth_unavailable'],
    },
  ],
];

function operation(document: OpenAPIObject, method: string, path: string): Operation {
  const item = document.paths[path] as Record<string, Operation> | undefined;
  const found = item?.[method];
  if (found === undefined) throw new Error(`no ${method.toUpperCase()} ${path} in the document`);
  return found;
}

function schemaOf(document: OpenAPIObject, ref: string): Record<string, unknown> {
  const name = ref.replace('#/components/schemas/', '');
  return document.components?.schemas?.[name] as Record<string, unknown>;
}

function bodySchema(document: OpenAPIObject, op: Operation): Record<string, unknown> {
  return schemaOf(document, op.requestBody!.content['application/json'].schema.$ref);
}

/** The `code` values a documented error response allows, after checking its shape. */
function documentedCodes(op: Operation, status: number): string[] {
  const schema = op.responses[String(status)]?.content?.['application/json']?.schema as {
    allOf: [
      { $ref: string },
      { properties: { statusCode: { enum: number[] }; code: { enum: string[] } } },
    ];
  };
  expect(schema.allOf[0]).toEqual({ $ref: '#/components/schemas/DurinErrorBody' });
  expect(schema.allOf[1].properties.statusCode.enum).toEqual([status]);
  return schema.allOf[1].properties.code.enum;
}

function expectSessionRoutes(document: OpenAPIObject, base: string): void {
  const durinPaths = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item as Record<string, Operation>)
      .filter(([, op]) => op.tags?.includes(DURIN_OPENAPI_TAG))
      .map(([method]) => `${method} ${path}`),
  );
  expect(durinPaths.filter((route) => !route.endsWith('/login')).sort()).toEqual(
    SESSION_ROUTES.map(([method, path]) => `${method} ${base}/${path}`).sort(),
  );
  for (const [method, path, success, errors] of SESSION_ROUTES) {
    const op = operation(document, method, `${base}/${path}`);
    const statuses = Object.keys(op.responses).map(Number);
    expect([method, path, statuses.sort()]).toEqual([
      method,
      path,
      [success, ...Object.keys(errors).map(Number)].sort(),
    ]);
    for (const [status, codes] of Object.entries(errors)) {
      expect([method, path, status, documentedCodes(op, Number(status))]).toEqual([
        method,
        path,
        status,
        codes,
      ]);
    }
    // Only refresh is public; every other route takes either scheme.
    expect([path, op.security]).toEqual([path, path === 'refresh' ? undefined : BOTH_SCHEMES]);
  }
  expect(operation(document, 'post', `${base}/refresh`).operationId).toBe('durinRefresh');
}

function expectBodies(document: OpenAPIObject, base: string): void {
  const refresh = operation(document, 'post', `${base}/refresh`);
  // Optional: a cookie session sends no body.
  expect(refresh.requestBody?.required).toBe(false);
  const refreshBody = bodySchema(document, refresh);
  expect(Object.keys(refreshBody.properties as object).sort()).toEqual([
    'abilities',
    'refreshToken',
  ]);
  expect(refreshBody).not.toHaveProperty('required');
  expect((refreshBody.properties as Record<string, unknown>).abilities).toMatchObject({
    type: 'array',
    items: { type: 'string' },
  });
  const apiKey = operation(document, 'post', `${base}/apiaccess`);
  expect(apiKey.requestBody?.required).toBe(false);
  expect(Object.keys(bodySchema(document, apiKey).properties as object)).toEqual(['abilities']);
  expect(operation(document, 'delete', `${base}/sessions/{id}`).parameters).toEqual([
    expect.objectContaining({ name: 'id', in: 'path', schema: { type: 'string', format: 'uuid' } }),
  ]);
  const sessions = operation(document, 'get', `${base}/sessions`).responses['200'].content![
    'application/json'
  ].schema;
  expect(sessions).toEqual({
    type: 'array',
    items: { $ref: '#/components/schemas/DurinSessionResponse' },
  });
  const created = schemaOf(document, '#/components/schemas/DurinApiKeyCreatedResponse');
  expect(created.required).toEqual(expect.arrayContaining(['id', 'token', 'abilities']));
}

function expectErrorBodyAndSchemes(document: OpenAPIObject, cookieName: string): void {
  expect(schemaOf(document, '#/components/schemas/DurinErrorBody')).toMatchObject({
    type: 'object',
    required: ['statusCode', 'error', 'message', 'code'],
    properties: {
      statusCode: { type: 'integer' },
      error: { type: 'string' },
      message: { type: 'string' },
      code: { type: 'string' },
    },
  });
  const schemes = document.components?.securitySchemes as Record<string, object>;
  expect(schemes[DURIN_BEARER_SCHEME]).toMatchObject({ type: 'http', scheme: 'bearer' });
  // Opaque tokens: no `bearerFormat: JWT` to mislead client generators.
  expect(schemes[DURIN_BEARER_SCHEME]).not.toHaveProperty('bearerFormat');
  expect(schemes[DURIN_COOKIE_SCHEME]).toMatchObject({
    type: 'apiKey',
    in: 'cookie',
    name: cookieName,
  });
}

describe('the sample app’s OpenAPI document', () => {
  let sample: SampleApp;
  let document: OpenAPIObject;
  let cookieName: string;

  beforeAll(async () => {
    sample = await startSampleApp({ adapter: 'express', db: 'sqlite' });
    cookieName = sample.app.get<ResolvedDurinOptions>(DURIN_RESOLVED_OPTIONS).cookie.name;
    const config = addDurinSecuritySchemes(new DocumentBuilder().setTitle('sample'), {
      cookieName,
    }).build();
    document = SwaggerModule.createDocument(sample.app, config);
  });

  afterAll(async () => {
    await sample?.close();
  });

  it('lists every session route with its success and error answers, tag and security', () => {
    expectSessionRoutes(document, '/auth');
  });

  it('describes the request bodies: refresh (refreshToken, abilities), apiaccess (abilities)', () => {
    expectBodies(document, '/auth');
  });

  it('has the library’s error body and both security schemes, the cookie under its real name', () => {
    expect(cookieName).toBe('__Host-token');
    expectErrorBodyAndSchemes(document, cookieName);
  });

  it('documents the codes the routes really answer with', async () => {
    const user = await sample.users.create({ username: 'openapi', password: 'openapi-password' });
    const { accessToken } = await sample.app
      .get(TokenService)
      .generateHeaderToken(user, { client: 'web' });
    const cases: Array<[string, string, () => PromiseLike<Response>]> = [
      ['post', 'refresh', () => sample.http().post('/auth/refresh').send({ refresh_token: 'x' })],
      ['post', 'refresh', () => sample.http().post('/auth/refresh').send({ refreshToken: 'x' })],
      ['post', 'renew', () => sample.http().post('/auth/renew')],
      [
        'delete',
        'sessions/{id}',
        () =>
          sample
            .http()
            .delete('/auth/sessions/00000000-0000-4000-8000-000000000000')
            .set('Authorization', `Bearer ${accessToken}`),
      ],
      [
        'get',
        'apiaccess',
        () => sample.http().get('/auth/apiaccess').set('Authorization', `Bearer ${accessToken}`),
      ],
    ];
    for (const [method, path, send] of cases) {
      const response = await send();
      const body = response.body as { statusCode: number; code: string };
      expect(Object.keys(body).sort()).toEqual(['code', 'error', 'message', 'statusCode']);
      const op = operation(document, method, `/auth/${path}`);
      expect([path, documentedCodes(op, response.status)]).toEqual([
        path,
        expect.arrayContaining([body.code]),
      ]);
    }
  });
});

describe.each(HTTP_ADAPTERS)('the sample app on %s serves its OpenAPI document', (adapter) => {
  let sample: SampleApp;

  beforeAll(async () => {
    sample = await startSampleApp({ adapter, db: 'sqlite' });
  });

  afterAll(async () => {
    await sample?.close();
  });

  it('GET /docs-json: the document, without a token', async () => {
    const response = await sample.http().get('/docs-json');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const document = response.body as OpenAPIObject;
    expectSessionRoutes(document, '/auth');
    expectErrorBodyAndSchemes(
      document,
      sample.app.get<ResolvedDurinOptions>(DURIN_RESOLVED_OPTIONS).cookie.name,
    );
  });

  if (adapter === 'express') {
    it('GET /docs: Swagger UI, with its assets', async () => {
      const page = await sample.http().get('/docs');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toContain('<title>Swagger UI</title>');
      const init = await sample.http().get('/docs/swagger-ui-init.js');
      expect(init.status).toBe(200);
      expect(init.text).toContain('/auth/refresh');
      const bundle = await sample.http().get('/docs/swagger-ui-bundle.js');
      expect(bundle.status).toBe(200);
    });
  } else {
    it('GET /docs: no UI without @fastify/static (only the JSON is served)', async () => {
      expect((await sample.http().get('/docs')).status).toBe(404);
    });
  }
});

@Entity('openapi_user')
class OpenApiUser {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;
}

describe('a DurinRoutesModule.register mount with the login route', () => {
  let app: INestApplication;
  let db: TestDatabase;
  let document: OpenAPIObject;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    const moduleRef = await Test.createTestingModule({
      imports: [
        syncedTypeOrm(db, [OpenApiUser]),
        DurinModule.forRoot({
          userEntity: OpenApiUser,
          isGlobal: true,
          cookie: { name: 'sid', secure: false, refreshPath: '/api/session/refresh' },
        }),
        DurinRoutesModule.register({
          path: 'session',
          login: { validateUser: () => null, cookie: true },
        }),
        RouterModule.register([{ path: 'api', module: DurinRoutesModule }]),
      ],
    }).compile();
    app = await startHttpApp(moduleRef, 'express');
    const config = addDurinSecuritySchemes(new DocumentBuilder(), { cookieName: 'sid' }).build();
    document = SwaggerModule.createDocument(app, config);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('documents the session routes under the mounted path', () => {
    expectSessionRoutes(document, '/api/session');
    expectBodies(document, '/api/session');
    expectErrorBodyAndSchemes(document, 'sid');
  });

  it('documents POST login: its required body, its answers, no security', () => {
    const login = operation(document, 'post', '/api/session/login');
    expect(login.tags).toEqual([DURIN_OPENAPI_TAG]);
    expect(login.security).toBeUndefined();
    expect(login.requestBody?.required).toBe(true);
    const body = bodySchema(document, login);
    expect(body.required).toEqual(['username', 'password', 'client']);
    expect(Object.keys(body.properties as object)).toEqual([
      'username',
      'password',
      'client',
      'context',
    ]);
    expect(Object.keys(login.responses).map(Number).sort()).toEqual([200, 400, 403, 429, 503]);
    expect(documentedCodes(login, 400)).toEqual([
      'client_missing',
      'unknown_client',
      'invalid_credentials',
      'invalid_request',
    ]);
    expect(login.responses['200'].content!['application/json'].schema).toEqual({
      $ref: '#/components/schemas/DurinLoginResponse',
    });
    expect(
      Object.keys(
        schemaOf(document, '#/components/schemas/DurinLoginResponse').properties as object,
      ).sort(),
    ).toEqual(
      [
        'accessToken',
        'accessTokenExpiresAt',
        'csrfToken',
        'refreshToken',
        'refreshTokenExpiresAt',
        'tokenType',
      ].sort(),
    );
  });
});
