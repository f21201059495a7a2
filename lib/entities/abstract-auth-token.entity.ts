import { Column, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { AuthType } from '../interfaces/durin-module-options.interface';
import { grants, storedAbilities } from '../abilities/abilities';
import { ClientEntity } from './client.entity';
import { epochMs, integerMs } from './epoch-ms.transformer';
import { createContextView, TokenContextData } from './token-context';
import { getDurinUserEntity } from './user-entity.registry';

/** Why a token stopped working; kept with `keepExpiredTokens` for audit. */
export type RevocationReason =
  | 'logout'
  | 'logout_all'
  | 'revoked'
  | 'rotated'
  | 'reuse_detected'
  | 'single_login'
  | 'client_login'
  | 'session_limit'
  | 'expired';

/**
 * The columns of a token. Extend it (with `@Entity()`) to add your own columns, and pass the class
 * as `tokenEntity`; the built-in model is {@link AuthTokenEntity}.
 *
 * One row is one session of one device: an access token and (optionally) its refresh token.
 * Secrets are never stored, only their hashes.
 */
// The cleanup's index ranges (lib/store/cleanup-plan.ts): live rows by refresh/access expiry and by
// absolute cap, so deleting expired rows never scans the live ones.
@Index(['revokedAt', 'refreshExpiresAt', 'expiresAt'])
@Index(['revokedAt', 'absoluteExpiresAt'])
export abstract class AbstractAuthToken<TUser extends object = object> {
  /** Random (UUID v4), so ids in URLs (`DELETE /sessions/:id`) cannot be enumerated. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @ManyToOne(() => getDurinUserEntity(), { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  @Index()
  user!: TUser;

  /** Where the token is accepted: the `Authorization` header or the auth cookie. */
  @Column({ name: 'auth_type', type: 'varchar', length: 8 })
  authType!: AuthType;

  @ManyToOne(() => ClientEntity, { nullable: true, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'client_id' })
  client!: ClientEntity | null;

  /** Session context chosen at login (device name, IP, …). Prefer {@link contextObj} to read it. */
  @Column({ type: 'simple-json' })
  context!: TokenContextData;

  // --- abilities (issue 11) ---
  /**
   * What the token may do (`['orders:read']`, `['*']` for everything); see {@link can}. `null` on
   * tokens issued before abilities existed, which hold `['*']`. Refresh keeps (or narrows) them.
   */
  @Column({ type: 'simple-json', nullable: true })
  abilities!: string[] | null;
  // --- end abilities ---

  /** Hash of the access token (see TokenHasher). Unique: every request is one index lookup. */
  @Index({ unique: true })
  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash!: string;

  /** Hash of the refresh token; `null` when refresh tokens are disabled. */
  @Index({ unique: true })
  @Column({ name: 'refresh_token_hash', type: 'varchar', length: 64, nullable: true })
  refreshTokenHash!: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: Date;

  /** The access token works while `now < expiresAt`; `null`: no expiry. */
  @Index()
  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: epochMs })
  expiresAt!: Date | null;

  /** The refresh token works while `now < refreshExpiresAt`. */
  @Index()
  @Column({ name: 'refresh_expires_at', type: 'bigint', nullable: true, transformer: epochMs })
  refreshExpiresAt!: Date | null;

  /** No extension of this session (sliding, renew, rotation) ever goes past this; `null`: no cap. */
  @Column({ name: 'absolute_expires_at', type: 'bigint', nullable: true, transformer: epochMs })
  absoluteExpiresAt!: Date | null;

  /** Access-token lifetime granted at login, reused by every extension. */
  @Column({ name: 'access_ttl_ms', type: 'bigint', nullable: true, transformer: integerMs })
  accessTtlMs!: number | null;

  /** Refresh-token lifetime granted at login, reused by every rotation. */
  @Column({ name: 'refresh_ttl_ms', type: 'bigint', nullable: true, transformer: integerMs })
  refreshTtlMs!: number | null;

  @Column({ name: 'last_refreshed_at', type: 'bigint', nullable: true, transformer: epochMs })
  lastRefreshedAt!: Date | null;

  @Column({ name: 'last_used_at', type: 'bigint', nullable: true, transformer: epochMs })
  lastUsedAt!: Date | null;

  /** Set when the token was revoked but kept (audit, `keepExpiredTokens`, or rotation history). */
  @Column({ name: 'revoked_at', type: 'bigint', nullable: true, transformer: epochMs })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_reason', type: 'varchar', length: 32, nullable: true })
  revokedReason!: RevocationReason | null;

  /** Every token minted by refreshing one login shares the login's family id. */
  @Index()
  @Column({ name: 'family_id', type: 'varchar', length: 36 })
  familyId!: string;

  /** The token this one was rotated from. */
  @Column({ name: 'parent_id', type: 'varchar', length: 36, nullable: true })
  parentId!: string | null;

  /** The token this one was rotated into. */
  @Column({ name: 'replaced_by_id', type: 'varchar', length: 36, nullable: true })
  replacedById!: string | null;

  /**
   * Set on a rotated parent for `refreshReuseGraceSeconds`: the child's pair, encrypted under a key
   * only the parent's refresh token yields (see `lib/tokens/grace-payload.ts`), so a racing tab
   * presenting the parent again gets the same pair back. Never selected unless asked for.
   */
  @Column({ name: 'grace_payload', type: 'text', nullable: true, select: false })
  gracePayload?: string | null;

  /** Set by TokenService on the tokens it returns; see `strictContextAccess`. Not a column. */
  strictContextAccess = false;

  /** Whether the access token is expired at `now` (milliseconds). The boundary is inclusive. */
  isExpiredAt(now: number): boolean {
    return this.expiresAt !== null && now >= this.expiresAt.getTime();
  }

  /**
   * Whether the access token is expired by the system clock. Inside the library and in tests with a
   * custom `DURIN_CLOCK`, use {@link isExpiredAt} with that clock's time.
   */
  get isExpired(): boolean {
    return this.isExpiredAt(Date.now());
  }

  /** Whether the token was revoked (and kept). */
  get isRevoked(): boolean {
    return this.revokedAt !== null;
  }

  /**
   * Whether the token holds `ability`: `*` holds everything, `orders:*` every `orders:…`.
   *
   * @example
   * if (token.cannot('orders:write')) throw new ForbiddenException();
   */
  can(ability: string): boolean {
    return grants(storedAbilities(this.abilities), ability);
  }

  /** The opposite of {@link can}. */
  cannot(ability: string): boolean {
    return !this.can(ability);
  }

  /**
   * Read-only access to the context: `token.contextObj.device`. A missing key is `undefined`, or
   * throws `MissingContextKeyError` with `strictContextAccess`.
   */
  get contextObj(): Readonly<TokenContextData> {
    return createContextView(this.context ?? {}, this.strictContextAccess);
  }
}
