/** The benchmark's report: per-case rows, the phases, the targets; markdown and JSON. */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchCase } from './cases';
import type { Measurement } from './measure';
import type { PhaseResults, TargetRow } from './targets';
import { fixed, formatSpread, Pick, roundRatio, Spread, spread } from './summary';

export interface CaseRow {
  id: string;
  label: string;
  rps: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  sqlPerRequest: Spread;
  cpuUs: Spread;
  hitRate: Spread;
  /** Ratios to the no-auth route of the same round. */
  rpsRatio: Spread;
  p50Ratio: Spread;
  p99Ratio: Spread;
  cpuRatio: Spread;
  badResponses: number;
  runs: Measurement[];
}

export function caseRows(
  cases: readonly BenchCase[],
  results: ReadonlyMap<string, Measurement[]>,
): CaseRow[] {
  const baseline = results.get('noauth') ?? [];
  return cases.map((c) => {
    const runs = results.get(c.id) ?? [];
    const of = (pick: Pick) => spread(runs.map(pick));
    const ratio = (pick: Pick) => roundRatio(runs, baseline, pick);
    return {
      id: c.id,
      label: c.label,
      rps: of((m) => m.rps),
      p50Ms: of((m) => m.p50),
      p99Ms: of((m) => m.p99),
      sqlPerRequest: of((m) => m.queriesPerRequest),
      cpuUs: of((m) => m.cpuPerRequestUs),
      hitRate: of((m) => m.hitRate),
      rpsRatio: ratio((m) => m.rps),
      p50Ratio: ratio((m) => m.p50),
      p99Ratio: ratio((m) => m.p99),
      cpuRatio: ratio((m) => m.cpuPerRequestUs),
      badResponses: runs.reduce((sum, m) => sum + m.errors + m.unexpectedStatus, 0),
      runs,
    };
  });
}

export interface Report {
  date: string;
  machine: Record<string, unknown>;
  method: Record<string, string>;
  rows: CaseRow[];
  phases: PhaseResults;
  targets: TargetRow[];
  durationSeconds: number;
}

export function machineInfo(postgres: string): Record<string, unknown> {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres,
    loadAverageAtEnd: loadavg().map((v) => Number(v.toFixed(2))),
  };
}

const percent = (s: Spread) =>
  Number.isFinite(s.median)
    ? formatSpread({ median: s.median * 100, min: s.min * 100, max: s.max * 100 }, 1) + ' %'
    : '-';

function phaseLines(phases: PhaseResults): string[] {
  const lines: string[] = [];
  const r = phases.revocation;
  if (r) {
    lines.push(
      `**Revocations across processes** (${r.revocations} tokens revoked through process A while both processes served the cached hot set, ${r.load.rps.toFixed(0)} req/s in all; each token probed on process B, acceptances timed on B's clock): ` +
        `accepted on B after A's revoke call had returned (inside the bound, allowed): ${r.acceptedAfterCommit}; ` +
        `**accepted later than the revocation's start + ${r.boundMs} ms: ${r.acceptedPastBound}**; ` +
        `longest observed staleness between ${r.maxStaleMs.atLeast.toFixed(0)} and ${r.maxStaleMs.atMost.toFixed(0)} ms (measured from A's clock after / before its revoke call); broken probes (token not refused at all, or not live and cached at the start): ${r.brokenProbes}.`,
      '',
    );
  }
  const c = phases.cleanup;
  if (c) {
    lines.push(
      `**Cleanup under load**: one \`revokeExpiredTokens()\` run removed ${c.removed} rows in ${(c.cleanupMs / 1000).toFixed(1)} s while the same app authenticated on the cold path; ` +
        `auth before: ${c.before.rps.toFixed(0)} req/s, p99 ${c.before.p99} ms; during: ${c.during.rps.toFixed(0)} req/s, p99 ${c.during.p99} ms ` +
        `(**${fixed(c.during.p99 / c.before.p99)}×**), ${c.during.errors + c.during.unexpectedStatus} bad responses.`,
      '',
    );
  }
  return lines;
}

export function renderMarkdown(report: Report): string {
  const { machine } = report;
  return [
    `# nestjs-durin benchmark (${report.date})`,
    '',
    `Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}, PostgreSQL ${machine.postgres}; load average at the end ${JSON.stringify(machine.loadAverageAtEnd)}; ${report.durationSeconds} s in all.`,
    '',
    ...Object.entries(report.method).map(([key, value]) => `- ${key}: ${value}`),
    '',
    '## Per case: median over rounds (min–max)',
    '',
    '| case | req/s | p50 ms | p99 ms | SQL/req | app CPU µs/req | cache hit rate | bad responses |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...report.rows.map(
      (r) =>
        `| ${r.label} | ${formatSpread(r.rps, 0)} | ${formatSpread(r.p50Ms, 1)} | ${formatSpread(r.p99Ms, 1)} | ${formatSpread(r.sqlPerRequest, 3)} | ${formatSpread(r.cpuUs, 0)} | ${percent(r.hitRate)} | ${r.badResponses} |`,
    ),
    '',
    '## Per case: ratio to the no-auth route of the same round, median (min–max over rounds)',
    '',
    '| case | req/s | p50 | p99 | app CPU/req |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...report.rows.map(
      (r) =>
        `| ${r.label} | ${formatSpread(r.rpsRatio)} | ${formatSpread(r.p50Ratio)} | ${formatSpread(r.p99Ratio)} | ${formatSpread(r.cpuRatio)} |`,
    ),
    '',
    ...phaseLines(report.phases),
    '## Targets',
    '',
    '| issue | target | measured | goal | status |',
    '| ---: | --- | ---: | ---: | --- |',
    ...report.targets.map(
      (t) => `| ${t.issue} | ${t.target} | ${t.measured} | ${t.goal} | ${t.status} |`,
    ),
    '',
  ].join('\n');
}

/** Writes bench/results/<name>.json and <name>.md; returns the markdown. */
export async function writeReport(report: Report, name: 'latest' | 'partial'): Promise<string> {
  const dir = join(__dirname, 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  const markdown = renderMarkdown(report);
  await writeFile(join(dir, `${name}.md`), markdown);
  return markdown;
}
