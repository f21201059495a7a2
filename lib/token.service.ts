import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DURIN_CLOCK, DURIN_RESOLVED_OPTIONS } from './durin.constants';
import { AbstractAuthToken, RevocationReason } from './entities/abstract-auth-token.entity';
import { ClientEntity } from './entities/client.entity';
import { isPlainContext } from './entities/token-context';
import {
  ClientAlreadyExistsError,
  InvalidClientError,
  InvalidTokenOptionsError,
  TokenStoreUnavailableError,
  UnknownClientError,
} from './errors/token-errors';
import { Clock } from './interfaces/clock.interface';
import { AuthType } from './interfaces/durin-module-options.interface';
import {
  AuthenticationResult,
  CreateClientOptions,
  GenerateTokenOptions,
  RefreshTokenOptions,
  SessionInfo,
  TokenSet,
} from './interfaces/token-set.interface';
import { describe, tryParseDuration } from './options/duration';
import { ResolvedDurinOptions } from './options/resolved-options';
import { TokenStore } from './store/token-store';
import { TokenFormat } from './tokens/token-format';
import { TokenHasher } from './tokens/token-hasher';

const THROTTLE_RATE_PATTERN = /^[1-9]\d{0,8}\/[smhd]$/;
const CLIENT_NAME_MAX = 64;

/** The lifetimes of one session, decided at login and kept for its whole life. */
interface Lifetimes {
  accessTtlMs: number | null;
  refreshTtlMs: number | null;
}

/**
 * The token lifecycle: issue, verify, refresh (rotation), renew, expire, revoke, list; and the
 * clients that set per-client lifetimes. Inject it in your own login and logout code.
 *
 * @example
 * const { accessToken, refreshToken } = await tokens.generateHeaderToken(user, { client: 'web' });
 */
@Injectable()
export class TokenService<T extends AbstractAuthToken = AbstractAuthToken> {
  private readonly format: TokenFormat;
  private readonly hasher: TokenHasher;

  constructor(
    @Inject(DURIN_RESOLVED_OPTIONS) private readonly options: ResolvedDurinOptions,
    @Inject(DURIN_CLOCK) private readonly clock: Clock,
    private readonly store: TokenStore<T>,
  ) {
    this.format = new TokenFormat(options.tokenPrefix);
    this.hasher = new TokenHasher(options.peppers);
  }

  // ---------------------------------------------------------------- issue

  /** Issues a token that only works in the `Authorization` header. */
  generateHeaderToken(user: object, opts?: GenerateTokenOptions): Promise<TokenSet<T>> {
    return this.issue(user, 'header', opts);
  }

  /** Issues a token that only works in the auth cookie. */
  generateCookieToken(user: object, opts?: GenerateTokenOptions): Promise<TokenSet<T>> {
    return this.issue(user, 'cookie', opts);
  }

  private async issue(
    user: object,
    authType: AuthType,
    opts: GenerateTokenOptions = {},
  ): Promise<TokenSet<T>> {
    // Every argument is checked before anything is written.
    if (opts === null || typeof opts !== 'object') {
      throw new InvalidTokenOptionsError('opts', `must be an object (got ${describe(opts)})`);
    }
    this.userIdOf(user);
    const context = opts.context === undefined ? {} : opts.context;
    if (!isPlainContext(context)) {
      throw new InvalidTokenOptionsError(
        'context',
        `must be a plain JSON object (got ${describe(context)})`,
      );
    }
    let client: ClientEntity | null = null;
    if (opts.client !== undefined) {
      if (typeof opts.client !== 'string') {
        throw new InvalidTokenOptionsError(
          'client',
          `must be a client name (got ${describe(opts.client)})`,
        );
      }
      client = await this.store.findClient(opts.client);
      if (!client) {
        throw new UnknownClientError(opts.client);
      }
    }
    const lifetimes = this.lifetimesFor(client, opts);

    const now = this.clock.now();
    const token = this.store.tokens.create() as T;
    token.id = this.store.newId();
    token.familyId = TokenStore.newFamilyId();
    token.parentId = null;
    token.replacedById = null;
    token.user = user;
    token.authType = authType;
    token.client = client;
    token.context = { ...context };
    token.createdAt = new Date(now);
    token.accessTtlMs = lifetimes.accessTtlMs;
    token.refreshTtlMs = lifetimes.refreshTtlMs;
    token.absoluteExpiresAt = this.absoluteExpiry(now, lifetimes);
    token.lastRefreshedAt = null;
    token.lastUsedAt = null;
    token.revokedAt = null;
    token.revokedReason = null;
    const secrets = this.mint(token, now);

    if (this.options.enforceSingleLogin) {
      await this.store.transaction(async (manager) => {
        await this.revokeUserTokens(this.userIdOf(user), 'single_login', now, manager);
        await this.store.insert(token, manager);
      });
    } else {
      await this.store.insert(token);
    }
    return this.tokenSet(token, secrets);
  }

