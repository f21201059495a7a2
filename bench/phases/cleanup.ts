/**
 * Cleanup under load: one `revokeExpiredTokens()` run over the cleanup database's expired rows
 * while the same app authenticates on the cold path (cache off, so every request reads the table
 * being cleaned). The auth p99 during the run is compared with a run of the same load just before.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LoadSpec, measure, Measurement, startRun } from '../measure';
import { post } from '../processes';

/** Longest the cleanup may take before the load generator gives up on it. */
const MAX_CLEANUP_S = 600;

export interface CleanupResult {
  removed: number;
  cleanupMs: number;
  before: Measurement;
  during: Measurement;
}

export async function runCleanupPhase(
  load: LoadSpec,
  port: number,
  durationS: number,
): Promise<CleanupResult> {
  await measure(load, [port], -1, 1); // warm-up: the app has served nothing yet
  const before = await measure(load, [port], -1, durationS);
  const run = await startRun(load, [port], -1, MAX_CLEANUP_S);
  // Let every connection open and the load settle before the cleanup starts.
  await sleep(500);
  let cleanup: { removed: number; ms: number };
  try {
    cleanup = await post(port, '/bench/cleanup');
  } finally {
    run.stop();
  }
  return { removed: cleanup.removed, cleanupMs: cleanup.ms, before, during: await run.result };
}
