/**
 * What recording a stack trace costs a refusal (issue 12): `DurinHttpException` built with and
 * without `captureStackTrace`, 30 frames deep (about where Nest's guard runs), interleaved over
 * three rounds. The refusals a client can provoke (401, 403, 429, 503) skip the trace; this is
 * the measurement behind that. Run:
 *   npx ts-node --transpile-only bench/error-micro.ts
 */
import { DurinHttpException } from '../lib';

const CALLS = 200_000;
const DEPTH = 30;

function atDepth(depth: number, build: () => Error): Error {
  return depth === 0 ? build() : atDepth(depth - 1, build);
}

function microsPerError(captureStackTrace: boolean): number {
  const build = () =>
    new DurinHttpException(401, 'token_invalid', 'Invalid token.', {}, { captureStackTrace });
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) atDepth(DEPTH, build);
  return Number(process.hrtime.bigint() - started) / CALLS / 1000;
}

const results: Record<'with' | 'without', number[]> = { with: [], without: [] };
for (let round = 0; round < 3; round++) {
  results.with.push(microsPerError(true));
  results.without.push(microsPerError(false));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[1];
for (const [name, values] of Object.entries(results)) {
  const shown = values.map((value) => value.toFixed(2)).join(', ');
  console.log(
    `${name.padEnd(8)} a stack trace: ${median(values).toFixed(2)} µs per error (${shown})`,
  );
}
