import { ResolvedCleanupOptions } from '../cleanup/resolve-cleanup-options';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { EntityClass, PostAuthHandler } from '../interfaces/durin-module-options.interface';
import { ResolvedCacheOptions } from './resolve-cache-options';
import type { ResolvedThrottleOptions } from './resolve-throttle-options';
import type { ResolvedSecurityOptions } from './resolve-security-options';
import type { ResolvedTokenTagOptions } from './resolve-token-tag';

/**
 * Cookie attributes after defaults and the prefix rules have been applied. The access and CSRF
 * cookies use `name`/`path`; the refresh cookie `refreshName`/`refreshPath`; all share the rest.
 */
export interface ResolvedCookieOptions {
  name: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite: 'lax' | 'strict' | 'none';
  path: string;
  domain: string | undefined;
  /** The refresh cookie's name as set (`__Secure-refresh` by default); see `DurinCookieOptions`. */
  refreshName: string;
  /** The only path the refresh cookie is sent to. */
  refreshPath: string;
}

/** The options after validation: every duration in milliseconds, every default filled in. */
export interface ResolvedDurinOptions extends ResolvedSecurityOptions, ResolvedTokenTagOptions {
  userEntity: EntityClass;
  tokenEntity: EntityClass<AbstractAuthToken>;
  dataSource: string | undefined;
  routes: { path: string } | undefined;
  userIdField: string;
  isUserActive: (user: object) => boolean;
  tokenTtlMs: number | null;
  refreshTokenTtlMs: number | null;
  autoRefresh: boolean;
  autoRefreshIntervalMs: number;
  autoRefreshMaxTtlMs: number | null;
  enforceSingleLogin: boolean;
  oneTokenPerClient: boolean;
  enableAuthRestriction: boolean;
  keepExpiredTokens: boolean;
  /** Kept rows revoked longer ago than this are deleted by the cleanup; `null`: forever. */
  keptTokensRetentionMs: number | null;
  /** The background cleanup; `null`: off. */
  cleanup: ResolvedCleanupOptions | null;
  strictContextAccess: boolean;
  /** Lower-cased, for case-insensitive matching. */
  authHeaderPrefixes: string[];
  /** What the guard reads, in order; holds `cookie.name` (the `__Host-` form), see `resolveDurinOptions`. */
  authCookieNames: string[];
  cookie: ResolvedCookieOptions;
  tokenPrefix: string;
  /** Newest first; empty without a pepper. */
  peppers: string[];
  postAuthHandler: PostAuthHandler | undefined;
  postAutoRefreshHandler: PostAuthHandler | undefined;
  apiAccessClientName: string;
  apiAccessExcludeFromSessions: boolean;
  /** Lifetime of a personal API key; `null`: keys never expire. */
  apiAccessTokenTtlMs: number | null;
  /**
   * Whether `apiAccessTokenTtl` was given: only then does it beat the `tokenTtl` of an
   * `apiAccessClientName` client row the app created itself (see `apiKeyAccessTtlMs`).
   */
  apiAccessTokenTtlConfigured: boolean;
  storeTimeoutMs: number;
  /** `false` when the token cache is off. */
  cache: ResolvedCacheOptions | false;
  batchStatements: boolean;
  /** `false` when the `throttle` option is off (see `DurinThrottlerGuard` for what still applies). */
  throttle: ResolvedThrottleOptions | false;
}
