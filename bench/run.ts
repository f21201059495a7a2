/**
 * `npm run bench`: nestjs-durin against the no-auth route and its peers, on one machine in one run
 * (issues 5 and 12). The method is described in docs/performance.md, "The benchmark".
 *
 * 1. Generates the tokens and the seeded request sequences (datasets.ts, draws.ts), starts the
 *    embedded PostgreSQL of the tests and seeds only the databases the selected cases use (seed.ts).
 * 2. Starts the app processes (processes.ts, app/server.ts): `main` hosts one Nest app per
 *    configuration; `peer-a` and `peer-b` are the two instances of the multi-process cases.
 * 3. Runs every case (cases.ts) round after round, interleaved, order reversed every other round
 *    (measure.ts); then the phases: revocations across processes, cleanup under load (phases/).
 * 4. Reports medians, spreads and ratios to the no-auth route of the same round, and every target
 *    (targets.ts, report.ts) to bench/results/latest.md and latest.json.
 *
 * Knobs: see config.ts (BENCH_ROUNDS, BENCH_DURATION, BENCH_CASES, BENCH_QUICK, sizes).
 */
import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerDurinUserEntity } from '../lib';
import { User } from '../sample-app/src/users/user.entity';
import { startTestPostgres } from '../test/support/postgres';
import type { BenchAppConfig } from './app/server';
import { appsOf, BENCH_APPS, BenchCase, benchCases, phaseLoads, ProcessName } from './cases';
import { BenchConfig, readBenchConfig } from './config';
import { BenchData, DatabaseName, generateData, seedDatabase } from './datasets';
import { CONNECTIONS, measure, Measurement } from './measure';
import { runCleanupPhase } from './phases/cleanup';
import { runRevocationPhase } from './phases/revocation';
import { AppProcess, appStats, startAppProcess, stopAppProcess } from './processes';
import { caseRows, machineInfo, Report, writeReport } from './report';
import { createDatabase } from './seed';
import { evaluateTargets, PhaseResults } from './targets';

