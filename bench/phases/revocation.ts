/**
 * Revocations under load across two processes. While both processes of the pair serve the cached
 * hot set, tokens (never used by any other case) are revoked one after another through process A;
 * for each, process B is probed with that token before, during and well past the bound, and every
 * acceptance is timed on B's clock (one machine, one wall clock).
 *
 * A request B accepted later than `before + bound` is a violation, where `before` is A's clock just
 * before it called `revokeToken`: earlier than the commit, so the count can only over-count.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SeedToken } from '../seed';
import { LoadSpec, Measurement, startRun } from '../measure';
import { post } from '../processes';

/**
 * The documented bound (docs/performance.md, "Several instances: the staleness bound S"): with
 * the channel up, S is the channel's delivery latency, which the test suite asserts below 2 s.
 */
export const REVOCATION_BOUND_MS = 2_000;
/** Start of one token's probe after the previous one's (the probes overlap). */
const SPACING_MS = 150;
/** Requests in flight per probed token. */
const PROBE_LOOPS = 2;
/** How long after `after + bound` each probe keeps asking. */
const PROBE_TAIL_MS = 300;

export interface RevocationResult {
  revocations: number;
  boundMs: number;
  /** Accepted on B after A's `revokeToken` had returned (so after the commit): allowed up to the bound. */
  acceptedAfterCommit: number;
  /** Accepted on B later than the revocation's start + the bound. Must be 0. */
  acceptedPastBound: number;
  /**
   * Longest observed staleness, bracketed: B's last acceptance of a token − A's clock after its
   * `revokeToken` returned (a lower bound), and − A's clock before the call (an upper bound: the
   * call itself takes time under load). 0 when B accepted nothing after that point.
   */
  maxStaleMs: { atLeast: number; atMost: number };
  /** Probes that were never refused on B, or whose token was not live and cached at the start. */
  brokenProbes: number;
  /** The load meanwhile (both processes). */
  load: Measurement;
}

interface ProbeOutcome {
  accepted: number[];
  refused: number;
  before: number;
  after: number;
  valid: boolean;
}

async function probeOnce(port: number, raw: string): Promise<{ status: number; at?: number }> {
  const response = await fetch(`http://127.0.0.1:${port}/bench/durin-at`, {
    headers: { authorization: `Bearer ${raw}` },
  });
  const body = (await response.json()) as { at?: number };
  return { status: response.status, at: body.at };
}

async function probe(token: SeedToken, portA: number, portB: number): Promise<ProbeOutcome> {
  // Fills B's cache with the live token: from here on B answers it from memory.
  const warm = await probeOnce(portB, token.raw);
  const outcome: ProbeOutcome = { accepted: [], refused: 0, before: 0, after: 0, valid: true };
  if (warm.status !== 200) outcome.valid = false;
  let stopAt = Number.POSITIVE_INFINITY;
  const loop = async () => {
    while (Date.now() < stopAt) {
      const { status, at } = await probeOnce(portB, token.raw);
      if (status === 200 && at !== undefined) outcome.accepted.push(at);
      else if (status === 401) outcome.refused += 1;
    }
  };
  const loops = Array.from({ length: PROBE_LOOPS }, loop);
  await sleep(20);
  const revoked = await post<{ before: number; after: number; ok: boolean }>(
    portA,
    `/bench/revoke?id=${encodeURIComponent(token.id)}`,
  );
  if (!revoked.ok) outcome.valid = false;
  outcome.before = revoked.before;
  outcome.after = revoked.after;
  stopAt = revoked.after + REVOCATION_BOUND_MS + PROBE_TAIL_MS;
  await Promise.all(loops);
  return outcome;
}

export async function runRevocationPhase(
  tokens: readonly SeedToken[],
  load: LoadSpec,
  portA: number,
  portB: number,
): Promise<RevocationResult> {
  const spanMs = tokens.length * SPACING_MS + REVOCATION_BOUND_MS + PROBE_TAIL_MS + 1_500;
  const run = await startRun(load, [portA, portB], -1, Math.ceil(spanMs / 1000));
  await sleep(300);
  const outcomes = await Promise.all(
    tokens.map(async (token, i) => {
      await sleep(i * SPACING_MS);
      return probe(token, portA, portB);
    }),
  );
  run.stop();
  const count = (pick: (o: ProbeOutcome) => number) => outcomes.reduce((n, o) => n + pick(o), 0);
  return {
    revocations: tokens.length,
    boundMs: REVOCATION_BOUND_MS,
    acceptedAfterCommit: count((o) => o.accepted.filter((at) => at > o.after).length),
    acceptedPastBound: count(
      (o) => o.accepted.filter((at) => at > o.before + REVOCATION_BOUND_MS).length,
    ),
    maxStaleMs: {
      atLeast: Math.max(0, ...outcomes.flatMap((o) => o.accepted.map((at) => at - o.after))),
      atMost: Math.max(0, ...outcomes.flatMap((o) => o.accepted.map((at) => at - o.before))),
    },
    brokenProbes: outcomes.filter((o) => !o.valid || o.refused === 0).length,
    load: await run.result,
  };
}
