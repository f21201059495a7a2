/**
 * The benchmark's knobs, all from the environment. `BENCH_QUICK=1` shrinks every size and the
 * timing for a smoke run on a busy machine (its figures mean nothing); each knob still wins.
 */
export interface BenchConfig {
  /** Rounds of the interleaved cases (the spread is min–max over them). */
  rounds: number;
  /** Seconds per run of a case. */
  durationS: number;
  /** Seconds of warm-up per case before the first round. */
  warmupS: number;
  /** Case and phase ids to run (`BENCH_CASES=noauth,cached,revocation`); undefined: all. */
  only: string[] | undefined;
  /** Distinct live tokens of the working-set cases (Zipf, uniform, 1M rows, cold). */
  workingSet: number;
  /** Rows in the "large table" database; the working set is spread through them. */
  largeTable: number;
  /** Expired rows the cleanup phase removes in one `revokeExpiredTokens()` run. */
  cleanupRows: number;
  /** Tokens revoked through one process while the other one serves them. */
  revocations: number;
  /** Draws of the generated Zipf / uniform sequences (cycled; long enough not to repeat in a run). */
  draws: number;
  /** Extra node arguments for the app processes, e.g. `--cpu-prof`. */
  nodeArgs: string[];
  /**
   * `latest` for a full run with the default sizes; `partial` when a knob shrank or selected
   * something, so a quick look never overwrites the published results.
   */
  resultsName: 'latest' | 'partial';
}

/** Knobs that change what is measured (timing and profiling knobs do not). */
const SHAPING_KNOBS = [
  'BENCH_QUICK',
  'BENCH_CASES',
  'BENCH_WORKING_SET',
  'BENCH_LARGE_TABLE',
  'BENCH_CLEANUP_ROWS',
  'BENCH_REVOCATIONS',
  'BENCH_DRAWS',
  'BENCH_ROUNDS',
  'BENCH_DURATION',
];

function numberFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number (got ${JSON.stringify(raw)})`);
  }
  return value;
}

export function readBenchConfig(): BenchConfig {
  const quick = process.env.BENCH_QUICK === '1';
  const config: BenchConfig = {
    rounds: numberFrom('BENCH_ROUNDS', quick ? 1 : 5),
    durationS: numberFrom('BENCH_DURATION', quick ? 1 : 4),
    warmupS: numberFrom('BENCH_WARMUP', 1),
    only: process.env.BENCH_CASES?.split(',')
      .map((id) => id.trim())
      .filter(Boolean),
    workingSet: numberFrom('BENCH_WORKING_SET', quick ? 5_000 : 100_000),
    largeTable: numberFrom('BENCH_LARGE_TABLE', quick ? 50_000 : 1_000_000),
    cleanupRows: numberFrom('BENCH_CLEANUP_ROWS', quick ? 50_000 : 1_000_000),
    revocations: numberFrom('BENCH_REVOCATIONS', quick ? 5 : 20),
    draws: numberFrom('BENCH_DRAWS', quick ? 100_000 : 1_000_000),
    nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    resultsName: SHAPING_KNOBS.some((name) => process.env[name]) ? 'partial' : 'latest',
  };
  if (config.largeTable < config.workingSet) {
    throw new RangeError('BENCH_LARGE_TABLE must be at least BENCH_WORKING_SET');
  }
  return config;
}
