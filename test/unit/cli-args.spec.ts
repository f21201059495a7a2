import { parseCliArgs } from '../../lib/cli/cli-args';
import { CliError } from '../../lib/cli/cli-error';
import { clientTable, formatSeconds } from '../../lib/cli/client-table';
import { ClientEntity } from '../../lib';

describe('parseCliArgs', () => {
  it('reads a client command with its flags; digits are seconds, "default" is null', () => {
    expect(
      parseCliArgs([
        'client:update',
        'web',
        '--data-source',
        'ds.js',
        '--token-ttl=3600',
        '--refresh-token-ttl',
        'default',
        '--throttle-rate',
        '5/m',
      ]),
    ).toEqual({
      kind: 'client:update',
      dataSource: 'ds.js',
      name: 'web',
      fields: { tokenTtl: 3600, refreshTokenTtl: null, throttleRate: '5/m' },
      cacheChannel: undefined,
    });
  });

  it('passes anything else to the library as written', () => {
    const command = parseCliArgs(['-d', 'ds.ts', 'client:create', 'web', '--token-ttl', '1.5h']);
    expect(command).toMatchObject({ fields: { tokenTtl: '1.5h', throttleRate: undefined } });
  });

  it('reads the flags of list and prune', () => {
    expect(parseCliArgs(['-d', 'ds.js', 'client:list', '--json'])).toEqual({
      kind: 'client:list',
      dataSource: 'ds.js',
      json: true,
    });
    expect(parseCliArgs(['tokens:prune', '-d', 'ds.js'])).toEqual({
      kind: 'tokens:prune',
      dataSource: 'ds.js',
      keepExpiredTokens: false,
    });
    // A retention implies keeping; seconds as digits, as for the lifetimes.
    expect(parseCliArgs(['tokens:prune', '-d', 'ds.js', '--keep-for', '90d'])).toEqual({
      kind: 'tokens:prune',
      dataSource: 'ds.js',
      keepExpiredTokens: true,
      keepFor: '90d',
    });
    expect(parseCliArgs(['tokens:prune', '-d', 'ds.js', '--keep-for', '3600'])).toMatchObject({
      keepFor: 3600,
    });
  });

  it('refuses a flag of another command with exit code 2', () => {
    const attempt = () => parseCliArgs(['-d', 'ds.js', 'client:list', '--keep-expired-tokens']);
    expect(attempt).toThrow(new CliError('client:list does not take --keep-expired-tokens', 2));
    expect(attempt).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});

describe('client table', () => {
  it.each([
    [1, '1s'],
    [59, '59s'],
    [60, '1m'],
    [90, '90s'],
    [5400, '90m'],
    [3600, '1h'],
    [86_400, '1d'],
    [14 * 86_400, '14d'],
    [36 * 3600, '36h'],
  ])('formats %d seconds as %s', (seconds, text) => {
    expect(formatSeconds(seconds)).toBe(text);
  });

  it('aligns the columns and quotes names with spaces or control characters', () => {
    const client = (name: string, tokenTtl: number | null) =>
      Object.assign(new ClientEntity(), {
        name,
        tokenTtl,
        refreshTokenTtl: null,
        throttleRate: null,
        createdAt: new Date(Date.UTC(2030, 0, 1)),
      });
    expect(clientTable([client('web', 900), client('my app\n', null)])).toBe(
      [
        'NAME        TOKEN TTL  REFRESH TTL  THROTTLE RATE  CREATED',
        'web         15m        default      default        2030-01-01T00:00:00.000Z',
        '"my app\\n"  default    default      default        2030-01-01T00:00:00.000Z',
        '',
      ].join('\n'),
    );
    expect(clientTable([])).toBe('No clients.\n');
  });
});
