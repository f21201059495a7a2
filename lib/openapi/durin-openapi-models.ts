import { MAX_ABILITIES, MAX_ABILITY_LENGTH } from '../abilities/abilities';
import { MAX_TOKEN_LENGTH } from '../credentials/credential-result';
import {
  LOGIN_CONTEXT_MAX_KEYS,
  LOGIN_PASSWORD_MAX,
  LOGIN_USERNAME_MAX,
} from '../routes/login-body';
import { CLIENT_NAME_MAX } from '../store/stored-strings';
import type { DurinOpenApiSchema, SwaggerPeer } from './swagger-peer';

/*
 * The schemas of the routes' bodies, as classes because `@nestjs/swagger` names a component after
 * its class. They carry no decorators of their own: the properties are described in the tables
 * below and applied only once `@nestjs/swagger` has been found (see documentModels). The class
 * names are the schema names users see, so they match the exported response interfaces.
 */

export class DurinErrorBody {}
export class DurinRefreshRequest {}
export class DurinApiKeyRequest {}
export class DurinLoginRequest {}
export class DurinTokenPairResponse {}
export class DurinLoginResponse {}
export class DurinRenewResponse {}
export class DurinSessionResponse {}
export class DurinApiKeyResponse {}
export class DurinApiKeyCreatedResponse {}

const DATE_TIME = { type: 'string', format: 'date-time' } as const;
const NULLABLE_DATE_TIME = { ...DATE_TIME, nullable: true } as const;
const ABILITIES = {
  type: 'array',
  items: { type: 'string', maxLength: MAX_ABILITY_LENGTH },
  maxItems: MAX_ABILITIES,
} as const;
/** A session's context: a few flat labels (see the login body). */
const CONTEXT = {
  type: 'object',
  additionalProperties: {
    oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }],
    nullable: true,
  },
} as const;

const TOKEN_PAIR: Record<string, DurinOpenApiSchema> = {
  accessToken: {
    type: 'string',
    required: false,
    description: 'Header sessions only (a cookie session gets it in the HttpOnly auth cookie).',
  },
  refreshToken: {
    type: 'string',
    nullable: true,
    required: false,
    description: 'Header sessions only; `null` when the token has no refresh token.',
  },
  accessTokenExpiresAt: { ...NULLABLE_DATE_TIME, description: '`null`: never expires.' },
  refreshTokenExpiresAt: { ...NULLABLE_DATE_TIME, description: '`null`: no refresh token.' },
  csrfToken: {
    type: 'string',
    required: false,
    description:
      'Cookie sessions only (unless `csrf: false`): the value for the CSRF header from now on.',
  },
};

const API_KEY: Record<string, DurinOpenApiSchema> = {
  id: { type: 'string', format: 'uuid' },
  client: { type: 'string' },
  createdAt: DATE_TIME,
  lastUsedAt: NULLABLE_DATE_TIME,
  expiresAt: NULLABLE_DATE_TIME,
  abilities: { ...ABILITIES, description: 'What the key may do.' },
};

/** Every model with its properties; `required: false` marks an optional one. */
const MODELS: ReadonlyArray<readonly [object, Record<string, DurinOpenApiSchema>]> = [
  [
    DurinErrorBody,
    {
      statusCode: { type: 'integer', example: 401 },
      error: { type: 'string', example: 'Unauthorized' },
      message: { type: 'string', example: 'Invalid token.' },
      code: { type: 'string', example: 'token_invalid', description: 'Stable, machine-readable.' },
    },
  ],
  [
    DurinRefreshRequest,
    {
      refreshToken: {
        type: 'string',
        minLength: 1,
        maxLength: MAX_TOKEN_LENGTH,
        required: false,
        description:
          'A header session’s refresh token. Omitted (or no body at all) for a cookie session, ' +
          'whose refresh token is in the refresh cookie.',
      },
      abilities: {
        ...ABILITIES,
        required: false,
        description: 'Narrows the new pair to these abilities, all held by the old one.',
      },
    },
  ],
  [
    DurinApiKeyRequest,
    {
      abilities: {
        ...ABILITIES,
        required: false,
        description:
          'What the key may do, among the caller’s own abilities and never `*`. Default: none.',
      },
    },
  ],
  [
    DurinLoginRequest,
    {
      username: { type: 'string', minLength: 1, maxLength: LOGIN_USERNAME_MAX },
      password: { type: 'string', minLength: 1, maxLength: LOGIN_PASSWORD_MAX, format: 'password' },
      client: {
        type: 'string',
        minLength: 1,
        maxLength: CLIENT_NAME_MAX,
        description: 'The name of the client to log in with.',
      },
      context: {
        ...CONTEXT,
        maxProperties: LOGIN_CONTEXT_MAX_KEYS,
        required: false,
        description: 'Labels stored with the session (`device`, `appVersion`).',
      },
    },
  ],
  [DurinTokenPairResponse, TOKEN_PAIR],
  [
    DurinLoginResponse,
    {
      tokenType: {
        type: 'string',
        enum: ['Bearer'],
        required: false,
        description: 'Header sessions only.',
      },
      ...TOKEN_PAIR,
    },
  ],
  [DurinRenewResponse, { expiresAt: { ...NULLABLE_DATE_TIME, description: '`null`: never.' } }],
  [
    DurinSessionResponse,
    {
      id: { type: 'string', format: 'uuid' },
      client: { type: 'string', nullable: true },
      context: CONTEXT,
      createdAt: DATE_TIME,
      lastUsedAt: NULLABLE_DATE_TIME,
      expiresAt: NULLABLE_DATE_TIME,
      abilities: { ...ABILITIES, description: 'What the session’s token may do.' },
      isCurrent: { type: 'boolean', description: 'The session this request was made with.' },
    },
  ],
  [DurinApiKeyResponse, API_KEY],
  [
    DurinApiKeyCreatedResponse,
    { ...API_KEY, token: { type: 'string', description: 'The key itself, shown this once.' } },
  ],
];

let documented = false;

/** Describes the models' properties to `@nestjs/swagger`, once per process. */
export function documentModels(swagger: SwaggerPeer): void {
  if (documented) return;
  documented = true;
  for (const [model, properties] of MODELS) {
    for (const [name, { required, ...schema }] of Object.entries(properties)) {
      const decorate =
        required === false ? swagger.ApiPropertyOptional(schema) : swagger.ApiProperty(schema);
      decorate((model as { prototype: object }).prototype, name);
    }
  }
}