const startedAt = Date.now();
const log = (message: string) =>
  process.stdout.write(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0)}s] ${message}\n`);

/** The ratio baseline: always measured, whatever BENCH_CASES selects. */
const BASELINE = 'noauth';
/** Runs after the rounds that are not rows (phases/); selectable in BENCH_CASES too. */
const PHASES = ['revocation', 'cleanup'];

function selectCases(data: BenchData, cookieName: string, config: BenchConfig) {
  const all = benchCases(data, cookieName, config.largeTable);
  const only = config.only;
  const known = new Set([...all.map((c) => c.id), ...PHASES]);
  const unknown = only?.filter((id) => !known.has(id)) ?? [];
  if (unknown.length > 0) {
    throw new RangeError(
      `BENCH_CASES: unknown ${unknown.join(', ')} (known: ${[...known].join(', ')})`,
    );
  }
  return only ? all.filter((c) => c.id === BASELINE || only.includes(c.id)) : all;
}

function describe(m: Measurement): string {
  const bad = m.errors + m.unexpectedStatus;
  const hits = Number.isNaN(m.hitRate) ? '' : `  hits ${(m.hitRate * 100).toFixed(1)} %`;
  return (
    `${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms  ` +
    `${m.queriesPerRequest.toFixed(3)} SQL/req  ${m.cpuPerRequestUs.toFixed(0)} µs CPU/req${hits}` +
    (bad > 0 ? `  (errors ${m.errors}, unexpected status ${m.unexpectedStatus})` : '')
  );
}

async function main(): Promise<void> {
  const config = readBenchConfig();
  registerDurinUserEntity(User);
  const runPhase = (id: string) => !config.only || config.only.includes(id);

  log(`generating ${config.workingSet} tokens and ${config.draws} draws per sequence`);
  const data = generateData(config);
  const planned = selectCases(data, '', config);
  const appNames = new Set(planned.flatMap(appsOf));
  if (runPhase('revocation')) ['multi-a', 'multi-b'].forEach((name) => appNames.add(name));
  if (runPhase('cleanup')) appNames.add('uncached-cleanup');
  const apps = BENCH_APPS.filter((app) => appNames.has(app.name));
  const databases = [...new Set(apps.map((app) => app.database))];

  log('starting PostgreSQL');
  const server = await startTestPostgres();
  const processes: AppProcess[] = [];
  try {
    const urls = {} as Record<DatabaseName, string>;
    let postgres = '';
    for (const name of databases) {
      const seededAt = Date.now();
      urls[name] = await createDatabase(server.url, `bench_${name}`);
      postgres = await seedDatabase(name, urls[name], data, config);
      log(`seeded database ${name} in ${((Date.now() - seededAt) / 1000).toFixed(1)} s`);
    }

    log(`starting the app processes (${apps.length} apps)`);
    const byProcess = new Map<ProcessName, BenchAppConfig[]>();
    for (const { database, process: name, ...app } of apps) {
      byProcess.set(name, [
        ...(byProcess.get(name) ?? []),
        { ...app, databaseUrl: urls[database] },
      ]);
    }
    processes.push(
      ...(await Promise.all(
        [...byProcess.values()].map((configs) => startAppProcess(configs, config.nodeArgs)),
      )),
    );
    const ports: Record<string, number> = Object.assign({}, ...processes.map((p) => p.ports));
    const portsOf = (c: BenchCase) => appsOf(c).map((name) => ports[name]);
    const cookieName = (await appStats(ports.cached)).cookieName;
    const cases = selectCases(data, cookieName, config);

    log(`warming up (${config.warmupS} s per case)`);
    for (const c of cases) await measure(c, portsOf(c), -1, config.warmupS);

    const results = new Map<string, Measurement[]>(cases.map((c) => [c.id, []]));
    for (let round = 0; round < config.rounds; round += 1) {
      const order = round % 2 === 0 ? cases : [...cases].reverse();
      for (const c of order) {
        if (c.primeS) await measure(c, portsOf(c), -1, c.primeS);
        const m = await measure(c, portsOf(c), round, config.durationS);
        results.get(c.id)!.push(m);
        log(`round ${round + 1}/${config.rounds} ${c.id.padEnd(17)} ${describe(m)}`);
        await sleep(200);
      }
    }

    const phases: PhaseResults = {};
    const loads = phaseLoads(data);
    if (runPhase('revocation')) {
      log(`revocation phase: ${data.probes.length} tokens revoked through one process`);
      phases.revocation = await runRevocationPhase(
        data.probes,
        loads.revocation,
        ports['multi-a'],
        ports['multi-b'],
      );
      log(`revocation phase: ${JSON.stringify({ ...phases.revocation, load: undefined })}`);
    }
    if (runPhase('cleanup')) {
      log(`cleanup phase: ${config.cleanupRows} expired rows`);
      phases.cleanup = await runCleanupPhase(
        loads.cleanup,
        ports['uncached-cleanup'],
        config.durationS,
      );
      const { removed, cleanupMs, before, during } = phases.cleanup;
      log(
        `cleanup phase: ${removed} rows in ${cleanupMs.toFixed(0)} ms; before ${describe(before)}`,
      );
      log(`cleanup phase: during ${describe(during)}`);
    }

    const report: Report = {
      date: new Date().toISOString(),
      machine: machineInfo(postgres),
      method: method(config, data),
      rows: caseRows(cases, results),
      phases,
      targets: evaluateTargets(results, phases),
      durationSeconds: Math.round((Date.now() - startedAt) / 1000),
    };
    process.stdout.write(`\n${await writeReport(report, config.resultsName)}\n`);
  } finally {
    for (const p of processes) await stopAppProcess(p);
    await server.stop();
  }
}

function method(
  config: ReturnType<typeof readBenchConfig>,
  data: BenchData,
): Record<string, string> {
  return {
    tool: `autocannon, ${CONNECTIONS} connections per case (split evenly over the processes of a multi-process case), ${config.durationS} s per run, ${config.rounds} rounds, cases interleaved (order reversed every other round), ${config.warmupS} s warm-up per case, a full GC in the app processes before each run`,
    app: 'sample-app AppModule (Express, global AuthGuard) + bench routes, NODE_ENV=production; process "main" hosts one Nest app per configuration, the two multi-process cases use two more processes with one app each; autocannon in the orchestrating process; all on 127.0.0.1',
    database:
      'embedded PostgreSQL (same as the tests: fsync off, synchronous_commit off), on the same machine',
    data: `${data.workingSet.length} live tokens in the main database (working set), the same spread in ten slices through the large table (${config.largeTable} rows), 1 000 in the small one, ${config.cleanupRows} expired rows + ${data.cleanupLive.length} live ones in the cleanup database; Zipf(1) and uniform draws over the working set from a seeded PRNG (${config.draws} draws, cycled)`,
    ratios:
      'per round, case / no-auth route of the same round; reported as median (min–max over rounds). SQL per request = statements counted by a TypeORM logger / requests sent; app CPU per request = CPU time of the app process (process.cpuUsage) / requests sent; cache hit rate = hits / (hits + misses) of the app’s cache during the run',
    priming:
      'the working-set cases (Zipf, uniform) run 2 s of unmeasured load right before each measured run, so that their cache (ttl 5 s, emptied while the other cases ran) starts near its steady state',
    defaults:
      'nestjs-durin defaults unless stated: cache { max 10000, ttl 5s, invalidation auto (LISTEN/NOTIFY) }, autoRefreshInterval 1m; the cold, naive and table cases run with the cache off and autoRefreshInterval 1h so that they measure the lookup alone, the two "write due" cases with 1s so that every request also writes',
  };
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
