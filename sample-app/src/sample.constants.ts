import type { CreateClientOptions } from '../../lib';

/** The clients a user can log in with; each has its own token lifetimes (see the seed). */
export const LOGIN_CLIENTS: readonly CreateClientOptions[] = [
  // Browser sessions: the module defaults (TOKEN_TTL, REFRESH_TOKEN_TTL).
  { name: 'web' },
  // Phones stay logged in longer.
  { name: 'mobile', tokenTtl: '1d', refreshTokenTtl: '30d' },
];

/** The client that holds personal API keys (`/auth/apiaccess`); not usable for a login. */
export const API_ACCESS_CLIENT = 'api';

/** API keys live 90 days and have no refresh token. */
export const API_ACCESS_CLIENT_OPTIONS: CreateClientOptions = {
  name: API_ACCESS_CLIENT,
  tokenTtl: '90d',
};

/** The user created on first start. For trying the app only: never seed this in production. */
export const DEMO_USER = { username: 'demo', password: 'demo-password' } as const;
