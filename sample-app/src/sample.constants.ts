import type { CreateClientOptions } from '../../lib';

/**
 * The clients a user can log in with; each has its own token lifetimes and its own request budget
 * per user (`throttleRate`, enforced by DurinThrottlerGuard). Seeded once: change them later with
 * `npm run durin -- client:update mobile --throttle-rate 100/m`.
 */
export const LOGIN_CLIENTS: readonly CreateClientOptions[] = [
  // Browser sessions: the module defaults (TOKEN_TTL, REFRESH_TOKEN_TTL).
  { name: 'web', throttleRate: '600/m' },
  // Phones stay logged in longer, and get a smaller budget.
  { name: 'mobile', tokenTtl: '1d', refreshTokenTtl: '30d', throttleRate: '300/m' },
];

/**
 * The abilities of the notes routes. A login that asks for none gets every ability (`['*']`); a
 * login with `"abilities": ["notes:read"]` gets a read-only token.
 */
export const NOTES_READ = 'notes:read';
export const NOTES_WRITE = 'notes:write';

/** The client that holds personal API keys (`/auth/apiaccess`); not usable for a login. */
export const API_ACCESS_CLIENT = 'api';

/** API keys live 90 days, have no refresh token, and get the smallest budget (scripts). */
export const API_ACCESS_CLIENT_OPTIONS: CreateClientOptions = {
  name: API_ACCESS_CLIENT,
  tokenTtl: '90d',
  throttleRate: '120/m',
};

/** The user created on first start. For trying the app only: never seed this in production. */
export const DEMO_USER = { username: 'demo', password: 'demo-password' } as const;
