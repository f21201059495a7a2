/**
 * The targets of issues 12 and 5, each evaluated from one run: a measured value with its spread
 * over rounds, the goal, and met / not met. A target whose case did not run (or cannot be measured
 * yet) says so and why; it is never counted as met.
 */
import type { Measurement } from './measure';
import type { CleanupResult } from './phases/cleanup';
import type { RevocationResult } from './phases/revocation';
import { formatSpread, Pick, roundRatio, Spread, spread } from './summary';

export interface PhaseResults {
  revocation?: RevocationResult;
  cleanup?: CleanupResult;
}

export interface TargetRow {
  issue: 5 | 10 | 12;
  target: string;
  /** Formatted value: `median (min–max)` over rounds. */
  measured: string;
  goal: string;
  status: 'met' | 'not met' | 'information' | `not measured: ${string}`;
  value: number;
}

type Measured = { value: Spread } | { notMeasured: string };

interface TargetSpec {
  issue: 5 | 10 | 12;
  target: string;
  /** `undefined`: information only (the issue asks to state the value, sets no goal). */
  goal?: number;
  higherIsBetter?: boolean;
  digits?: number;
  measure: () => Measured;
}

const rps: Pick = (m) => m.rps;
const p99: Pick = (m) => m.p99;
const cpu: Pick = (m) => m.cpuPerRequestUs;
const sql: Pick = (m) => m.queriesPerRequest;
const single = (value: number): Measured => ({ value: { median: value, min: value, max: value } });