  /** Fills in new secrets and expiries on `token`; returns the raw secrets. */
  private mint(token: T, now: number): { access: string; refresh: string | null } {
    const access = this.format.generate('access');
    const refresh = token.refreshTtlMs === null ? null : this.format.generate('refresh');
    token.tokenHash = this.hasher.hash(access);
    token.refreshTokenHash = refresh === null ? null : this.hasher.hash(refresh);
    token.expiresAt = this.capped(now, token.accessTtlMs, token.absoluteExpiresAt);
    token.refreshExpiresAt =
      refresh === null ? null : this.capped(now, token.refreshTtlMs, token.absoluteExpiresAt);
    return { access, refresh };
  }

  private tokenSet(token: T, secrets: { access: string; refresh: string | null }): TokenSet<T> {
    this.prepare(token);
    return {
      accessToken: secrets.access,
      refreshToken: secrets.refresh,
      accessTokenExpiresAt: token.expiresAt,
      refreshTokenExpiresAt: token.refreshExpiresAt,
      token,
    };
  }

  private lifetimesFor(client: ClientEntity | null, opts: GenerateTokenOptions): Lifetimes {
    const accessTtlMs =
      opts.accessExpiresIn !== undefined
        ? this.optionDuration(opts.accessExpiresIn, 'accessExpiresIn')
        : client?.tokenTtl != null
          ? client.tokenTtl * 1000
          : this.options.tokenTtlMs;
    let refreshTtlMs =
      opts.refreshExpiresIn !== undefined
        ? this.optionDuration(opts.refreshExpiresIn, 'refreshExpiresIn')
        : client?.refreshTokenTtl != null
          ? client.refreshTokenTtl * 1000
          : this.options.refreshTokenTtlMs;
    if (accessTtlMs === 0) {
      throw new InvalidTokenOptionsError(
        'accessExpiresIn',
        'must be greater than 0 (null for no expiry)',
      );
    }
    if (refreshTtlMs !== null && accessTtlMs === null) {
      // A refresh token exists to replace an expiring access token; one that never expires needs none.
      refreshTtlMs = null;
    }
    if (refreshTtlMs !== null && accessTtlMs !== null && refreshTtlMs <= accessTtlMs) {
      const explicit = opts.refreshExpiresIn !== undefined || opts.accessExpiresIn !== undefined;
      if (explicit) {
        throw new InvalidTokenOptionsError(
          'refreshExpiresIn',
          'must be greater than the access-token lifetime',
        );
      }
      // A client whose access lifetime reaches the refresh lifetime simply gets no refresh token.
      refreshTtlMs = null;
    }
    return { accessTtlMs, refreshTtlMs };
  }

  private optionDuration(value: unknown, name: string): number | null {
    if (value === null) return null;
    const parsed = tryParseDuration(value);
    if (parsed === undefined) {
      throw new InvalidTokenOptionsError(
        name,
        `must be seconds or a string like '15m' (got ${describe(value)})`,
      );
    }
    return parsed;
  }

