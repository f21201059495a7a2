import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { compare, hash } from 'bcryptjs';
import { Repository } from 'typeorm';
import { TokenService, TokenStoreUnavailableError } from '../../../lib';
import { SampleConfig } from '../config/settings';
import { User } from './user.entity';

/** Input of {@link UsersService.create}. */
export interface NewUser {
  username: string;
  password: string;
  isActive?: boolean;
}

@Injectable()
export class UsersService {
  /** Compared against when the username is unknown, so both failures cost the same. */
  private dummyHash: Promise<string> | undefined;

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly config: ConfigService<SampleConfig, true>,
    private readonly tokens: TokenService,
  ) {}

  private get rounds(): number {
    return this.config.get('sample', { infer: true }).bcryptRounds;
  }

  async create(input: NewUser): Promise<User> {
    const user = this.users.create({
      username: input.username,
      passwordHash: await hash(input.password, this.rounds),
      isActive: input.isActive ?? true,
    });
    const saved = await this.users.save(user);
    return this.findById(saved.id) as Promise<User>;
  }

  findById(id: number): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  findByUsername(username: string): Promise<User | null> {
    return this.users.findOneBy({ username });
  }

  /**
   * Enables or disables an account. Tokens of a disabled user are refused from the next request
   * on (`user_inactive`): the guard checks `isActive` on every request, and the token cache, which
   * may still hold the user as it was, is told to forget them.
   */
  async setActive(id: number, isActive: boolean): Promise<void> {
    await this.users.update({ id }, { isActive });
    await this.tokens.invalidateUser(id);
  }

  /**
   * The active user with this username and password, or `null`. An unknown username still costs a
   * bcrypt comparison, so response times do not reveal which usernames exist.
   */
  async verifyCredentials(username: string, password: string): Promise<User | null> {
    let found: User | null;
    try {
      found = await this.users
        .createQueryBuilder('user')
        .addSelect('user.passwordHash')
        .where('user.username = :username', { username })
        .getOne();
    } catch (error) {
      // The users live in the store the tokens do: its outage is a 503 to retry, never a 500.
      throw new TokenStoreUnavailableError(error);
    }
    this.dummyHash ??= hash(randomBytes(16).toString('hex'), this.rounds);
    const matches = await compare(password, found?.passwordHash ?? (await this.dummyHash));
    if (!found || !matches || !found.isActive) {
      return null;
    }
    const { passwordHash: _hash, ...user } = found;
    return Object.assign(new User(), user);
  }
}
