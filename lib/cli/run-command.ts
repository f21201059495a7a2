import { DataSource } from 'typeorm';
import { DurinCacheService } from '../cache/durin-cache.service';
import { ClientRegistry } from '../clients/client-registry';
import { SystemClock } from '../clock';
import { DurinConfigurationError } from '../errors/durin-configuration.error';
import {
  ClientAlreadyExistsError,
  InvalidClientError,
  TokenStoreUnavailableError,
} from '../errors/token-errors';
import { resolveDurinOptions } from '../options/resolve-options';
import { TokenExpiry } from '../revocation/token-expiry';
import { TokenStore } from '../store/token-store';
import { CliCommand } from './cli-args';
import { CliError, firstLine } from './cli-error';
import { clientJson, clientTable } from './client-table';
import { durinTables } from './durin-tables';

/** The flag (or argument) each client field comes from, for messages that name it. */
const FIELD_FLAGS: Record<string, string> = {
  name: 'name',
  tokenTtl: 'token-ttl',
  refreshTokenTtl: 'refresh-token-ttl',
  throttleRate: 'throttle-rate',
};

/**
 * Runs one command against an initialized DataSource and returns what to print.
 *
 * The library's units are built by hand rather than in a Nest application context: they need
 * only the store, a clock and the cache (events are optional by design), so the command stays
 * free of the app's module graph (and of its options, which may need the app's config), starts
 * fast and logs nothing of its own. Validation, expiry rules and SQL are the very code
 * `TokenService` runs.
 */
export async function runCommand(
  command: Exclude<CliCommand, { kind: 'help' }>,
  dataSource: DataSource,
): Promise<string> {
  const tables = durinTables(dataSource);
  const store = new TokenStore(dataSource, tables.tokens, tables.clients);
  const clock = new SystemClock();
  try {
    const options = resolveDurinOptions({
      userEntity: tables.userEntity,
      keepExpiredTokens:
        command.kind === 'tokens:prune' && command.keepFor !== undefined
          ? { for: command.keepFor }
          : command.kind === 'tokens:prune' && command.keepExpiredTokens,
      cache:
        'cacheChannel' in command && command.cacheChannel !== undefined
          ? { channel: command.cacheChannel }
          : undefined,
    });
    // Never started (no LISTEN): it only publishes, so that running apps on PostgreSQL drop what
    // they cached of a changed or deleted client's tokens, as after TokenService's own calls.
    const cache = new DurinCacheService(options, dataSource);
    const clients = new ClientRegistry(clock, store, cache);
    switch (command.kind) {
      case 'client:create':
        await clients.createClient({ name: command.name, ...command.fields });
        return `Client ${command.name} created!\n`;
      case 'client:update':
        if (!(await clients.updateClient(command.name, command.fields))) {
          throw notFound(command.name);
        }
        return `Client ${command.name} updated!\n`;
      case 'client:delete':
        if (!(await clients.deleteClient(command.name))) throw notFound(command.name);
        return `Client ${command.name} deleted!\n`;
      case 'client:list': {
        const all = await clients.listClients();
        return command.json
          ? `${JSON.stringify(all.map(clientJson), null, 2)}\n`
          : clientTable(all);
      }
      case 'tokens:prune': {
        const count = await new TokenExpiry(options, clock, store, cache).revokeExpiredTokens();
        const noun = count === 1 ? 'token' : 'tokens';
        if (command.keepFor !== undefined) {
          return `Pruned ${count} ${noun} (expired rows kept for ${command.keepFor}).\n`;
        }
        return command.keepExpiredTokens
          ? `Revoked ${count} expired ${noun} (rows kept).\n`
          : `Deleted ${count} expired ${noun}.\n`;
      }
    }
  } catch (error) {
    throw asCliError(error);
  }
}

function notFound(name: string): CliError {
  return new CliError(`name: no client named ${JSON.stringify(name)}`);
}

function asCliError(error: unknown): unknown {
  if (error instanceof InvalidClientError) {
    return new CliError(`${FIELD_FLAGS[error.field] ?? error.field}: ${error.reason}`);
  }
  if (error instanceof ClientAlreadyExistsError) {
    return new CliError(`name: a client named ${JSON.stringify(error.clientName)} exists already`);
  }
  if (error instanceof DurinConfigurationError && error.option === 'keepExpiredTokens.for') {
    const reason = error.message.slice(error.message.indexOf("': ") + 3);
    return new CliError(`keep-for: ${reason}`);
  }
  if (error instanceof DurinConfigurationError && error.option === 'cache.channel') {
    const reason = error.message.slice(error.message.indexOf("': ") + 3);
    return new CliError(`cache-channel: ${reason}`);
  }
  if (error instanceof TokenStoreUnavailableError) {
    const cause = firstLine(error.cause);
    // The usual first-run mistake: the app migrates at start-up, the CLI never does.
    const hint = /no such table|does not exist|doesn't exist/i.test(cause)
      ? ' (have the migrations run?)'
      : '';
    return new CliError(`the database failed: ${cause}${hint}`);
  }
  return error;
}
