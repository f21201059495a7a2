/** One timed run of a case: autocannon against its app(s), the apps' counters read around it. */
import autocannon from 'autocannon';
import { appStats, AppStats } from './processes';

/** Connections per case, split evenly over the apps of a case. */
export const CONNECTIONS = 50;

/** What the load generator sends and expects. */
export interface LoadSpec {
  path: string;
  /** Headers of the next request. */
  next: () => Record<string, string>;
  expect: 200 | 401;
}

export interface Measurement {
  round: number;
  rps: number;
  /** With several apps: the slower app's. */
  p50: number;
  p99: number;
  requests: number;
  queriesPerRequest: number;
  /** App-process CPU time per request: far less disturbed by other load than req/s. */
  cpuPerRequestUs: number;
  /** Cache hits / (hits + misses) during the run; NaN when the route never asked the cache. */
  hitRate: number;
  errors: number;
  unexpectedStatus: number;
}

/** A run in progress: `stop()` ends it early (the cleanup phase runs until its work is done). */
export interface Run {
  stop(): void;
  result: Promise<Measurement>;
}

/**
 * Starts one run of `spec` against every port at once (connections split over them) and resolves
 * with the aggregate: req/s summed, latency of the slowest app, SQL / CPU / cache counters summed
 * over the apps. Each port must be an app in its own process (CPU is read per process).
 */
export async function startRun(
  spec: LoadSpec,
  ports: readonly number[],
  round: number,
  durationS: number,
): Promise<Run> {
  const before = await Promise.all(ports.map((port) => appStats(port, true)));
  const connections = Math.max(1, Math.round(CONNECTIONS / ports.length));
  const instances = ports.map((port) =>
    autocannon({
      url: `http://127.0.0.1:${port}`,
      connections,
      duration: durationS,
      requests: [
        {
          method: 'GET',
          path: spec.path,
          setupRequest: (request) => ({ ...request, headers: spec.next() }),
        },
      ],
    }),
  );
  const result = (async (): Promise<Measurement> => {
    const results = await Promise.all(instances);
    const after = await Promise.all(ports.map((port) => appStats(port)));
    return aggregate(spec, round, results, before, after);
  })();
  return { stop: () => instances.forEach((instance) => instance.stop()), result };
}

/** One full run of `durationS` seconds. */
export async function measure(
  spec: LoadSpec,
  ports: readonly number[],
  round: number,
  durationS: number,
): Promise<Measurement> {
  return (await startRun(spec, ports, round, durationS)).result;
}

function aggregate(
  spec: LoadSpec,
  round: number,
  results: autocannon.Result[],
  before: AppStats[],
  after: AppStats[],
): Measurement {
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const delta = (pick: (s: AppStats) => number) =>
    sum(after.map((s, i) => pick(s) - pick(before[i])));
  const requests = sum(results.map((r) => r.requests.total));
  // Per request sent: the apps also served the requests still in flight when the run stopped.
  const sent = Math.max(sum(results.map((r) => r.requests.sent)), 1);
  const expected = sum(
    results.map((r) => (spec.expect === 200 ? r['2xx'] : (r.statusCodeStats['401']?.count ?? 0))),
  );
  const hits = delta((s) => s.cache.hits);
  const lookups = hits + delta((s) => s.cache.misses);
  return {
    round,
    rps: sum(results.map((r) => r.requests.average)),
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    requests,
    queriesPerRequest: delta((s) => s.queries) / sent,
    cpuPerRequestUs: delta((s) => s.cpuMicros) / sent,
    hitRate: lookups === 0 ? NaN : hits / lookups,
    errors: sum(results.map((r) => r.errors + r.timeouts)),
    unexpectedStatus: requests - expected,
  };
}
