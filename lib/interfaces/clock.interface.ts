/**
 * The single source of time for every expiry decision (SECURITY-CHECKLIST REQ-EXP-05).
 *
 * Provide your own under `DURIN_CLOCK` to move time in tests or to align several instances.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}