  /**
   * The latest moment any extension of this session may reach: login + max(autoRefreshMaxTtl, the
   * lifetimes granted at login). What was granted is honoured; nothing ever extends past it.
   */
  private absoluteExpiry(now: number, lifetimes: Lifetimes): Date | null {
    const cap = this.options.autoRefreshMaxTtlMs;
    if (cap === null || lifetimes.accessTtlMs === null) {
      return null;
    }
    return new Date(now + Math.max(cap, lifetimes.accessTtlMs, lifetimes.refreshTtlMs ?? 0));
  }

  private capped(now: number, ttlMs: number | null, absolute: Date | null): Date | null {
    if (ttlMs === null) return absolute;
    const end = now + ttlMs;
    return new Date(absolute === null ? end : Math.min(end, absolute.getTime()));
  }

  // ---------------------------------------------------------------- verify

  /**
   * The live token for a raw access token, with its user; `null` when it is malformed, unknown,
   * expired, revoked, of the other auth type (when `authType` is given) or its user is inactive.
   * Never throws on bad input; throws {@link TokenStoreUnavailableError} when the store fails, so
   * callers can fail closed.
   */
  async verifyToken(raw: unknown, authType?: AuthType): Promise<T | null> {
    const result = await this.check(raw, authType);
    return result.ok ? result.token : null;
  }

  /**
   * What the guard runs on every request: verify, then record use and slide the expiry when due
   * (at most one write per `autoRefreshInterval`), then the post-auth hooks.
   */
  async authenticate(raw: unknown, authType: AuthType): Promise<AuthenticationResult<T>> {
    const checked = await this.check(raw, authType);
    if (!checked.ok) {
      return checked;
    }
    let user: object = checked.token.user;
    let token = checked.token;
    const autoRefreshed = await this.touch(token);
    if (autoRefreshed && this.options.postAutoRefreshHandler) {
      [user, token] = (await this.options.postAutoRefreshHandler(user, token, raw as string)) as [
        object,
        T,
      ];
    }
    if (this.options.postAuthHandler) {
      [user, token] = (await this.options.postAuthHandler(user, token, raw as string)) as [
        object,
        T,
      ];
    }
    return { ok: true, user, token, autoRefreshed };
  }

  private async check(
    raw: unknown,
    authType: AuthType | undefined,
  ): Promise<
    | { ok: true; token: T }
    | { ok: false; reason: 'token_invalid' | 'token_expired' | 'user_inactive' }
  > {
    // Format and checksum first: junk never costs a hash or a query (REQ-GEN-03).
    if (this.format.parse(raw) !== 'access') {
      return { ok: false, reason: 'token_invalid' };
    }
    const rawToken = raw as string;
    const candidates = this.hasher.candidates(rawToken);
    const token = await this.guardStore(() => this.store.findByAccessHash(candidates));
    if (!token || token.revokedAt !== null) {
      return { ok: false, reason: 'token_invalid' };
    }
    if (
      authType !== undefined &&
      this.options.enableAuthRestriction &&
      token.authType !== authType
    ) {
      return { ok: false, reason: 'token_invalid' };
    }
    const now = this.clock.now();
    if (
      token.isExpiredAt(now) ||
      (token.absoluteExpiresAt !== null && now >= token.absoluteExpiresAt.getTime())
    ) {
      return { ok: false, reason: 'token_expired' };
    }
    if (!this.options.isUserActive(token.user)) {
      return { ok: false, reason: 'user_inactive' };
    }
    if (this.hasher.isOutdated(rawToken, token.tokenHash)) {
      token.tokenHash = this.hasher.hash(rawToken);
      await this.guardStore(() => this.store.replaceAccessHash(token.id, token.tokenHash));
    }
    return { ok: true, token: this.prepare(token) };
  }

