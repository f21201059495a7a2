import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ClientAlreadyExistsError, CreateClientOptions, TokenService } from '../../../lib';
import { SampleConfig } from '../config/settings';
import { API_ACCESS_CLIENT_OPTIONS, DEMO_USER, LOGIN_CLIENTS } from '../sample.constants';
import { UsersService } from '../users/users.service';

/**
 * Creates what the sample needs to be tried right away: the clients and a demo user. Runs on every
 * start after the migrations and only adds what is missing, so a restart changes nothing.
 */
@Injectable()
export class SeedService implements OnApplicationBootstrap {
  private readonly logger = new Logger(SeedService.name);

  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokenService,
    private readonly config: ConfigService<SampleConfig, true>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.get('sample', { infer: true }).seedDemoData) {
      await this.seed();
    }
  }

  /** Adds the missing clients and the demo user; returns the names of what it created. */
  async seed(): Promise<string[]> {
    const created: string[] = [];
    for (const client of [...LOGIN_CLIENTS, API_ACCESS_CLIENT_OPTIONS]) {
      if (await this.createClientIfMissing(client)) {
        created.push(`client ${client.name}`);
      }
    }
    if (!(await this.users.findByUsername(DEMO_USER.username))) {
      await this.users.create(DEMO_USER);
      created.push(`user ${DEMO_USER.username}`);
      this.logger.log(
        `Created the demo user: username "${DEMO_USER.username}", password "${DEMO_USER.password}"`,
      );
    }
    if (created.length > 0) {
      this.logger.log(`Seeded ${created.join(', ')}`);
    }
    return created;
  }

  private async createClientIfMissing(client: CreateClientOptions): Promise<boolean> {
    if (await this.tokens.getClient(client.name)) {
      return false;
    }
    try {
      await this.tokens.createClient(client);
      return true;
    } catch (error) {
      // Another instance starting on the same database created it first.
      if (error instanceof ClientAlreadyExistsError) return false;
      throw error;
    }
  }
}
