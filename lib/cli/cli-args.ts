import { parseArgs } from 'node:util';
import { CliError } from './cli-error';

/** What a client command may change; `undefined`: not given, `null`: back to the default. */
export interface ClientFlags {
  tokenTtl?: number | string | null;
  refreshTokenTtl?: number | string | null;
  throttleRate?: string | null;
}

export type CliCommand =
  | { kind: 'help' }
  | { kind: 'client:create'; dataSource: string; name: string; fields: ClientFlags }
  | {
      kind: 'client:update';
      dataSource: string;
      name: string;
      fields: ClientFlags;
      cacheChannel: string | undefined;
    }
  | { kind: 'client:delete'; dataSource: string; name: string; cacheChannel: string | undefined }
  | { kind: 'client:list'; dataSource: string; json: boolean }
  | {
      kind: 'tokens:prune';
      dataSource: string;
      keepExpiredTokens: boolean;
      /** `--keep-for`: the retention of kept rows (implies keeping them). */
      keepFor?: number | string;
    };

export const USAGE = `Usage: durin -d <data-source file> <command> [options]

Manages nestjs-durin clients and tokens in the database of a TypeORM DataSource.

Commands:
  client:create <name> [--token-ttl <duration>] [--refresh-token-ttl <duration>]
                       [--throttle-rate <rate>]
                              Creates a client.
  client:list [--json]        Lists the clients.
  client:update <name> [--token-ttl <duration>] [--refresh-token-ttl <duration>]
                       [--throttle-rate <rate>]
                              Changes a client; the value 'default' clears a field.
  client:delete <name>        Deletes a client and every token issued for it.
  tokens:prune [--keep-expired-tokens] [--keep-for 90d]
                              Deletes expired tokens (with --keep-expired-tokens: marks
                              them revoked and keeps the rows; with --keep-for: keeps them
                              that long, then deletes them) and prints the count.

Options:
  -d, --dataSource <file>     Module exporting the app's TypeORM DataSource: .js, or .ts
                              when ts-node is installed.
  --cache-channel <name>      client:update and client:delete on PostgreSQL tell the apps'
                              token caches to drop their entries on this NOTIFY channel
                              (default durin_cache, the cache.channel option's default).
  -h, --help                  Shows this help.

Durations: whole seconds (3600) or a number and a unit s, m, h, d (15m, 14d).
Rates: <n>/<s|m|h|d> (100/m). Without a value, the module's default applies.
`;

const OPTIONS = {
  dataSource: { type: 'string', short: 'd' },
  'data-source': { type: 'string' },
  'token-ttl': { type: 'string' },
  'refresh-token-ttl': { type: 'string' },
  'throttle-rate': { type: 'string' },
  json: { type: 'boolean' },
  'keep-expired-tokens': { type: 'boolean' },
  'keep-for': { type: 'string' },
  'cache-channel': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionName = keyof typeof OPTIONS;

const CLIENT_FIELD_FLAGS: OptionName[] = ['token-ttl', 'refresh-token-ttl', 'throttle-rate'];

/** The flags each command takes besides the data source and help. */
const COMMAND_FLAGS: Record<Exclude<CliCommand['kind'], 'help'>, OptionName[]> = {
  'client:create': CLIENT_FIELD_FLAGS,
  'client:update': [...CLIENT_FIELD_FLAGS, 'cache-channel'],
  'client:delete': ['cache-channel'],
  'client:list': ['json'],
  'tokens:prune': ['keep-expired-tokens', 'keep-for'],
};

const NEEDS_NAME = new Set(['client:create', 'client:update', 'client:delete']);

/** Parses the command line; throws a {@link CliError} with exit code 2 on any misuse. */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // Node's own text, cut before its advice about `--`, which does not apply here.
    const message = error instanceof Error ? error.message.split('. ')[0] : String(error);
    throw new CliError(message, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  const [command, ...rest] = positionals;
  if (command === undefined) throw new CliError('missing command', 2);
  if (!isCommand(command)) throw new CliError(`unknown command '${command}'`, 2);

  const allowed = new Set<string>(['dataSource', 'data-source', 'help', ...COMMAND_FLAGS[command]]);
  const stray = Object.keys(values).find((flag) => !allowed.has(flag));
  if (stray !== undefined) throw new CliError(`${command} does not take --${stray}`, 2);

  const expected = NEEDS_NAME.has(command) ? 1 : 0;
  if (rest.length < expected) throw new CliError(`${command} needs the client's name`, 2);
  if (rest.length > expected) throw new CliError(`unexpected argument '${rest[expected]}'`, 2);

  const dataSource = values.dataSource ?? values['data-source'];
  if (dataSource === undefined || dataSource === '') {
    throw new CliError('missing -d, --dataSource <file>', 2);
  }
  switch (command) {
    case 'client:list':
      return { kind: command, dataSource, json: values.json === true };
    case 'tokens:prune':
      return {
        kind: command,
        dataSource,
        keepExpiredTokens:
          values['keep-expired-tokens'] === true || values['keep-for'] !== undefined,
        ...(values['keep-for'] === undefined
          ? {}
          : { keepFor: duration(values['keep-for']) ?? values['keep-for'] }),
      };
    case 'client:delete':
      return { kind: command, dataSource, name: rest[0], cacheChannel: values['cache-channel'] };
    case 'client:create':
    case 'client:update': {
      const fields: ClientFlags = {
        tokenTtl: duration(values['token-ttl']),
        refreshTokenTtl: duration(values['refresh-token-ttl']),
        throttleRate: cleared(values['throttle-rate']),
      };
      if (command === 'client:update' && Object.values(fields).every((v) => v === undefined)) {
        throw new CliError(
          'client:update needs at least one of --token-ttl, --refresh-token-ttl, --throttle-rate',
          2,
        );
      }
      return command === 'client:create'
        ? { kind: command, dataSource, name: rest[0], fields }
        : {
            kind: command,
            dataSource,
            name: rest[0],
            fields,
            cacheChannel: values['cache-channel'],
          };
    }
  }
}

function isCommand(value: string): value is Exclude<CliCommand['kind'], 'help'> {
  return Object.prototype.hasOwnProperty.call(COMMAND_FLAGS, value);
}

/** `'default'` stands for `null` (the module default), which a command line cannot spell. */
function cleared(value: string | undefined): string | null | undefined {
  return value === 'default' ? null : value;
}

/**
 * Plain digits are seconds, as the number `3600` is for `createClient`; anything else goes to the
 * library's own duration check as written, so both accept exactly the same lifetimes.
 */
function duration(value: string | undefined): number | string | null | undefined {
  const kept = cleared(value);
  return typeof kept === 'string' && /^\d{1,15}$/.test(kept) ? Number(kept) : kept;
}