  /** Records use, and slides the expiry under `autoRefresh`; returns whether it slid. */
  private async touch(token: T): Promise<boolean> {
    const now = this.clock.now();
    const interval = this.options.autoRefreshIntervalMs;
    // One write per interval and token, for both `lastUsedAt` and the slide (coalesced writes).
    if (now - (token.lastUsedAt ?? token.createdAt).getTime() < interval) {
      return false;
    }
    const changes: Parameters<TokenStore['touch']>[1] = { lastUsedAt: new Date(now) };
    const slide = this.options.autoRefresh && token.expiresAt !== null;
    if (slide) {
      changes.expiresAt = this.later(
        token.expiresAt,
        this.capped(now, token.accessTtlMs, token.absoluteExpiresAt),
      );
      if (token.refreshExpiresAt !== null) {
        changes.refreshExpiresAt = this.later(
          token.refreshExpiresAt,
          this.capped(now, token.refreshTtlMs, token.absoluteExpiresAt),
        );
      }
      changes.lastRefreshedAt = new Date(now);
    }
    const written = await this.guardStore(() => this.store.touch(token.id, changes, now, interval));
    if (written) {
      Object.assign(token, changes);
    }
    return written && slide;
  }

  private later(current: Date | null, next: Date | null): Date | null {
    if (current === null || next === null) return current ?? next;
    return next.getTime() > current.getTime() ? next : current;
  }

  // ---------------------------------------------------------------- refresh, renew, expire

  /**
   * Rotates a refresh token: the old pair stops working and a new pair is returned for the same
   * user, client, context and auth type, keeping the session's absolute expiry. `null` when the
   * refresh token is not valid. Presenting a refresh token that was already rotated is treated as
   * theft: the whole session (family) is revoked (RFC 9700 §4.14.2).
   */
  async refreshToken(
    rawRefresh: unknown,
    opts: RefreshTokenOptions = {},
  ): Promise<TokenSet<T> | null> {
    if (this.format.parse(rawRefresh) !== 'refresh') {
      return null;
    }
    if (opts.context !== undefined && !isPlainContext(opts.context)) {
      throw new InvalidTokenOptionsError(
        'context',
        `must be a plain JSON object (got ${describe(opts.context)})`,
      );
    }
    const raw = rawRefresh as string;
    const candidates = this.hasher.candidates(raw);
    const parent = await this.guardStore(() => this.store.findByRefreshHash(candidates));
    if (!parent) {
      return null;
    }
    const now = this.clock.now();
    if (parent.revokedAt !== null) {
      if (parent.revokedReason === 'rotated') {
        await this.revokeFamily(parent.familyId, 'reuse_detected', now);
      }
      return null;
    }
    if (
      opts.authType !== undefined &&
      this.options.enableAuthRestriction &&
      parent.authType !== opts.authType
    ) {
      return null;
    }
    const refreshEnd = parent.refreshExpiresAt?.getTime() ?? -Infinity;
    const absoluteEnd = parent.absoluteExpiresAt?.getTime() ?? Infinity;
    if (now >= refreshEnd || now >= absoluteEnd || !this.options.isUserActive(parent.user)) {
      return null;
    }

    const child = this.store.tokens.create() as T;
    Object.assign(child, {
      id: this.store.newId(),
      familyId: parent.familyId,
      parentId: parent.id,
      replacedById: null,
      user: parent.user,
      authType: parent.authType,
      client: parent.client,
      context: { ...parent.context, ...(opts.context ?? {}) },
      createdAt: new Date(now),
      accessTtlMs: parent.accessTtlMs,
      refreshTtlMs: parent.refreshTtlMs,
      absoluteExpiresAt: parent.absoluteExpiresAt,
      lastRefreshedAt: new Date(now),
      lastUsedAt: null,
      revokedAt: null,
      revokedReason: null,
    });
    const secrets = this.mint(child, now);
    // Consume and mint commit together: a failure in between leaves the parent usable (REQ-FAIL-03).
    const won = await this.guardStore(() =>
      this.store.transaction(async (manager) => {
        if (!(await this.store.consumeForRotation(manager, parent.id, child.id, now))) {
          return false;
        }
        await this.store.insert(child, manager);
        return true;
      }),
    );
    return won ? this.tokenSet(child, secrets) : null;
  }