export function evaluateTargets(
  results: ReadonlyMap<string, Measurement[]>,
  phases: PhaseResults,
): TargetRow[] {
  const missing = (ids: string[]) => ids.filter((id) => (results.get(id) ?? []).length === 0);
  const ratio = (a: string, b: string, pick: Pick): Measured => {
    const absent = missing([a, b]);
    if (absent.length > 0) return { notMeasured: `case ${absent.join(', ')} not run` };
    return { value: roundRatio(results.get(a)!, results.get(b)!, pick) };
  };
  const of = (id: string, pick: Pick): Measured =>
    missing([id]).length > 0
      ? { notMeasured: `case ${id} not run` }
      : { value: spread(results.get(id)!.map(pick)) };
  const specs: TargetSpec[] = [
    {
      issue: 12,
      target: 'cached hot set: req/s × no-auth',
      goal: 0.95,
      measure: () => ratio('cached', 'noauth', rps),
    },
    {
      issue: 12,
      target: 'cached hot set: app CPU/request × no-auth',
      goal: 1.1,
      higherIsBetter: false,
      measure: () => ratio('cached', 'noauth', cpu),
    },
    {
      issue: 12,
      target: 'cached hot set: req/s × floor (a guard that only sets request.user)',
      measure: () => ratio('cached', 'floor-accept', rps),
    },
    {
      issue: 12,
      target: 'cached hot set: app CPU/request × floor',
      measure: () => ratio('cached', 'floor-accept', cpu),
    },
    {
      issue: 12,
      target: 'Zipf(1) over the working set, defaults: req/s × no-auth',
      goal: 0.85,
      measure: () => ratio('zipf', 'noauth', rps),
    },
    {
      issue: 12,
      target: 'Zipf(1): cache hit rate',
      digits: 3,
      measure: () => of('zipf', (m) => m.hitRate),
    },
    {
      issue: 12,
      target: 'Zipf(1) with cache.ttl 60s: req/s × no-auth',
      measure: () => ratio('zipf-60s', 'noauth', rps),
    },
    {
      issue: 12,
      target: 'Zipf(1) with cache.ttl 60s: cache hit rate',
      digits: 3,
      measure: () => of('zipf-60s', (m) => m.hitRate),
    },
    {
      issue: 12,
      target: 'uniform over the working set, defaults: req/s × no-auth',
      measure: () => ratio('uniform', 'noauth', rps),
    },
    {
      issue: 12,
      target: 'uniform: cache hit rate',
      digits: 3,
      measure: () => of('uniform', (m) => m.hitRate),
    },
    {
      issue: 12,
      target: 'cold: SQL statements per request',
      goal: 1,
      higherIsBetter: false,
      digits: 3,
      measure: () => of('cold', sql),
    },
    {
      issue: 12,
      target: 'cold: req/s × one-query naive guard',
      goal: 2,
      measure: () => ratio('cold', 'naive', rps),
    },
    {
      issue: 12,
      target: 'cold: req/s × two-query naive guard (findOne, the first round’s peer)',
      measure: () => ratio('cold', 'naive-find-one', rps),
    },
    {
      issue: 12,
      target: 'flood of 100 000 distinct forged tokens: SQL per request',
      goal: 0,
      higherIsBetter: false,
      digits: 3,
      measure: () => of('flood-forged', sql),
    },
    {
      issue: 12,
      target: 'flood of 100 000 distinct forged tokens: req/s × no-auth',
      goal: 0.9,
      measure: () => ratio('flood-forged', 'noauth', rps),
    },
    {
      issue: 12,
      target: "forged flood: req/s × floor (a guard that only throws Nest's 401)",
      measure: () => ratio('flood-forged', 'floor-refuse', rps),
    },
    {
      issue: 12,
      target: "floor: a guard that only throws Nest's 401: req/s × no-auth",
      measure: () => ratio('floor-refuse', 'noauth', rps),
    },
    {
      issue: 12,
      target: 'two processes: req/s × one process (cached hot set)',
      goal: 1.4,
      measure: () => ratio('multi-2', 'multi-1', rps),
    },
    {
      issue: 12,
      target: 'two processes: revoked tokens accepted past commit + bound',
      goal: 0,
      higherIsBetter: false,
      digits: 0,
      measure: () =>
        phases.revocation
          ? single(phases.revocation.acceptedPastBound + phases.revocation.brokenProbes)
          : { notMeasured: 'phase revocation not run' },
    },
    {
      issue: 12,
      target: 'cleanup of the expired rows: auth p99 during × before',
      goal: 2,
      higherIsBetter: false,
      measure: () =>
        phases.cleanup
          ? single(phases.cleanup.during.p99 / phases.cleanup.before.p99)
          : { notMeasured: 'phase cleanup not run' },
    },
    {
      issue: 10,
      target: 'throttled: DurinThrottlerGuard + cached guard × cached guard alone (req/s)',
      goal: 0.9,
      measure: () => ratio('throttled', 'cached', rps),
    },
    {
      issue: 10,
      target: 'throttled: app CPU/request × cached guard alone',
      goal: 1.1,
      higherIsBetter: false,
      measure: () => ratio('throttled', 'cached', cpu),
    },
    {
      issue: 5,
      target: 'cached: req/s × passport-jwt with a KeyObject',
      goal: 1.2,
      measure: () => ratio('cached', 'jwt-key', rps),
    },
    {
      issue: 5,
      target: 'autoRefresh on vs off, defaults, cache on (req/s)',
      goal: 0.95,
      measure: () => ratio('cached-ar', 'cached', rps),
    },
    {
      issue: 5,
      target: 'worst case: autoRefresh on vs off, a write due on every request (req/s)',
      goal: 0.95,
      measure: () => ratio('cold-ar', 'cold-due', rps),
    },
    {
      issue: 5,
      target: 'p99 with the large table × p99 with 1 000 rows',
      goal: 1.2,
      higherIsBetter: false,
      measure: () => ratio('table-1m', 'table-1k', p99),
    },
    {
      issue: 5,
      target: 'flood of junk tokens (bad checksum): SQL per request',
      goal: 0,
      higherIsBetter: false,
      digits: 3,
      measure: () => of('flood-junk', sql),
    },
  ];
  return specs.map((spec) => evaluate(spec));
}

function evaluate(spec: TargetSpec): TargetRow {
  const higher = spec.higherIsBetter ?? true;
  const goal = spec.goal === undefined ? '(state it)' : `${higher ? '≥' : '≤'} ${spec.goal}`;
  const base = { issue: spec.issue, target: spec.target, goal };
  const result = spec.measure();
  if ('notMeasured' in result) {
    return { ...base, measured: '-', value: NaN, status: `not measured: ${result.notMeasured}` };
  }
  const value = result.value.median;
  const measured = formatSpread(result.value, spec.digits ?? 2);
  if (spec.goal === undefined) return { ...base, measured, value, status: 'information' };
  // Per-request SQL counts are exact up to the requests cut off at the end of a run.
  const met = higher ? value >= spec.goal : value <= spec.goal * 1.01 + 0.001;
  return {
    ...base,
    measured,
    value,
    status: Number.isNaN(value) ? 'not met' : met ? 'met' : 'not met',
  };
}
