/** What to drop from the token caches of every instance. Never carries a token or a hash. */
export type InvalidationMessage =
  | { kind: 'token'; id: string }
  | { kind: 'family'; id: string }
  | { kind: 'user'; id: string }
  | { kind: 'all' };

/** Callbacks a channel reports to. */
export interface InvalidationListener {
  /** A raw payload arrived (possibly from another app on the same channel: validate it). */
  message(payload: string): void;
  /**
   * The subscription went up or down. While it is down, messages may be missed, so the cache must
   * not be trusted (the caller bypasses and clears it).
   */
  health(up: boolean): void;
}

/** A pub/sub transport between the instances of one app. */
export interface InvalidationChannel {
  /** `'postgres'` or `'redis'`. */
  readonly kind: string;
  /** Subscribes; resolves once the first attempt finished (up or not; retries go on in the background). */
  start(listener: InvalidationListener): Promise<void>;
  publish(payload: string): Promise<void>;
  close(): Promise<void>;
}

const KIND_CODES = { token: 't', family: 'f', user: 'u', all: 'a' } as const;
const CODE_KINDS: Record<string, InvalidationMessage['kind']> = {
  t: 'token',
  f: 'family',
  u: 'user',
  a: 'all',
};
const MAX_ID_LENGTH = 256;

/** Wire format: small JSON with the sender's id, so an instance can skip its own messages. */
export function encodeInvalidation(origin: string, message: InvalidationMessage): string {
  return JSON.stringify({
    v: 1,
    o: origin,
    k: KIND_CODES[message.kind],
    ...(message.kind === 'all' ? {} : { i: message.id }),
  });
}

/** The message in `payload`, or `null` for anything that is not one of ours. */
export function decodeInvalidation(
  payload: string,
): { origin: string; message: InvalidationMessage } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object') return null;
  const { v, o, k, i } = parsed as Record<string, unknown>;
  if (v !== 1 || typeof o !== 'string' || typeof k !== 'string') return null;
  const kind = CODE_KINDS[k];
  if (kind === undefined) return null;
  if (kind === 'all') return { origin: o, message: { kind } };
  if (typeof i !== 'string' || i.length === 0 || i.length > MAX_ID_LENGTH) return null;
  return { origin: o, message: { kind, id: i } };
}

/** Rejects after `ms` so a stalled connection cannot hang a caller. */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** How often a channel checks that its subscription connection still answers. */
export const CHANNEL_HEALTH_INTERVAL_MS = 1_000;
/** How long that check may take before the channel counts as down. */
export const CHANNEL_HEALTH_TIMEOUT_MS = 1_000;
/** Reconnect back-off bounds. */
export const CHANNEL_RETRY_MIN_MS = 100;
export const CHANNEL_RETRY_MAX_MS = 5_000;
