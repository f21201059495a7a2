/**
 * The probe app as a process of its own, for F8 (app-kill.fault-spec.ts): the test SIGKILLs it in
 * the middle of rotations and starts it again. Configuration comes from the environment:
 * `DURIN_FAULT_DB_URL` (PostgreSQL). Prints `LISTENING <port>` once it serves.
 */
import 'reflect-metadata';
import { postgresOptions } from '../../support/databases';
import { startSecurityApp } from '../../security/support/security-app';

async function main(): Promise<void> {
  const url = process.env.DURIN_FAULT_DB_URL;
  if (!url) throw new Error('DURIN_FAULT_DB_URL is not set');
  const app = await startSecurityApp({
    adapter: 'express',
    db: 'postgres',
    connection: postgresOptions(url),
    durin: {
      tokenTtl: '1h',
      refreshTokenTtl: '1d',
      // Longer than a restart: a rotation that committed while its answer was lost with the
      // process is handed out again to the device that presents the parent.
      refreshReuseGraceSeconds: 120,
    },
    typeorm: { extra: { max: 20 } },
  });
  process.stdout.write(`LISTENING ${app.port}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
