import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { epochMs } from './epoch-ms.transformer';

/**
 * A kind of client (`web`, `mobile`, `cli`, …) with its own token lifetimes, as in
 * django-rest-durin. Tokens issued for a client get its lifetimes; tokens without one use the
 * module defaults.
 */
@Entity('auth_client')
export class ClientEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  /** 1..64 characters, unique. */
  @Index({ unique: true })
  @Column({ type: 'varchar', length: 64 })
  name!: string;

  /** Access-token lifetime in seconds; `null` = the module default. */
  @Column({ name: 'token_ttl', type: 'integer', nullable: true })
  tokenTtl!: number | null;

  /** Refresh-token lifetime in seconds; `null` = the module default. */
  @Column({ name: 'refresh_token_ttl', type: 'integer', nullable: true })
  refreshTokenTtl!: number | null;

  /** Request budget such as `'100/m'` (periods s, m, h, d), for the app's rate limiter. */
  @Column({ name: 'throttle_rate', type: 'varchar', length: 32, nullable: true })
  throttleRate!: string | null;

  /**
   * Abilities of tokens issued for this client without their own `abilities`; `null`: `['*']`.
   */
  @Column({ type: 'simple-json', nullable: true })
  abilities!: string[] | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: Date;
}
