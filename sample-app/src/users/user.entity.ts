import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The app's own user. nestjs-durin only needs its primary key (tokens reference it) and reads
 * `isActive` to refuse tokens of disabled accounts.
 */
@Entity('app_user')
export class User {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index({ unique: true })
  @Column({ type: 'varchar', length: 150 })
  username!: string;

  /**
   * bcrypt hash. Not selected by default, so the user that the guard loads with each token (and
   * hands to `@CurrentUser()`) never carries it.
   */
  @Column({ name: 'password_hash', type: 'varchar', length: 100, select: false })
  passwordHash!: string;

  @Column({ name: 'is_active', type: 'boolean' })
  isActive!: boolean;
}

/** What the API shows of a user. */
export interface PublicUser {
  id: number;
  username: string;
}

export function toPublicUser(user: User): PublicUser {
  return { id: user.id, username: user.username };
}
