import { HttpStatus, type Type } from '@nestjs/common';
import type { DurinLoginController } from '../routes/durin-login.controller';
import type { DurinRoutesController } from '../routes/durin-routes.controller';
import {
  DurinApiKeyCreatedResponse,
  DurinApiKeyRequest,
  DurinApiKeyResponse,
  DurinErrorBody,
  DurinLoginRequest,
  DurinLoginResponse,
  DurinRefreshRequest,
  DurinRenewResponse,
  DurinSessionResponse,
  DurinTokenPairResponse,
  documentModels,
} from './durin-openapi-models';
import { DURIN_BEARER_SCHEME, DURIN_COOKIE_SCHEME } from './durin-security-schemes';
import { loadSwagger, type DurinOpenApiSchema, type SwaggerPeer } from './swagger-peer';

/** The tag of the ready-made routes in an OpenAPI document. */
export const DURIN_OPENAPI_TAG = 'durin';

type ErrorStatus = 400 | 401 | 403 | 404 | 429 | 503;
type Model = abstract new () => unknown;

/** How one route is documented; every answer it can give is listed. */
interface RouteDoc {
  summary: string;
  description?: string;
  /** Needs a token (bearer or auth cookie). */
  authenticated: boolean;
  body?: { type: Model; description: string; required: boolean };
  param?: { name: string; description: string; schema: DurinOpenApiSchema };
  success: { status: number; description: string; type?: Model; isArray?: boolean };
  /** The `code` values each error status can carry here. */
  errors: Partial<Record<ErrorStatus, readonly string[]>>;
}

const AUTH_FAILURES = ['token_missing', 'token_invalid', 'token_expired', 'user_inactive'];
const STORE_DOWN = ['auth_unavailable'];
const BAD_BODY = ['invalid_request'];

/** The authenticated routes' failures: `scoped` ones need `durin:sessions`, `writes` are CSRF-checked. */
function guarded(
  { scoped, writes }: { scoped: boolean; writes: boolean },
  more: Partial<Record<ErrorStatus, readonly string[]>> = {},
): Partial<Record<ErrorStatus, readonly string[]>> {
  const forbidden = [...(scoped ? ['insufficient_scope'] : []), ...(writes ? ['csrf_failed'] : [])];
  return {
    ...more,
    401: AUTH_FAILURES,
    ...(forbidden.length === 0 ? {} : { 403: forbidden }),
    503: STORE_DOWN,
  };
}

/**
 * The session routes of `DurinRoutesController`, by method name (see its JSDoc table). Keyed by
 * the controller's own methods, so a route added there does not compile until it is described.
 */
const SESSION_ROUTES: Record<keyof DurinRoutesController, RouteDoc> = {
  refresh: {
    summary: 'Rotate the refresh token: spend it, get a new pair',
    description:
      'A header session sends `{ refreshToken }` and gets the new pair in the body. A cookie ' +
      'session sends no body (or `{ abilities }`) with the refresh cookie, the auth cookie and ' +
      'the CSRF header; the new tokens go into the cookies, the body holds the expiries and the ' +
      'new `csrfToken`. 429 only with `throttle` on.',
    authenticated: false,
    body: {
      type: DurinRefreshRequest,
      description: 'Optional: empty for a cookie session.',
      required: false,
    },
    success: { status: HttpStatus.OK, description: 'The new pair.', type: DurinTokenPairResponse },
    errors: {
      400: [...BAD_BODY, 'invalid_scope'],
      401: ['token_invalid'],
      403: ['csrf_failed'],
      429: ['rate_limited'],
      503: STORE_DOWN,
    },
  },
  renew: {
    summary: 'Extend the current token to its full lifetime from now',
    authenticated: true,
    success: { status: HttpStatus.OK, description: 'The new expiry.', type: DurinRenewResponse },
    errors: guarded({ scoped: false, writes: true }),
  },
  logout: {
    summary: 'End this session (its refresh token included)',
    authenticated: true,
    success: {
      status: HttpStatus.NO_CONTENT,
      description: 'Ended; a cookie session’s cookies cleared.',
    },
    errors: guarded({ scoped: false, writes: true }),
  },
  logoutAll: {
    summary: 'End every session of the user, on every device',
    authenticated: true,
    success: { status: HttpStatus.NO_CONTENT, description: 'All ended.' },
    errors: guarded({ scoped: true, writes: true }),
  },
  sessions: {
    summary: 'The user’s live sessions, newest first (no secrets)',
    authenticated: true,
    success: {
      status: HttpStatus.OK,
      description: 'The sessions.',
      type: DurinSessionResponse,
      isArray: true,
    },
    errors: guarded({ scoped: true, writes: false }),
  },
  endSession: {
    summary: 'End another session of the user (the current one: use logout)',
    authenticated: true,
    param: {
      name: 'id',
      description: 'The session’s id, from `GET sessions`.',
      schema: { type: 'string', format: 'uuid' },
    },
    success: { status: HttpStatus.NO_CONTENT, description: 'Ended.' },
    errors: guarded(
      { scoped: true, writes: true },
      { 400: ['session_current'], 404: ['session_not_found'] },
    ),
  },
  getApiKey: {
    summary: 'The personal API key’s metadata (without the key)',
    authenticated: true,
    success: {
      status: HttpStatus.OK,
      description: 'The key’s metadata.',
      type: DurinApiKeyResponse,
    },
    errors: guarded({ scoped: true, writes: false }, { 404: ['api_key_not_found'] }),
  },
  createApiKey: {
    summary: 'Create the personal API key (one per user), shown once',
    authenticated: true,
    body: {
      type: DurinApiKeyRequest,
      description: 'Optional: empty for the default abilities.',
      required: false,
    },
    success: {
      status: HttpStatus.CREATED,
      description: 'The key, shown this once.',
      type: DurinApiKeyCreatedResponse,
    },
    errors: guarded(
      { scoped: true, writes: true },
      { 400: ['api_key_exists', ...BAD_BODY, 'invalid_scope'] },
    ),
  },
  deleteApiKey: {
    summary: 'Revoke the personal API key',
    authenticated: true,
    success: { status: HttpStatus.NO_CONTENT, description: 'Revoked.' },
    errors: guarded({ scoped: true, writes: true }, { 404: ['api_key_not_found'] }),
  },
};