  /**
   * Extends a live token by its own lifetime from now (durin's "refresh"), never past its absolute
   * expiry. Returns the new access expiry, or `null` when the token is no longer live.
   */
  async renewToken(token: T): Promise<Date | null> {
    const now = this.clock.now();
    const expiresAt = this.capped(now, token.accessTtlMs, token.absoluteExpiresAt);
    const refreshExpiresAt =
      token.refreshExpiresAt === null
        ? null
        : this.later(
            token.refreshExpiresAt,
            this.capped(now, token.refreshTtlMs, token.absoluteExpiresAt),
          );
    if (expiresAt !== null && expiresAt.getTime() <= now) {
      return null;
    }
    if (!(await this.store.extend(token.id, expiresAt, refreshExpiresAt, now))) {
      return null;
    }
    Object.assign(token, { expiresAt, refreshExpiresAt, lastRefreshedAt: new Date(now) });
    return expiresAt;
  }

  /** Makes a token (and its refresh token) expire now, keeping the row. */
  async expireToken(token: T): Promise<boolean> {
    const now = new Date(this.clock.now());
    const done = await this.store.extend(
      token.id,
      now,
      token.refreshExpiresAt === null ? null : now,
      now.getTime(),
    );
    if (done) {
      token.expiresAt = now;
      token.refreshExpiresAt = token.refreshExpiresAt === null ? null : now;
    }
    return done;
  }

  // ---------------------------------------------------------------- revoke

  /**
   * Logs one session out: the token, its refresh token and its rotation history. Returns whether a
   * live token was ended. Resolves only after the write committed.
   */
  async revokeToken(tokenOrId: T | string): Promise<boolean> {
    const id = typeof tokenOrId === 'string' ? tokenOrId : tokenOrId.id;
    if (typeof id !== 'string' || id.length === 0) {
      return false;
    }
    const familyId =
      typeof tokenOrId === 'string'
        ? (
            await this.store.tokens.findOne({
              where: { id } as never,
              select: { familyId: true } as never,
            })
          )?.familyId
        : tokenOrId.familyId;
    if (!familyId) {
      return false;
    }
    return (await this.revokeFamily(familyId, 'logout', this.clock.now())) > 0;
  }

  private revokeFamily(familyId: string, reason: RevocationReason, now: number): Promise<number> {
    return this.store.revokeWhere(
      'family_id = :familyId',
      { familyId },
      this.revocationMode(),
      reason,
      now,
    );
  }

  /** Logs a user out everywhere. Returns the number of sessions ended. */
  revokeAllUserTokens(userOrId: object | string | number): Promise<number> {
    return this.revokeUserTokens(this.idOf(userOrId), 'logout_all', this.clock.now());
  }

  private revokeUserTokens(
    userId: unknown,
    reason: RevocationReason,
    now: number,
    manager?: EntityManager,
  ): Promise<number> {
    return this.store.revokeWhere(
      'user_id = :userId',
      { userId },
      this.revocationMode(),
      reason,
      now,
      manager,
    );
  }

  /** Removes a user's dead tokens. Returns how many. */
  revokeAllExpiredUserTokens(userOrId: object | string | number): Promise<number> {
    return this.store.cleanup(this.revocationMode(), this.clock.now(), this.idOf(userOrId));
  }

  /**
   * Removes every dead token (both parts expired, or past the absolute expiry), in short batches so
   * it can run on a schedule against a large table while requests are served. Returns how many.
   */
  revokeExpiredTokens(): Promise<number> {
    return this.store.cleanup(this.revocationMode(), this.clock.now());
  }

  private revocationMode(): 'delete' | 'mark' {
    return this.options.keepExpiredTokens ? 'mark' : 'delete';
  }

  /** A user's live sessions, newest first, without any secret or hash. */
  async listUserTokens(userOrId: object | string | number): Promise<SessionInfo[]> {
    const tokens = await this.store.listLive(this.idOf(userOrId), this.clock.now());
    return tokens.map((token) => ({
      id: token.id,
      authType: token.authType,
      client: token.client?.name ?? null,
      context: { ...token.context },
      createdAt: token.createdAt,
      lastUsedAt: token.lastUsedAt,
      expiresAt: token.expiresAt,
      refreshExpiresAt: token.refreshExpiresAt,
      absoluteExpiresAt: token.absoluteExpiresAt,
    }));
  }

