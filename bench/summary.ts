/** Medians and spreads over rounds, and ratios to another case of the same round. */
import type { Measurement } from './measure';

/** Median and min–max of a series (NaN when empty). */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread {
  const finite = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (finite.length === 0) return { median: NaN, min: NaN, max: NaN };
  const mid = Math.floor(finite.length / 2);
  const median = finite.length % 2 === 1 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
  return { median, min: finite[0], max: finite[finite.length - 1] };
}

export type Pick = (m: Measurement) => number;

/**
 * Per round, `pick(a) / pick(b)` of the same round (the rounds interleave the cases, so a ratio
 * cancels most of what the machine did meanwhile); their median and min–max.
 */
export function roundRatio(
  a: readonly Measurement[],
  b: readonly Measurement[],
  pick: Pick,
): Spread {
  const byRound = new Map(b.map((m) => [m.round, m]));
  return spread(
    a.flatMap((m) => {
      const other = byRound.get(m.round);
      return other === undefined ? [] : [pick(m) / pick(other)];
    }),
  );
}

export function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

/** `median (min–max)`, or the median alone with one round. */
export function formatSpread(s: Spread, digits = 2): string {
  if (!Number.isFinite(s.median)) return '-';
  if (s.min === s.max) return fixed(s.median, digits);
  return `${fixed(s.median, digits)} (${fixed(s.min, digits)}–${fixed(s.max, digits)})`;
}