/** `DurinLoginController` (see its JSDoc table). */
const LOGIN_ROUTES: Record<Exclude<keyof DurinLoginController, 'onModuleInit'>, RouteDoc> = {
  logIn: {
    summary: 'Log in with a username, a password and a client',
    description:
      'A header session gets its tokens in the body (`tokenType: Bearer`). With `login.cookie` ' +
      'the tokens go into the cookies and the body holds the expiries and the `csrfToken`; a ' +
      'cross-site post is then a 403. 429 only with `throttle` on.',
    authenticated: false,
    body: { type: DurinLoginRequest, description: 'The credentials.', required: true },
    success: { status: HttpStatus.OK, description: 'Logged in.', type: DurinLoginResponse },
    errors: {
      400: ['client_missing', 'unknown_client', 'invalid_credentials', ...BAD_BODY],
      403: ['csrf_failed'],
      429: ['rate_limited'],
      503: STORE_DOWN,
    },
  },
};

const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'Bad request; nothing changed',
  401: 'No token, or not a live one (with `WWW-Authenticate: Bearer`)',
  403: 'Refused; nothing changed',
  404: 'Not found',
  429: 'Too many attempts (with `Retry-After`)',
  503: 'The token store is unavailable (with `Retry-After`)',
};

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } },
};

/** The library's error body with the codes this answer can carry. */
function errorSchema(status: number, codes: readonly string[]): DurinOpenApiSchema {
  return {
    allOf: [
      { $ref: `#/components/schemas/${DurinErrorBody.name}` },
      {
        type: 'object',
        required: ['statusCode', 'error', 'message', 'code'],
        properties: {
          statusCode: { type: 'integer', enum: [status] },
          code: { type: 'string', enum: [...codes] },
        },
      },
    ],
  };
}

function document(
  swagger: SwaggerPeer,
  target: { prototype: object },
  doc: RouteDoc,
  key: string,
): void {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, key);
  if (descriptor === undefined) throw new Error(`nestjs-durin: no route method ${key} to document`);
  const decorators: MethodDecorator[] = [
    // A stable id: the default one would name the per-mount class (MountedDurinRoutesController).
    swagger.ApiOperation({
      operationId: `durin${key.charAt(0).toUpperCase()}${key.slice(1)}`,
      summary: doc.summary,
      description: doc.description,
    }),
    swagger.ApiResponse(doc.success),
  ];
  if (doc.authenticated) {
    // Two requirements: either scheme alone is enough (OpenAPI ORs the entries).
    decorators.push(
      swagger.ApiSecurity(DURIN_BEARER_SCHEME),
      swagger.ApiSecurity(DURIN_COOKIE_SCHEME),
    );
  }
  if (doc.body !== undefined) {
    decorators.push(swagger.ApiBody(doc.body));
  }
  if (doc.param !== undefined) decorators.push(swagger.ApiParam(doc.param));
  for (const [status, codes] of Object.entries(doc.errors) as [`${ErrorStatus}`, string[]][]) {
    const code = Number(status) as ErrorStatus;
    decorators.push(
      swagger.ApiResponse({
        status: code,
        description: `${ERROR_DESCRIPTIONS[code]}: ${codes.map((c) => `\`${c}\``).join(', ')}.`,
        schema: errorSchema(code, codes),
        ...(code === 429 || code === 503 ? { headers: RETRY_AFTER } : {}),
      }),
    );
  }
  for (const decorate of decorators) decorate(target.prototype, key, descriptor);
}

/** Route metadata lives on the (shared) methods of the base class: described once per process. */
const documentedBases = new WeakSet<object>();

function documentController(
  base: Type<unknown>,
  mounted: Type<unknown>,
  routes: Readonly<Record<string, RouteDoc>>,
): void {
  const swagger = loadSwagger();
  if (swagger === undefined) return;
  documentModels(swagger);
  if (!documentedBases.has(base)) {
    documentedBases.add(base);
    for (const [key, doc] of Object.entries(routes)) document(swagger, base, doc, key);
  }
  // Class metadata is per mount (so a later option could tag mounts apart). The error schemas
  // refer to DurinErrorBody, which no route returns on success: it must be listed.
  swagger.ApiExtraModels(DurinErrorBody)(mounted);
  swagger.ApiTags(DURIN_OPENAPI_TAG)(mounted);
}

/**
 * Adds the OpenAPI metadata of the session routes to a mounted `DurinRoutesController`, when
 * `@nestjs/swagger` is installed; without it, nothing happens.
 */
export function documentDurinRoutes(base: Type<unknown>, mounted: Type<unknown>): void {
  documentController(base, mounted, SESSION_ROUTES);
}

/** The same for a mounted `DurinLoginController`. */
export function documentDurinLogin(base: Type<unknown>, mounted: Type<unknown>): void {
  documentController(base, mounted, LOGIN_ROUTES);
}