  // ---------------------------------------------------------------- clients

  /** Creates a client with its own token lifetimes. */
  async createClient(input: CreateClientOptions): Promise<ClientEntity> {
    if (input === null || typeof input !== 'object') {
      throw new InvalidClientError('input', `must be an object (got ${describe(input)})`);
    }
    const { name } = input;
    if (typeof name !== 'string' || name.length < 1 || name.length > CLIENT_NAME_MAX) {
      throw new InvalidClientError(
        'name',
        `must be a string of 1 to ${CLIENT_NAME_MAX} characters`,
      );
    }
    const tokenTtl = this.clientSeconds(input.tokenTtl, 'tokenTtl');
    const refreshTokenTtl = this.clientSeconds(input.refreshTokenTtl, 'refreshTokenTtl');
    if (tokenTtl === 0) {
      throw new InvalidClientError('tokenTtl', 'must be greater than 0');
    }
    const throttleRate = input.throttleRate ?? null;
    if (
      throttleRate !== null &&
      (typeof throttleRate !== 'string' || !THROTTLE_RATE_PATTERN.test(throttleRate))
    ) {
      throw new InvalidClientError(
        'throttleRate',
        `must look like '100/m' (periods s, m, h, d); got ${describe(throttleRate)}`,
      );
    }
    if (await this.store.findClient(name)) {
      throw new ClientAlreadyExistsError(name);
    }
    const client = this.store.clients.create({
      name,
      tokenTtl,
      refreshTokenTtl,
      throttleRate,
      createdAt: new Date(this.clock.now()),
    });
    try {
      return await this.store.clients.save(client);
    } catch (error) {
      // Two creators raced past the check: the unique index decided.
      if (await this.store.findClient(name)) {
        throw new ClientAlreadyExistsError(name);
      }
      throw error;
    }
  }

  private clientSeconds(value: unknown, field: string): number | null {
    if (value === undefined || value === null) return null;
    const parsed = tryParseDuration(value);
    if (parsed === undefined) {
      throw new InvalidClientError(
        field,
        `must be seconds or a string like '15m' (got ${describe(value)})`,
      );
    }
    return parsed / 1000;
  }

  getClient(name: string): Promise<ClientEntity | null> {
    return typeof name === 'string' ? this.store.findClient(name) : Promise.resolve(null);
  }

  /** Deletes a client and, with it, every token issued for it. */
  async deleteClient(name: string): Promise<boolean> {
    const client = await this.getClient(name);
    if (!client) return false;
    await this.store.tokens
      .createQueryBuilder()
      .delete()
      .where('client_id = :clientId', { clientId: client.id })
      .execute();
    await this.store.clients.delete({ id: client.id });
    return true;
  }

  // ---------------------------------------------------------------- helpers

  /** Marks a token for the caller: context access mode. */
  private prepare(token: T): T {
    token.strictContextAccess = this.options.strictContextAccess;
    return token;
  }

  private userIdOf(user: object): unknown {
    const id =
      user !== null && typeof user === 'object'
        ? (user as Record<string, unknown>)[this.options.userIdField]
        : undefined;
    if (id === undefined || id === null) {
      throw new InvalidTokenOptionsError(
        'user',
        `must be a saved user with '${this.options.userIdField}' set`,
      );
    }
    return id;
  }

  private idOf(userOrId: object | string | number): unknown {
    return typeof userOrId === 'object' ? this.userIdOf(userOrId) : userOrId;
  }

  /** Runs a store call on the authentication path; a failure or timeout means "unavailable". */
  private async guardStore<R>(work: () => Promise<R>): Promise<R> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TokenStoreUnavailableError('timeout')),
        this.options.storeTimeoutMs,
      );
    });
    try {
      return await Promise.race([work(), timeout]);
    } catch (error) {
      throw error instanceof TokenStoreUnavailableError
        ? error
        : new TokenStoreUnavailableError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}
