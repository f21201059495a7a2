import { ClientEntity } from '../entities/client.entity';

const UNITS: Array<[number, string]> = [
  [86_400, 'd'],
  [3_600, 'h'],
  [60, 'm'],
];

/** Seconds as the largest whole unit (`1209600` → `14d`), the form the flags take. */
export function formatSeconds(seconds: number): string {
  for (const [size, unit] of UNITS) {
    if (seconds % size === 0 && seconds >= size) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** One client as `client:list --json` prints it: lifetimes in seconds, `null` = module default. */
export function clientJson(client: ClientEntity): Record<string, unknown> {
  return {
    name: client.name,
    tokenTtl: client.tokenTtl,
    refreshTokenTtl: client.refreshTokenTtl,
    throttleRate: client.throttleRate,
    createdAt: client.createdAt.toISOString(),
  };
}

/** The clients as an aligned text table; `default` marks a value left to the module. */
export function clientTable(clients: readonly ClientEntity[]): string {
  if (clients.length === 0) return 'No clients.\n';
  const rows = [
    ['NAME', 'TOKEN TTL', 'REFRESH TTL', 'THROTTLE RATE', 'CREATED'],
    ...clients.map((client) => [
      // A name may hold any printable character; JSON quoting keeps odd ones visible.
      /^[\x21-\x7e]+$/.test(client.name) ? client.name : JSON.stringify(client.name),
      client.tokenTtl === null ? 'default' : formatSeconds(client.tokenTtl),
      client.refreshTokenTtl === null ? 'default' : formatSeconds(client.refreshTokenTtl),
      client.throttleRate ?? 'default',
      client.createdAt.toISOString(),
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column])))
        .join('  '),
    )
    .join('\n')
    .concat('\n');
}
